package models

import (
	"math"
	"runtime"
	"sync"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/estimate"
	"github.com/ebm-go/ebm/ops"
)

// MaxExactUnits bounds the smaller layer of an RBM whose partition function ExactLogZ computes by
// enumeration (2^MaxExactUnits states).
const MaxExactUnits = estimate.MaxExactUnits

// params64 holds an RBM's parameters as float64 slices; W row-major (nv, nh).
type params64 struct {
	nv, nh  int
	w, b, c []float64
}

func (m *RBM) params64() params64 {
	return params64{nv: m.NumVisible(), nh: m.NumHidden(), w: floats(m.W), b: floats(m.B), c: floats(m.C)}
}

// ExactLogZ returns log Z = log Σ_{v,h} exp(-E(v,h)) in nats, computed in float64 by enumerating
// the smaller layer (2^min(nv,nh) states) with a streaming log-sum-exp, so it never overflows; it
// delegates to estimate.ExactLogZ (parallel, deterministic). Error when the smaller layer has more
// than MaxExactUnits units: use an AIS estimate (estimate.AIS) then.
func (m *RBM) ExactLogZ() (float64, error) {
	if err := m.Check(); err != nil {
		return 0, err
	}
	e, err := estimate.NewBernoulliRBM(m.W, m.B, m.C)
	if err != nil {
		return 0, err
	}
	return estimate.ExactLogZ(e)
}

func trailingZeros(x uint64) int {
	n := 0
	for x&1 == 0 {
		x >>= 1
		n++
	}
	return n
}

// LogLikelihood returns log p(v) = -F(v) - log Z for every row of v (N, nv), in nats, using the
// exact log Z (see ExactLogZ for the size limit). Computed in float64.
func (m *RBM) LogLikelihood(v *tensor.Dense) ([]float64, error) {
	if err := m.CheckData(v); err != nil {
		return nil, err
	}
	logZ, err := m.ExactLogZ()
	if err != nil {
		return nil, err
	}
	p := m.params64()
	x := floats(v)
	out := make([]float64, len(x)/p.nv)
	a := make([]float64, p.nh)
	for r := range out {
		out[r] = -p.freeEnergy(x[r*p.nv:(r+1)*p.nv], a) - logZ
	}
	return out, nil
}

// freeEnergy computes F(v) for one row and leaves the hidden pre-activations c + vW in a.
func (p params64) freeEnergy(v, a []float64) float64 {
	copy(a, p.c)
	f := 0.0
	for i, vi := range v {
		if vi == 0 {
			continue
		}
		f -= p.b[i] * vi
		row := p.w[i*p.nh : (i+1)*p.nh]
		for j, w := range row {
			a[j] += vi * w
		}
	}
	for _, x := range a {
		f -= ops.Softplus64(x)
	}
	return f
}

// PseudoLikelihood returns the exact log pseudo-likelihood of every row of v (N, nv), summed over
// all bits: PL(v) = Σ_i log p(v_i | v_-i) = -Σ_i softplus(F(v) - F(v with bit i flipped)), in
// nats per row (a sum, not a mean: divide by nv for a per-bit figure). The flip of a value x is
// 1 - x, so grey levels in [0,1] are accepted as in scikit-learn's BernoulliRBM, whose
// score_samples is the one-bit estimator nv·log p(v_i|v_-i) of this sum for a random i.
//
// Computed in float64, O(nv·nh) per row, in parallel over rows. Flipping bit i changes each hidden
// pre-activation a_j by s·W_ij (s = 1 - 2v_i), and
// softplus(a + sW) - softplus(a) = log(σ(-a) + σ(a)·exp(sW)), a sum of two positive terms: one log
// per (i, j), no cancellation, with exp(±W) tabulated once for binary values.
func (m *RBM) PseudoLikelihood(v *tensor.Dense) ([]float64, error) {
	if err := m.CheckData(v); err != nil {
		return nil, err
	}
	p := m.params64()
	x := floats(v)
	out := make([]float64, len(x)/p.nv)
	up, down := make([]float64, len(p.w)), make([]float64, len(p.w))
	for k, w := range p.w {
		up[k], down[k] = math.Exp(w), math.Exp(-w)
	}
	workers := min(runtime.GOMAXPROCS(0), len(out))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			a := make([]float64, p.nh)
			sig, sigNeg := make([]float64, p.nh), make([]float64, p.nh)
			for r := w; r < len(out); r += workers {
				out[r] = p.pseudoLikelihoodRow(x[r*p.nv:(r+1)*p.nv], a, sig, sigNeg, up, down)
			}
		}(w)
	}
	wg.Wait()
	return out, nil
}

// maxTabulatedWeight bounds |s·W_ij| for the exp formulation; beyond it (where exp could
// overflow) the two softplus values are subtracted directly.
const maxTabulatedWeight = 600

func (p params64) pseudoLikelihoodRow(v, a, sig, sigNeg, up, down []float64) float64 {
	p.freeEnergy(v, a)
	for j, x := range a {
		sig[j], sigNeg[j] = ops.Sigmoid64(x), ops.Sigmoid64(-x)
	}
	pl := 0.0
	for i, vi := range v {
		s := 1 - 2*vi // change of v_i when it is flipped to 1 - v_i
		row := p.w[i*p.nh : (i+1)*p.nh]
		// d = F(v̄) - F(v) = -b_i s - Σ_j [softplus(a_j + s W_ij) - softplus(a_j)]
		d := -p.b[i] * s
		switch s {
		case 1, -1:
			tab := up[i*p.nh : (i+1)*p.nh]
			if s < 0 {
				tab = down[i*p.nh : (i+1)*p.nh]
			}
			for j, e := range tab {
				if math.Abs(row[j]) < maxTabulatedWeight {
					d -= math.Log(sigNeg[j] + sig[j]*e)
				} else {
					d -= ops.Softplus64(a[j]+s*row[j]) - ops.Softplus64(a[j])
				}
			}
		default:
			for j, w := range row {
				if sw := s * w; math.Abs(sw) < maxTabulatedWeight {
					d -= math.Log(sigNeg[j] + sig[j]*math.Exp(sw))
				} else {
					d -= ops.Softplus64(a[j]+sw) - ops.Softplus64(a[j])
				}
			}
		}
		pl -= ops.Softplus64(-d)
	}
	return pl
}
