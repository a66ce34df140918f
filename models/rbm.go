package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/graph"
)

// RBM is a Bernoulli–Bernoulli restricted Boltzmann machine with energy
//
//	E(v,h) = -bᵀv - cᵀh - vᵀWh,   v ∈ {0,1}^nv, h ∈ {0,1}^nh
//
// (Smolensky 1986; Hinton 2002). W is (nv, nh), B (nv) the visible biases, C (nh) the hidden
// biases, all contiguous dense tensors of one dtype, Float32 or Float64. Visible values in [0,1]
// (e.g. grey levels) are accepted as data, as in most RBM code.
//
// An RBM satisfies optim.Model: optim.Train updates W, B and C in place.
type RBM struct {
	W, B, C *tensor.Dense
	name    string
}

var modelCount atomic.Int64

// uniqueName gives every model's graph nodes their own names, since Gorgonia merges input nodes
// with equal names and shapes.
func uniqueName(kind string) string { return fmt.Sprintf("%s%d", kind, modelCount.Add(1)) }

// WeightStd is the standard deviation of the initial weights: W ~ N(0, 0.01²) as in Hinton's
// practical guide (2010, §8).
const WeightStd = 0.01

// NewRBM returns an RBM with nv visible and nh hidden units, weights drawn from N(0, WeightStd²)
// with src (math/rand/v2) in row-major order, and zero biases. dt is tensor.Float32 or
// tensor.Float64. See InitVisibleBiases for the guide's data-dependent visible biases.
func NewRBM(nv, nh int, dt tensor.Dtype, src rand.Source) (*RBM, error) {
	if nv < 1 || nh < 1 {
		return nil, fmt.Errorf("models: RBM sizes must be ≥ 1, got %d visible and %d hidden units", nv, nh)
	}
	if err := checkDtype(dt); err != nil {
		return nil, err
	}
	if src == nil {
		return nil, errors.New("models: nil rand.Source for the initial weights")
	}
	rng := rand.New(src)
	w := tensor.New(tensor.WithShape(nv, nh), tensor.Of(dt))
	switch d := w.Data().(type) {
	case []float64:
		for i := range d {
			d[i] = WeightStd * rng.NormFloat64()
		}
	case []float32:
		for i := range d {
			d[i] = float32(WeightStd * rng.NormFloat64())
		}
	}
	return &RBM{
		W:    w,
		B:    tensor.New(tensor.WithShape(nv), tensor.Of(dt)),
		C:    tensor.New(tensor.WithShape(nh), tensor.Of(dt)),
		name: uniqueName("rbm"),
	}, nil
}

// NewRBMFromParams wraps existing parameters (not copied): W (nv, nh), B (nv), C (nh) of one
// float dtype, all values finite.
func NewRBMFromParams(w, b, c *tensor.Dense) (*RBM, error) {
	m := &RBM{W: w, B: b, C: c, name: uniqueName("rbm")}
	if err := m.Check(); err != nil {
		return nil, err
	}
	return m, nil
}

func checkDtype(dt tensor.Dtype) error {
	if dt.Eq(tensor.Float32) || dt.Eq(tensor.Float64) {
		return nil
	}
	return fmt.Errorf("models: dtype %v is not supported; use tensor.Float32 or tensor.Float64", dt)
}

// Check reports whether the parameters have consistent shapes, one float dtype and finite values.
func (m *RBM) Check() error {
	if m == nil || m.W == nil || m.B == nil || m.C == nil {
		return errors.New("models: RBM needs W, B and C")
	}
	if err := checkDtype(m.W.Dtype()); err != nil {
		return err
	}
	ws := m.W.Shape()
	if ws.Dims() != 2 || ws[0] < 1 || ws[1] < 1 {
		return fmt.Errorf("models: RBM W must be a non-empty (nv, nh) matrix, has shape %v", ws)
	}
	for _, p := range []struct {
		name string
		t    *tensor.Dense
		n    int
	}{{"B (visible biases)", m.B, ws[0]}, {"C (hidden biases)", m.C, ws[1]}} {
		if s := p.t.Shape(); s.Dims() != 1 || s[0] != p.n {
			return fmt.Errorf("models: RBM %s must have shape (%d), has %v", p.name, p.n, s)
		}
		if !p.t.Dtype().Eq(m.W.Dtype()) {
			return fmt.Errorf("models: RBM %s has dtype %v but W has %v", p.name, p.t.Dtype(), m.W.Dtype())
		}
	}
	for _, p := range []struct {
		name string
		t    *tensor.Dense
	}{{"W", m.W}, {"B", m.B}, {"C", m.C}} {
		for i, v := range floats(p.t) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("models: RBM %s entry %d is %v (non-finite)", p.name, i, v)
			}
		}
	}
	return nil
}

// Dtype is the model's dtype.
func (m *RBM) Dtype() tensor.Dtype { return m.W.Dtype() }

// NumVisible is nv.
func (m *RBM) NumVisible() int { return m.W.Shape()[0] }

