package models

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/graph"
)

// GaussianHiddenRBM is an RBM with binary visible units and linear hidden units with unit-variance
// Gaussian noise, energy
//
//	E(v,h) = -bᵀv - cᵀh - vᵀWh + ½‖h‖²,   v ∈ {0,1}^nv, h ∈ ℝ^nh
//
// (graph.GaussianHiddenRBM): p(h|v) = N(c + vW, I), p(v_i = 1|h) = σ(b_i + (hWᵀ)_i). It is the
// top RBM of the deep autoencoder of Hinton & Salakhutdinov (2006), "Reducing the dimensionality
// of data with neural networks", Science 313, whose real-valued code units are its hidden means
// c + vW. W is (nv, nh), B (nv), C (nh), contiguous dense tensors of one dtype (Float32 or
// Float64). Visible data take values in [0,1] (the probabilities of the layer below).
//
// It satisfies optim.Model, so optim.Train trains it with CD-k (with
// CD{VisibleProbabilities: true}, the reconstruction of Hinton & Salakhutdinov's code: sampled
// linear hidden states, visible probabilities). Linear units want a learning rate about 100 times
// smaller than binary ones (their code uses 0.001 against 0.1; Hinton 2010, §13.2).
type GaussianHiddenRBM struct {
	W, B, C *tensor.Dense
	name    string
}

// NewGaussianHiddenRBM returns a model with nv visible and nh hidden units, W ~ N(0, WeightStd²)
// drawn from src in row-major order (as NewRBM) and zero biases.
func NewGaussianHiddenRBM(nv, nh int, dt tensor.Dtype, src rand.Source) (*GaussianHiddenRBM, error) {
	r, err := NewRBM(nv, nh, dt, src)
	if err != nil {
		return nil, err
	}
	return &GaussianHiddenRBM{W: r.W, B: r.B, C: r.C, name: uniqueName("ghrbm")}, nil
}

// NewGaussianHiddenRBMFromParams wraps existing parameters (not copied): W (nv, nh), B (nv),
// C (nh) of one float dtype, all values finite.
func NewGaussianHiddenRBMFromParams(w, b, c *tensor.Dense) (*GaussianHiddenRBM, error) {
	m := &GaussianHiddenRBM{W: w, B: b, C: c, name: uniqueName("ghrbm")}
	if err := m.Check(); err != nil {
		return nil, err
	}
	return m, nil
}

// rbm views the parameters as a Bernoulli RBM (shared tensors) for the checks they have in
// common.
func (m *GaussianHiddenRBM) rbm() *RBM {
	if m == nil {
		return nil
	}
	return &RBM{W: m.W, B: m.B, C: m.C, name: m.name}
}

// Check reports whether the parameters have consistent shapes, one float dtype and finite values.
func (m *GaussianHiddenRBM) Check() error {
	if err := m.rbm().Check(); err != nil {
		return errors.Wrap(err, "GaussianHiddenRBM")
	}
	return nil
}

// Dtype is the model's dtype.
func (m *GaussianHiddenRBM) Dtype() tensor.Dtype { return m.W.Dtype() }

// NumVisible is nv.
func (m *GaussianHiddenRBM) NumVisible() int { return m.W.Shape()[0] }

// NumHidden is nh, the code size.
func (m *GaussianHiddenRBM) NumHidden() int { return m.W.Shape()[1] }

// CheckData verifies that x is a non-empty (N, nv) matrix of the model's dtype with values in
// [0,1] (as RBM.CheckData).
func (m *GaussianHiddenRBM) CheckData(x *tensor.Dense) error { return m.rbm().CheckData(x) }

// InitVisibleBiases sets b_i = log(p_i/(1-p_i)) from the column means of data (as
// RBM.InitVisibleBiases).
func (m *GaussianHiddenRBM) InitVisibleBiases(data *tensor.Dense) error {
	return m.rbm().InitVisibleBiases(data)
}

// Bind adds W, B and C to g as input nodes whose values are the model's own tensors and returns
// a *BoundGaussianHiddenRBM.
func (m *GaussianHiddenRBM) Bind(g *G.ExprGraph) (graph.EnergyModel, error) { return m.bind(g) }

func (m *GaussianHiddenRBM) bind(g *G.ExprGraph) (*BoundGaussianHiddenRBM, error) {
	if err := m.Check(); err != nil {
		return nil, err
	}
	if g == nil {
		return nil, errors.New("models: nil graph")
	}
	if m.name == "" {
		m.name = uniqueName("ghrbm")
	}
	dt, nv, nh := m.Dtype(), m.NumVisible(), m.NumHidden()
	p := graph.GaussianHiddenRBM{
		W: G.NewMatrix(g, dt, G.WithShape(nv, nh), G.WithName(m.name+".W"), G.WithValue(m.W)),
		B: G.NewVector(g, dt, G.WithShape(nv), G.WithName(m.name+".b"), G.WithValue(m.B)),
		C: G.NewVector(g, dt, G.WithShape(nh), G.WithName(m.name+".c"), G.WithValue(m.C)),
	}
	return &BoundGaussianHiddenRBM{GaussianHiddenRBM: p}, nil
}

// BoundGaussianHiddenRBM is a GaussianHiddenRBM in a graph: a graph.EnergyModel,
// graph.MeanStepper and graph.Reconstructor.
type BoundGaussianHiddenRBM struct {
	graph.GaussianHiddenRBM
}

// Params returns W, B, C.
func (b *BoundGaussianHiddenRBM) Params() G.Nodes { return G.Nodes{b.W, b.B, b.C} }

