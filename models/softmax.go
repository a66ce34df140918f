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

// SoftmaxRBM is a restricted Boltzmann machine with m softmax (K-way, one-of-K) visible units and
// nh binary hidden units: categorical data such as ratings, answers or symbols, every unit present
// in every row (see CFRBM for users who each rate a different subset). A visible row is one-hot
// per unit, (m·K) columns with unit i in columns i·K … i·K+K-1; W is (m·K, nh), B (m·K), C (nh),
// all Float32 or Float64, and
//
//	E(v,h) = -bᵀv - cᵀh - vᵀWh,   p(v_i = k | h) = softmax_k(b_ik + (Wh)_ik),   p(h_j=1|v) = σ(c_j + (vW)_j)
//
// (Salakhutdinov, Mnih & Hinton 2007, §2). It satisfies optim.Model, so optim.Train trains it with
// CD-k or PCD-k; its Gibbs step samples each unit with ops.Categorical. Use Settings.MonitorRows
// -1 (or ignore the pseudo-likelihood column): optim's one-bit pseudo-likelihood flips single bits,
// which leaves the one-hot states of softmax units.
type SoftmaxRBM struct {
	W, B, C *tensor.Dense
	K       int
	name    string
}

// NewSoftmaxRBM returns a SoftmaxRBM with units softmax units of k values each and nh hidden units,
// W ~ N(0, WeightStd²) drawn from src in row-major order and zero biases. dt is Float32 or Float64.
func NewSoftmaxRBM(units, k, nh int, dt tensor.Dtype, src rand.Source) (*SoftmaxRBM, error) {
	if units < 1 || k < 2 {
		return nil, fmt.Errorf("models: SoftmaxRBM needs ≥ 1 unit of ≥ 2 values, got %d units of %d", units, k)
	}
	r, err := NewRBM(units*k, nh, dt, src)
	if err != nil {
		return nil, err
	}
	return &SoftmaxRBM{W: r.W, B: r.B, C: r.C, K: k, name: uniqueName("smrbm")}, nil
}

// Dtype is the model's dtype.
func (m *SoftmaxRBM) Dtype() tensor.Dtype { return m.W.Dtype() }

// NumVisible is the number of visible columns, m·K.
func (m *SoftmaxRBM) NumVisible() int { return m.W.Shape()[0] }

// NumUnits is m, the number of softmax units.
func (m *SoftmaxRBM) NumUnits() int { return m.W.Shape()[0] / m.K }

// NumHidden is nh.
func (m *SoftmaxRBM) NumHidden() int { return m.W.Shape()[1] }

// Check reports whether the parameters are consistent (as RBM.Check) and K ≥ 2 divides W's rows.
func (m *SoftmaxRBM) Check() error {
	if m == nil {
		return errors.New("models: nil SoftmaxRBM")
	}
	if err := (&RBM{W: m.W, B: m.B, C: m.C}).Check(); err != nil {
		return err
	}
	if m.K < 2 || m.W.Shape()[0]%m.K != 0 {
		return fmt.Errorf("models: SoftmaxRBM with %d visible columns and K = %d: K must be ≥ 2 and divide the column count", m.W.Shape()[0], m.K)
	}
	return nil
}

// CheckData verifies that x is a non-empty (N, m·K) matrix of the model's dtype in which every
// unit is one-hot: K entries of 0 and 1 with exactly one 1. The error names the row and unit.
func (m *SoftmaxRBM) CheckData(x *tensor.Dense) error {
	if err := m.Check(); err != nil {
		return err
	}
	if err := datasets.CheckMatrix("data", x, m.NumVisible(), m.Dtype()); err != nil {
		return errors.Wrap(err, "models")
	}
	nv, k := m.NumVisible(), m.K
	v := floats(x)
	for lo := 0; lo < len(v); lo += k {
		ones := 0
		for j := lo; j < lo+k; j++ {
			switch v[j] {
			case 1:
				ones++
			case 0:
			default:
				return fmt.Errorf("models: data row %d column %d (unit %d) is %v: softmax units take one-hot values (a single 1 among each unit's %d columns)",
					lo/nv, j%nv, (lo%nv)/k, v[j], k)
			}
		}
		if ones != 1 {
			return fmt.Errorf("models: data row %d unit %d (columns %d..%d) has %d ones: softmax units need exactly one",
				lo/nv, (lo%nv)/k, lo%nv, lo%nv+k-1, ones)
		}
	}
	return nil
}

