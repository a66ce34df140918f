package models

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/graph"
	"github.com/ebm-go/ebm/ops"
)

// GaussianRBM is a Gaussian–Bernoulli RBM: real-valued visible units, binary hidden units, energy
//
//	E(v,h) = Σ_i (v_i - b_i)²/(2σ_i²) - cᵀh - Σ_ij (v_i/σ_i) W_ij h_j
//
// (Hinton & Salakhutdinov 2006; σ learned through log σ as in Cho, Ilin & Raiko 2011). W is
// (nv, nh), B (nv), C (nh), LogSigma (nv) = log σ, all one float dtype. With LearnSigma false
// (the default) σ is fixed: σ = 1 suits standardised data (Hinton 2010, §13.2); with LearnSigma
// set, the trainer updates LogSigma as well, so σ = exp(LogSigma) stays positive after any step.
//
// Standardizer, when set, holds the statistics the training data were standardised with; it is
// saved with the model so new data can be put on the same scale.
type GaussianRBM struct {
	W, B, C, LogSigma *tensor.Dense
	LearnSigma        bool
	Standardizer      *datasets.Standardizer
	name              string
}

// NewGaussianRBM returns a Gaussian–Bernoulli RBM with W ~ N(0, WeightStd²) drawn from src, zero
// biases and σ = 1.
func NewGaussianRBM(nv, nh int, dt tensor.Dtype, src rand.Source) (*GaussianRBM, error) {
	r, err := NewRBM(nv, nh, dt, src)
	if err != nil {
		return nil, err
	}
	return &GaussianRBM{W: r.W, B: r.B, C: r.C, LogSigma: tensor.New(tensor.WithShape(nv), tensor.Of(dt)), name: uniqueName("grbm")}, nil
}

// Dtype is the model's dtype.
func (m *GaussianRBM) Dtype() tensor.Dtype { return m.W.Dtype() }

// NumVisible is nv.
func (m *GaussianRBM) NumVisible() int { return m.W.Shape()[0] }

// NumHidden is nh.
func (m *GaussianRBM) NumHidden() int { return m.W.Shape()[1] }

// Sigma returns σ_i = exp(LogSigma_i).
func (m *GaussianRBM) Sigma() []float64 {
	ls := floats(m.LogSigma)
	out := make([]float64, len(ls))
	for i, l := range ls {
		out[i] = math.Exp(l)
	}
	return out
}

// SetSigma sets σ (nv positive finite values).
func (m *GaussianRBM) SetSigma(sigma []float64) error {
	if len(sigma) != m.NumVisible() {
		return fmt.Errorf("models: %d σ values for %d visible units", len(sigma), m.NumVisible())
	}
	ls := make([]float64, len(sigma))
	for i, s := range sigma {
		if !(s > 0) || math.IsInf(s, 0) {
			return fmt.Errorf("models: σ_%d = %v; want a finite value > 0", i, s)
		}
		ls[i] = math.Log(s)
	}
	setFloats(m.LogSigma, ls)
	return nil
}

// Check validates shapes, dtypes and finiteness of the parameters.
func (m *GaussianRBM) Check() error {
	r := &RBM{W: m.W, B: m.B, C: m.C}
	if err := r.Check(); err != nil {
		return err
	}
	if m.LogSigma == nil || m.LogSigma.Shape().Dims() != 1 || m.LogSigma.Shape()[0] != m.NumVisible() || !m.LogSigma.Dtype().Eq(m.Dtype()) {
		return fmt.Errorf("models: GaussianRBM LogSigma must be a (%d) vector of %v", m.NumVisible(), m.Dtype())
	}
	for i, v := range floats(m.LogSigma) {
		if !finite(v) {
			return fmt.Errorf("models: GaussianRBM log σ_%d is %v (non-finite)", i, v)
		}
	}
	return nil
}

// CheckData verifies that x is a non-empty (N, nv) matrix of the model's dtype with finite values
// (any real values are allowed).
func (m *GaussianRBM) CheckData(x *tensor.Dense) error {
	if err := datasets.CheckMatrix("data", x, m.NumVisible(), m.Dtype()); err != nil {
		return errors.Wrap(err, "models")
	}
	return nil
}