// GibbsStep returns a sample v' after v → h ~ N(c + vW, I) → v'.
func (b *BoundGaussianHiddenRBM) GibbsStep(v *G.Node, src rand.Source) (*G.Node, error) {
	next, _, err := b.GaussianHiddenRBM.GibbsStep(v, src)
	return next, err
}

// GibbsStepMean returns σ(b + hWᵀ) for h ~ N(c + vW, I), a stop-gradient.
func (b *BoundGaussianHiddenRBM) GibbsStepMean(v *G.Node, src rand.Source) (*G.Node, error) {
	next, _, err := b.GaussianHiddenRBM.GibbsStepMean(v, src)
	return next, err
}

func (m *GaussianHiddenRBM) infer(x *tensor.Dense, build func(b *BoundGaussianHiddenRBM, v *G.Node) (*G.Node, error)) (*tensor.Dense, error) {
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

// HiddenMean returns the code E[h|v] = c + vW for every row of v (N, nv), shape (N, nh), model
// dtype.
func (m *GaussianHiddenRBM) HiddenMean(v *tensor.Dense) (*tensor.Dense, error) {
	return m.infer(v, func(b *BoundGaussianHiddenRBM, v *G.Node) (*G.Node, error) { return b.HiddenMean(v) })
}

// Reconstruct returns the mean-field reconstruction p(v' = 1 | h = E[h|v]) = σ(b + (c + vW)Wᵀ)
// for every row of v (N, nv), shape (N, nv).
func (m *GaussianHiddenRBM) Reconstruct(v *tensor.Dense) (*tensor.Dense, error) {
	return m.infer(v, func(b *BoundGaussianHiddenRBM, v *G.Node) (*G.Node, error) {
		h, err := b.HiddenMean(v)
		if err != nil {
			return nil, err
		}
		return b.VisibleProbs(h)
	})
}

// FreeEnergy returns F(v) = -bᵀv - ½‖c + vW‖² - (nh/2)·log 2π for every row of v (N, nv), in
// nats, computed in float64 outside any graph (a reference for the graph's value).
func (m *GaussianHiddenRBM) FreeEnergy(v *tensor.Dense) ([]float64, error) {
	if err := m.Check(); err != nil {
		return nil, err
	}
	if err := m.CheckData(v); err != nil {
		return nil, err
	}
	nv, nh := m.NumVisible(), m.NumHidden()
	w, b, c, x := floats(m.W), floats(m.B), floats(m.C), floats(v)
	rows := len(x) / nv
	out := make([]float64, rows)
	a := make([]float64, nh)
	for r := range out {
		row := x[r*nv : (r+1)*nv]
		copy(a, c)
		f := 0.0
		for i, vi := range row {
			f -= b[i] * vi
			if vi == 0 {
				continue
			}
			for j := range a {
				a[j] += vi * w[i*nh+j]
			}
		}
		for _, aj := range a {
			f -= 0.5 * aj * aj
		}
		out[r] = f - 0.5*float64(nh)*math.Log(2*math.Pi)
	}
	return out, nil
}

// LogZ returns the exact log partition function log Σ_v exp(-F(v)) by enumerating the 2^nv
// visible vectors, computed in float64, for nv ≤ MaxExactUnits (the hidden units are integrated
// out analytically, so only the visible layer is enumerated).
func (m *GaussianHiddenRBM) LogZ() (float64, error) {
	if err := m.Check(); err != nil {
		return 0, err
	}
	nv := m.NumVisible()
	if nv > MaxExactUnits {
		return 0, fmt.Errorf("models: exact log Z enumerates 2^%d visible vectors; at most %d visible units", nv, MaxExactUnits)
	}
	n := 1 << nv
	all := make([]float64, n*nv)
	for s := 0; s < n; s++ {
		for i := 0; i < nv; i++ {
			all[s*nv+i] = float64((s >> i) & 1)
		}
	}
	x := tensor.New(tensor.WithShape(n, nv), tensor.WithBacking(all))
	if !m.Dtype().Eq(tensor.Float64) {
		x = tensor.New(tensor.WithShape(n, nv), tensor.Of(m.Dtype()))
		setFloats(x, all)
	}
	f, err := m.FreeEnergy(x)
	if err != nil {
		return 0, err
	}
	mx := math.Inf(-1)
	for _, v := range f {
		mx = math.Max(mx, -v)
	}
	s := 0.0
	for _, v := range f {
		s += math.Exp(-v - mx)
	}
	return mx + math.Log(s), nil
}

// Save writes the model to path atomically in the versioned, checksummed model format (kind
// "GaussianHiddenRBM"; tensors W, b, c).
func (m *GaussianHiddenRBM) Save(path string) error {
	if err := m.Check(); err != nil {
		return err
	}
	a := newArchive("GaussianHiddenRBM", m.Dtype())
	a.put("W", m.W)
	a.put("b", m.B)
	a.put("c", m.C)
	return a.write(path)
}

// LoadGaussianHiddenRBM reads a model written by GaussianHiddenRBM.Save. A file that is not a
// model file, holds another kind of model, or is truncated or corrupt gives an error.
func LoadGaussianHiddenRBM(path string) (*GaussianHiddenRBM, error) {
	a, err := readArchive(path, "GaussianHiddenRBM")
	if err != nil {
		return nil, err
	}
	r, err := rbmFromArchive(a)
	if err != nil {
		return nil, fmt.Errorf("models: %s: %w", path, err)
	}
	return &GaussianHiddenRBM{W: r.W, B: r.B, C: r.C, name: uniqueName("ghrbm")}, nil
}