// InitVisibleBiases sets b_ik = log((n_ik + 1/K)/(N + 1)), the log of value k's smoothed
// frequency in unit i over the N rows of data (the softmax analogue of Hinton 2010, §8). Errors as
// CheckData.
func (m *SoftmaxRBM) InitVisibleBiases(data *tensor.Dense) error {
	if err := m.CheckData(data); err != nil {
		return err
	}
	nv := m.NumVisible()
	counts := make([]float64, nv)
	v := floats(data)
	for i, x := range v {
		counts[i%nv] += x
	}
	n := float64(len(v) / nv)
	for i := range counts {
		counts[i] = math.Log((counts[i] + 1/float64(m.K)) / (n + 1))
	}
	setFloats(m.B, counts)
	return nil
}

// Bind adds W, B and C to g as input nodes whose values are the model's own tensors and returns a
// graph.EnergyModel (a *BoundSoftmaxRBM).
func (m *SoftmaxRBM) Bind(g *G.ExprGraph) (graph.EnergyModel, error) {
	if err := m.Check(); err != nil {
		return nil, err
	}
	if g == nil {
		return nil, errors.New("models: nil graph")
	}
	if m.name == "" {
		m.name = uniqueName("smrbm")
	}
	dt := m.Dtype()
	p := graph.RBM{
		W: G.NewMatrix(g, dt, G.WithShape(m.W.Shape().Clone()...), G.WithName(m.name+".W"), G.WithValue(m.W)),
		B: G.NewVector(g, dt, G.WithShape(m.NumVisible()), G.WithName(m.name+".b"), G.WithValue(m.B)),
		C: G.NewVector(g, dt, G.WithShape(m.NumHidden()), G.WithName(m.name+".c"), G.WithValue(m.C)),
	}
	return &BoundSoftmaxRBM{SoftmaxRBM: graph.SoftmaxRBM{RBM: p, K: m.K}}, nil
}

// BoundSoftmaxRBM is a SoftmaxRBM whose parameters are nodes of one graph: a graph.EnergyModel and
// a graph.MeanStepper.
type BoundSoftmaxRBM struct {
	graph.SoftmaxRBM
}

// Params returns W, B, C.
func (b *BoundSoftmaxRBM) Params() G.Nodes { return G.Nodes{b.W, b.B, b.C} }

// GibbsStep returns v' after v → h ~ p(h|v) → v' ~ p(v|h) (softmax units sampled with ops.Categorical).
func (b *BoundSoftmaxRBM) GibbsStep(v *G.Node, src rand.Source) (*G.Node, error) {
	next, _, err := b.SoftmaxRBM.GibbsStep(v, src)
	return next, err
}

// GibbsStepMean returns p(v'|h) for h ~ p(h|v), a stop-gradient.
func (b *BoundSoftmaxRBM) GibbsStepMean(v *G.Node, src rand.Source) (*G.Node, error) {
	next, _, err := b.SoftmaxRBM.GibbsStepMean(v, src)
	return next, err
}

// hiddenInput returns c + vW for row v (len m·K), computed in float64.
func (m *SoftmaxRBM) hiddenInput(w, c, v []float64) []float64 {
	nh := m.NumHidden()
	a := append([]float64(nil), c...)
	for i, x := range v {
		if x == 0 {
			continue
		}
		row := w[i*nh : (i+1)*nh]
		for j := range a {
			a[j] += x * row[j]
		}
	}
	return a
}

// FreeEnergy returns F(v) = -bᵀv - Σ_j softplus(c_j + (vW)_j) for each row of x (N, m·K), in
// float64 whatever the model's dtype. Errors as CheckData.
func (m *SoftmaxRBM) FreeEnergy(x *tensor.Dense) ([]float64, error) {
	if err := m.CheckData(x); err != nil {
		return nil, err
	}
	w, b, c := floats(m.W), floats(m.B), floats(m.C)
	nv := m.NumVisible()
	v := floats(x)
	out := make([]float64, len(v)/nv)
	for r := range out {
		row := v[r*nv : (r+1)*nv]
		f := 0.0
		for i, x := range row {
			f -= b[i] * x
		}
		for _, a := range m.hiddenInput(w, c, row) {
			f -= ops.Softplus64(a)
		}
		out[r] = f
	}
	return out, nil
}