// VarianceWarnings compares each column's variance in x with σ_i² and returns one message per
// non-constant column where they differ by more than a factor of 10 (at most 5 messages, then a
// count): data on
// a scale σ does not match train badly. Standardise the data (datasets.FitStandardizer) with
// σ = 1, or learn σ.
func (m *GaussianRBM) VarianceWarnings(x *tensor.Dense) []string {
	if m.CheckData(x) != nil {
		return nil
	}
	nv := m.NumVisible()
	v := floats(x)
	rows := len(v) / nv
	sigma := m.Sigma()
	var out []string
	bad := 0
	for j := 0; j < nv; j++ {
		mean, sq := 0.0, 0.0
		for r := 0; r < rows; r++ {
			mean += v[r*nv+j]
		}
		mean /= float64(rows)
		for r := 0; r < rows; r++ {
			d := v[r*nv+j] - mean
			sq += d * d
		}
		variance, s2 := sq/float64(rows), sigma[j]*sigma[j]
		if variance == 0 {
			continue // a constant column carries no scale to compare
		}
		if variance > 10*s2 || variance < s2/10 {
			bad++
			if len(out) < 5 {
				out = append(out, fmt.Sprintf("column %d: data variance %.4g vs σ² = %.4g (more than 10× apart); standardise the data or learn σ", j, variance, s2))
			}
		}
	}
	if bad > len(out) {
		out = append(out, fmt.Sprintf("… %d columns in all have a variance more than 10× away from σ²", bad))
	}
	return out
}

// Bind adds W, B, C and LogSigma to g, aliasing the model's tensors.
func (m *GaussianRBM) Bind(g *G.ExprGraph) (graph.EnergyModel, error) { return m.bind(g) }

func (m *GaussianRBM) bind(g *G.ExprGraph) (*BoundGaussianRBM, error) {
	if err := m.Check(); err != nil {
		return nil, err
	}
	dt, nv := m.Dtype(), m.NumVisible()
	if m.name == "" {
		m.name = uniqueName("grbm")
	}
	p := graph.GaussianRBM{
		W:        G.NewMatrix(g, dt, G.WithShape(m.W.Shape().Clone()...), G.WithName(m.name+".W"), G.WithValue(m.W)),
		B:        G.NewVector(g, dt, G.WithShape(nv), G.WithName(m.name+".b"), G.WithValue(m.B)),
		C:        G.NewVector(g, dt, G.WithShape(m.NumHidden()), G.WithName(m.name+".c"), G.WithValue(m.C)),
		LogSigma: G.NewVector(g, dt, G.WithShape(nv), G.WithName(m.name+".logsigma"), G.WithValue(m.LogSigma)),
	}
	return &BoundGaussianRBM{GaussianRBM: p, learnSigma: m.LearnSigma}, nil
}

// BoundGaussianRBM is a GaussianRBM in a graph: a graph.EnergyModel and graph.MeanStepper.
type BoundGaussianRBM struct {
	graph.GaussianRBM
	learnSigma bool
}

// Params returns W, B, C, and LogSigma when σ is learned.
func (b *BoundGaussianRBM) Params() G.Nodes {
	if b.learnSigma {
		return G.Nodes{b.W, b.B, b.C, b.LogSigma}
	}
	return G.Nodes{b.W, b.B, b.C}
}

// GibbsStep returns a sample v' after v → h → v'.
func (b *BoundGaussianRBM) GibbsStep(v *G.Node, src rand.Source) (*G.Node, error) {
	next, _, err := b.GaussianRBM.GibbsStep(v, src)
	return next, err
}

// GibbsStepMean returns E[v'|h] after v → h. With a learned σ it is an error: noise-free
// reconstructions make the negative phase narrower than the model and drive σ upward.
func (b *BoundGaussianRBM) GibbsStepMean(v *G.Node, src rand.Source) (*G.Node, error) {
	if b.learnSigma {
		return nil, errors.New("models: mean-field (noise-free) reconstructions bias a learned σ upward; use sampled reconstructions (CD without VisibleProbabilities) when LearnSigma is set")
	}
	next, _, err := b.GaussianRBM.GibbsStepMean(v, src)
	return next, err
}

func (m *GaussianRBM) infer(x *tensor.Dense, build func(b *BoundGaussianRBM, v *G.Node) (*G.Node, error)) (*tensor.Dense, error) {
	if err := m.CheckData(x); err != nil {
		return nil, err
	}
	return runRows(x, m.Dtype(), func(g *G.ExprGraph, v *G.Node) (*G.Node, error) {
		b, err := m.bind(g)
		if err != nil {
			return nil, err
		}
		return build(b, v)
	})
}

// HiddenProbs returns p(h=1|v) (N, nh) for real-valued v (N, nv).
func (m *GaussianRBM) HiddenProbs(v *tensor.Dense) (*tensor.Dense, error) {
	return m.infer(v, func(b *BoundGaussianRBM, v *G.Node) (*G.Node, error) { return b.HiddenProbs(v) })
}

