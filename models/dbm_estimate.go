package models

import (
	"context"
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/estimate"
)

// BaseRateBiases returns the biases of the AIS base model of a DBM (length = the units of the
// even layers x_0, x_2, …, the visible side of AsRBM): for the visible layer the clipped pixel
// marginals of data (N, n_0) as in estimate.BaseRateBiases (Salakhutdinov & Murray 2008), and for
// each even hidden layer the same log-odds of the column means of its mean-field posterior on
// data (MeanField with s), clipped likewise. A base model close to the DBM's marginals over the
// annealed units makes AIS more accurate.
func (d *DBM) BaseRateBiases(data *tensor.Dense, s MeanFieldSettings) ([]float64, error) {
	if err := d.CheckData(data); err != nil {
		return nil, err
	}
	base, err := estimate.BaseRateBiases(data)
	if err != nil {
		return nil, err
	}
	if len(d.W) < 2 {
		return base, nil
	}
	mu, _, err := d.MeanField(data, s)
	if err != nil {
		return nil, err
	}
	for l := 2; l <= len(d.W); l += 2 {
		b, err := estimate.BaseRateBiases(mu[l-1])
		if err != nil {
			return nil, err
		}
		base = append(base, b...)
	}
	return base, nil
}

// AIS estimates the DBM's log partition function by annealed importance sampling (Salakhutdinov &
// Murray 2008; for DBMs, Salakhutdinov & Hinton 2009, §4). The DBM is annealed in its even/odd RBM
// form (AsRBM): the odd layers are summed out analytically in every intermediate distribution, the
// chain runs over the even layers (v, h2, …) with one block-Gibbs sweep even → odd → even per
// β, and the base model has independent even units with biases base (BaseRateBiases; nil means
// the uniform distribution) and no weights. This is the same estimator as annealing all layers
// with the odd ones marginalised (Rao-Blackwellised), hence of lower variance. See estimate.AIS
// for the settings, the result and what the estimate bounds.
func (d *DBM) AIS(ctx context.Context, base []float64, s estimate.Settings, src rand.Source) (*estimate.Result, error) {
	r, err := d.AsRBM()
	if err != nil {
		return nil, err
	}
	em, err := estimate.NewBernoulliRBM(r.W, r.B, r.C)
	if err != nil {
		return nil, err
	}
	path, err := estimate.NewBernoulliPath(em, base)
	if err != nil {
		return nil, errors.Wrap(err, "models: DBM AIS")
	}
	return estimate.AIS(ctx, path, s, src)
}

// BoundSummary is the mean variational lower bound on log p(v) of a data set.
type BoundSummary struct {
	// Mean is mean_n [-E(v_n, μ_n) + H(μ_n)] - log Z in nats: a lower bound on the mean test
	// log-probability when log Z is exact (with an AIS estimate of log Z it is an estimate of the
	// bound, Salakhutdinov & Hinton 2009, §4).
	Mean float64 `json:"mean"`
	// StdErr is the standard error of Mean over the rows (not including log Z's error).
	StdErr float64 `json:"std_err"`
	LogZ   float64 `json:"log_z"`
	Rows   int     `json:"rows"`
}

// MeanLowerBound returns LowerBound's mean over the rows of v (N, n_0) in chunks of 1000 rows.
func (d *DBM) MeanLowerBound(v *tensor.Dense, logZ float64, s MeanFieldSettings) (BoundSummary, error) {
	if err := d.CheckData(v); err != nil {
		return BoundSummary{}, err
	}
	n := v.Shape()[0]
	var all []float64
	for start := 0; start < n; start += 1000 {
		rows := min(1000, n-start)
		lb, err := d.LowerBound(sliceRows(v, start, rows), logZ, s)
		if err != nil {
			return BoundSummary{}, err
		}
		all = append(all, lb...)
	}
	var sum, sq float64
	for _, x := range all {
		sum += x
	}
	mean := sum / float64(n)
	for _, x := range all {
		sq += (x - mean) * (x - mean)
	}
	se := 0.0
	if n > 1 {
		se = math.Sqrt(sq / float64(n-1) / float64(n))
	}
	return BoundSummary{Mean: mean, StdErr: se, LogZ: logZ, Rows: n}, nil
}