// HiddenProbs returns p(h_j = 1 | v) for each row of x (N, m·K), an (N, nh) Float64 matrix.
func (m *SoftmaxRBM) HiddenProbs(x *tensor.Dense) (*tensor.Dense, error) {
	if err := m.CheckData(x); err != nil {
		return nil, err
	}
	w, c := floats(m.W), floats(m.C)
	nv, nh := m.NumVisible(), m.NumHidden()
	v := floats(x)
	rows := len(v) / nv
	out := make([]float64, 0, rows*nh)
	for r := range rows {
		for _, a := range m.hiddenInput(w, c, v[r*nv:(r+1)*nv]) {
			out = append(out, ops.Sigmoid64(a))
		}
	}
	return tensor.New(tensor.WithShape(rows, nh), tensor.WithBacking(out)), nil
}

// VisibleProbs returns p(v_i = k | h) = softmax_k(b_ik + (Wh)_ik) for each row of h (N, nh) (binary
// states or probabilities; any float dtype), an (N, m·K) Float64 matrix whose unit groups sum to 1.
func (m *SoftmaxRBM) VisibleProbs(h *tensor.Dense) (*tensor.Dense, error) {
	if err := m.Check(); err != nil {
		return nil, err
	}
	nh, nv, k := m.NumHidden(), m.NumVisible(), m.K
	if h == nil || h.Shape().Dims() != 2 || h.Shape()[1] != nh || !(h.Dtype() == tensor.Float64 || h.Dtype() == tensor.Float32) {
		return nil, fmt.Errorf("models: SoftmaxRBM.VisibleProbs: h must be an (N, %d) float matrix", nh)
	}
	w, b := floats(m.W), floats(m.B)
	hv := floats(h)
	rows := h.Shape()[0]
	out := make([]float64, rows*nv)
	for r := range rows {
		hr, o := hv[r*nh:(r+1)*nh], out[r*nv:(r+1)*nv]
		for i := range nv {
			s := b[i]
			for j, x := range w[i*nh : (i+1)*nh] {
				s += x * hr[j]
			}
			o[i] = s
		}
		for lo := 0; lo < nv; lo += k {
			ops.Softmax64(o[lo:lo+k], o[lo:lo+k])
		}
	}
	return tensor.New(tensor.WithShape(rows, nv), tensor.WithBacking(out)), nil
}

// ExactLogZ returns log Z = log Σ_h exp(cᵀh) Π_i Σ_k exp(b_ik + (Wh)_ik), the sum running over the
// K^m one-hot visible configurations and the 2^nh hidden ones, by enumerating the hidden states
// (nh ≤ MaxExactUnits), in float64.
func (m *SoftmaxRBM) ExactLogZ() (float64, error) {
	if err := m.Check(); err != nil {
		return 0, err
	}
	nh, nv, k := m.NumHidden(), m.NumVisible(), m.K
	if nh > MaxExactUnits {
		return 0, fmt.Errorf("models: SoftmaxRBM.ExactLogZ enumerates the %d hidden units; at most %d are supported", nh, MaxExactUnits)
	}
	w, b, c := floats(m.W), floats(m.B), floats(m.C)
	terms := make([]float64, 0, 1<<nh)
	a := make([]float64, nv)
	for s := range 1 << nh {
		t := 0.0
		copy(a, b)
		for j := range nh {
			if s>>j&1 == 1 {
				t += c[j]
				for i := range nv {
					a[i] += w[i*nh+j]
				}
			}
		}
		for lo := 0; lo < nv; lo += k {
			t += logSumExp64(a[lo : lo+k])
		}
		terms = append(terms, t)
	}
	return logSumExp64(terms), nil
}

// LogLikelihood returns log p(v) = -F(v) - log Z for each row of x (exact; see ExactLogZ).
func (m *SoftmaxRBM) LogLikelihood(x *tensor.Dense) ([]float64, error) {
	f, err := m.FreeEnergy(x)
	if err != nil {
		return nil, err
	}
	z, err := m.ExactLogZ()
	if err != nil {
		return nil, err
	}
	for i := range f {
		f[i] = -f[i] - z
	}
	return f, nil
}

// logSumExp64 returns log Σ exp(x_i) without overflow (-Inf for an empty x).
func logSumExp64(x []float64) float64 {
	mx := math.Inf(-1)
	for _, v := range x {
		mx = math.Max(mx, v)
	}
	if math.IsInf(mx, 0) {
		return mx
	}
	s := 0.0
	for _, v := range x {
		s += math.Exp(v - mx)
	}
	return mx + math.Log(s)
}