// Reconstruct returns the mean-field reconstruction E[v' | h = E[h|v]] = b + σ⊙(p(h|v)Wᵀ), (N, nv).
func (m *GaussianRBM) Reconstruct(v *tensor.Dense) (*tensor.Dense, error) {
	return m.infer(v, func(b *BoundGaussianRBM, v *G.Node) (*G.Node, error) {
		ph, err := b.HiddenProbs(v)
		if err != nil {
			return nil, err
		}
		return b.VisibleMean(ph)
	})
}

// Sample runs k ≥ 1 block-Gibbs steps from every row of v0 (N, nv) with draws from src and returns
// the final visible samples (N, nv).
func (m *GaussianRBM) Sample(v0 *tensor.Dense, k int, src rand.Source) (*tensor.Dense, error) {
	if k < 1 || src == nil {
		return nil, fmt.Errorf("models: Sample needs k ≥ 1 (got %d) and a rand.Source", k)
	}
	return m.infer(v0, func(b *BoundGaussianRBM, v *G.Node) (*G.Node, error) {
		step := func(v *G.Node) (*G.Node, error) { return b.GibbsStep(v, src) }
		return graph.Chain(step, v, k)
	})
}

// FreeEnergy returns F(v) = Σ_i (v_i-b_i)²/(2σ_i²) - Σ_j softplus(c_j + Σ_i v_i W_ij/σ_i) for every
// row of v (N, nv), in nats, computed in float64.
func (m *GaussianRBM) FreeEnergy(v *tensor.Dense) ([]float64, error) {
	if err := m.Check(); err != nil {
		return nil, err
	}
	if err := m.CheckData(v); err != nil {
		return nil, err
	}
	nv, nh := m.NumVisible(), m.NumHidden()
	w, b, c, sigma := floats(m.W), floats(m.B), floats(m.C), m.Sigma()
	x := floats(v)
	out := make([]float64, len(x)/nv)
	a := make([]float64, nh)
	for r := range out {
		row := x[r*nv : (r+1)*nv]
		copy(a, c)
		f := 0.0
		for i, vi := range row {
			d := (vi - b[i]) / sigma[i]
			f += d * d / 2
			s := vi / sigma[i]
			for j := 0; j < nh; j++ {
				a[j] += s * w[i*nh+j]
			}
		}
		for _, aj := range a {
			f -= ops.Softplus64(aj)
		}
		out[r] = f
	}
	return out, nil
}

// ExactLogZ returns the log partition function of the density, in nats, by enumerating the hidden
// states (nh ≤ MaxExactUnits) with the Gaussian integral over v in closed form:
//
//	log Z = (nv/2) log 2π + Σ_i log σ_i + log Σ_h exp(cᵀh + Σ_i (b_i/σ_i)(Wh)_i + |Wh|²/2).
func (m *GaussianRBM) ExactLogZ() (float64, error) {
	if err := m.Check(); err != nil {
		return 0, err
	}
	nv, nh := m.NumVisible(), m.NumHidden()
	if nh > MaxExactUnits {
		return 0, fmt.Errorf("models: exact log Z needs 2^%d hidden states; only up to %d hidden units are supported (use an AIS estimate)", nh, MaxExactUnits)
	}
	w, b, c, sigma := floats(m.W), floats(m.B), floats(m.C), m.Sigma()
	wh := make([]float64, nv) // (Wh)_i for the current h
	h := make([]bool, nh)
	lin := 0.0 // cᵀh
	term := func() float64 {
		t := lin
		for i, x := range wh {
			t += b[i]/sigma[i]*x + x*x/2
		}
		return t
	}
	best, sum := term(), 1.0
	for g := uint64(1); g < uint64(1)<<nh; g++ {
		j := trailingZeros(g)
		d := 1.0
		if h[j] {
			d = -1
		}
		h[j] = !h[j]
		lin += d * c[j]
		for i := range wh {
			wh[i] += d * w[i*nh+j]
		}
		t := term()
		if t > best {
			sum = sum*math.Exp(best-t) + 1
			best = t
		} else {
			sum += math.Exp(t - best)
		}
	}
	logZ := float64(nv)/2*math.Log(2*math.Pi) + best + math.Log(sum)
	for _, s := range sigma {
		logZ += math.Log(s)
	}
	return logZ, nil
}

// LogLikelihood returns the log density log p(v) = -F(v) - log Z of every row of v (N, nv), in
// nats, with the exact log Z.
func (m *GaussianRBM) LogLikelihood(v *tensor.Dense) ([]float64, error) {
	f, err := m.FreeEnergy(v)
	if err != nil {
		return nil, err
	}
	logZ, err := m.ExactLogZ()
	if err != nil {
		return nil, err
	}
	for i := range f {
		f[i] = -f[i] - logZ
	}
	return f, nil
}