// NumHidden is nh.
func (m *RBM) NumHidden() int { return m.W.Shape()[1] }

// visibleBiasClip bounds the pixel marginals used by InitVisibleBiases away from 0 and 1.
const visibleBiasClip = 1e-3

// InitVisibleBiases sets b_i = log(p_i / (1 - p_i)), where p_i is the mean of column i of data
// (N, nv), clipped to [1e-3, 1 - 1e-3] so that no bias is infinite (Hinton 2010, §8).
func (m *RBM) InitVisibleBiases(data *tensor.Dense) error {
	if err := m.CheckData(data); err != nil {
		return err
	}
	nv := m.NumVisible()
	x := floats(data)
	rows := len(x) / nv
	p := make([]float64, nv)
	for r := 0; r < rows; r++ {
		for i, v := range x[r*nv : (r+1)*nv] {
			p[i] += v
		}
	}
	for i := range p {
		q := min(max(p[i]/float64(rows), visibleBiasClip), 1-visibleBiasClip)
		p[i] = math.Log(q / (1 - q))
	}
	setFloats(m.B, p)
	return nil
}

// CheckData verifies that x is a non-empty (N, nv) matrix of the model's dtype whose values all lie
// in [0,1] (Bernoulli visible units). An error names the first bad row, column and value.
func (m *RBM) CheckData(x *tensor.Dense) error {
	if err := datasets.CheckMatrix("data", x, m.NumVisible(), m.Dtype()); err != nil {
		return errors.Wrap(err, "models")
	}
	nv := m.NumVisible()
	for i, v := range floats(x) {
		if v < 0 || v > 1 {
			return fmt.Errorf("models: data row %d column %d is %v, outside [0,1]: Bernoulli visible units need binary or [0,1] values; rescale the data (e.g. divide by the maximum) or use Gaussian visible units for real-valued data", i/nv, i%nv, v)
		}
	}
	return nil
}

// Bind adds W, B and C to g as input nodes whose values are the model's own tensors.
func (m *RBM) Bind(g *G.ExprGraph) (graph.EnergyModel, error) {
	return m.bind(g)
}

func (m *RBM) bind(g *G.ExprGraph) (*BoundRBM, error) {
	if err := m.Check(); err != nil {
		return nil, err
	}
	if g == nil {
		return nil, errors.New("models: nil graph")
	}
	dt := m.Dtype()
	p := graph.RBM{
		W: G.NewMatrix(g, dt, G.WithShape(m.W.Shape().Clone()...), G.WithName(m.name+".W"), G.WithValue(m.W)),
		B: G.NewVector(g, dt, G.WithShape(m.NumVisible()), G.WithName(m.name+".b"), G.WithValue(m.B)),
		C: G.NewVector(g, dt, G.WithShape(m.NumHidden()), G.WithName(m.name+".c"), G.WithValue(m.C)),
	}
	return &BoundRBM{RBM: p}, nil
}

// BoundRBM is an RBM whose parameters are nodes of one graph: a graph.EnergyModel and a
// graph.Reconstructor.
type BoundRBM struct {
	graph.RBM
}

// Params returns W, B, C.
func (b *BoundRBM) Params() G.Nodes { return G.Nodes{b.W, b.B, b.C} }

// FreeEnergy returns F(v) (batch) for v (batch, nv): see graph.FreeEnergy.
func (b *BoundRBM) FreeEnergy(v *G.Node) (*G.Node, error) { return graph.FreeEnergy(b.RBM, v) }

// GibbsStep returns v' after one block-Gibbs step v → h → v' (samples drawn from src).
func (b *BoundRBM) GibbsStep(v *G.Node, src rand.Source) (*G.Node, error) {
	next, _, err := graph.GibbsStep(b.RBM, v, src)
	return next, err
}

// GibbsStepMean returns p(v'=1|h) for h ~ p(h|v), a stop-gradient (graph.GibbsStepMean).
func (b *BoundRBM) GibbsStepMean(v *G.Node, src rand.Source) (*G.Node, error) {
	next, _, err := graph.GibbsStepMean(b.RBM, v, src)
	return next, err
}

// ReconstructionLogits returns b + σ(c + vW)Wᵀ (batch, nv): the logits of the mean-field
// reconstruction p(v' = 1 | h = E[h|v]).
func (b *BoundRBM) ReconstructionLogits(v *G.Node) (*G.Node, error) {
	ph, err := graph.HiddenProbs(b.RBM, v)
	if err != nil {
		return nil, err
	}
	return graph.VisibleLogits(b.RBM, ph)
}

// floats returns a float tensor's values as float64s (a copy for float32, the backing otherwise).
func floats(x *tensor.Dense) []float64 {
	switch d := x.Data().(type) {
	case []float64:
		return d
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	}
	return nil
}

// setFloats stores v into x's backing (rounding for float32).
func setFloats(x *tensor.Dense, v []float64) {
	switch d := x.Data().(type) {
	case []float64:
		copy(d, v)
	case []float32:
		for i := range d {
			d[i] = float32(v[i])
		}
	}
}
