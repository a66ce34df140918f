package estimate

import (
	"errors"
	"fmt"
	"math"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/ops"
)

// BernoulliRBM is a float64 copy of the parameters of a Bernoulli–Bernoulli RBM with energy
//
//	E(v,h) = -bᵀv - cᵀh - vᵀWh,   v ∈ {0,1}^nv, h ∈ {0,1}^nh,
//
// the form this package evaluates: W is (nv, nh) row-major (W[i*nh+j] couples visible i and hidden
// j), B has nv visible biases and C nh hidden biases. Build it with NewBernoulliRBM from the
// tensors of a models.RBM (m.W, m.B, m.C); the estimators never modify it.
type BernoulliRBM struct {
	nv, nh  int
	w, b, c []float64
}

// NewBernoulliRBM copies W (nv, nh), B (nv) and C (nh), dense tensors of dtype Float32 or Float64
// (the dtypes may differ), into float64. Errors name a nil or mis-shaped tensor, an unsupported
// dtype or a non-finite entry.
func NewBernoulliRBM(w, b, c *tensor.Dense) (*BernoulliRBM, error) {
	if w == nil || b == nil || c == nil {
		return nil, errors.New("estimate: RBM needs W, B and C")
	}
	ws := w.Shape()
	if ws.Dims() != 2 || ws[0] < 1 || ws[1] < 1 {
		return nil, fmt.Errorf("estimate: RBM W must be a non-empty (nv, nh) matrix, has shape %v", ws)
	}
	nv, nh := ws[0], ws[1]
	if s := b.Shape(); s.Dims() != 1 || s[0] != nv {
		return nil, fmt.Errorf("estimate: RBM B (visible biases) must have shape (%d), has %v", nv, s)
	}
	if s := c.Shape(); s.Dims() != 1 || s[0] != nh {
		return nil, fmt.Errorf("estimate: RBM C (hidden biases) must have shape (%d), has %v", nh, s)
	}
	m := &BernoulliRBM{nv: nv, nh: nh}
	for _, p := range []struct {
		name string
		t    *tensor.Dense
		dst  *[]float64
	}{{"W", w, &m.w}, {"B", b, &m.b}, {"C", c, &m.c}} {
		x, err := copyFloats(p.t)
		if err != nil {
			return nil, fmt.Errorf("estimate: RBM %s: %w", p.name, err)
		}
		for i, v := range x {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("estimate: RBM %s entry %d is %v (non-finite)", p.name, i, v)
			}
		}
		*p.dst = x
	}
	return m, nil
}

// NumVisible is nv.
func (m *BernoulliRBM) NumVisible() int { return m.nv }

// NumHidden is nh.
func (m *BernoulliRBM) NumHidden() int { return m.nh }

// FreeEnergies returns F(v) = -bᵀv - Σ_j softplus(c_j + (vW)_j) in nats for every row of data
// (N, nv), a Float32 or Float64 matrix whose values lie in [0,1] (binary data for a likelihood).
// Errors name the shape, dtype, or the first row and column holding a value outside [0,1].
func (m *BernoulliRBM) FreeEnergies(data *tensor.Dense) ([]float64, error) {
	x, rows, err := m.checkData("data", data)
	if err != nil {
		return nil, err
	}
	out := make([]float64, rows)
	a := make([]float64, m.nh)
	for r := range out {
		out[r] = m.freeEnergy(x[r*m.nv:(r+1)*m.nv], a)
	}
	return out, nil
}

// freeEnergy returns F(v) for one row and leaves c + vW in a.
func (m *BernoulliRBM) freeEnergy(v, a []float64) float64 {
	copy(a, m.c)
	f := 0.0
	for i, vi := range v {
		if vi == 0 {
			continue
		}
		f -= m.b[i] * vi
		row := m.w[i*m.nh : (i+1)*m.nh]
		for j, w := range row {
			a[j] += vi * w
		}
	}
	for _, x := range a {
		f -= ops.Softplus64(x)
	}
	return f
}

// checkData verifies data is a non-empty (N, nv) Float32/Float64 matrix with values in [0,1] and
// returns it as float64 with its row count.
func (m *BernoulliRBM) checkData(name string, data *tensor.Dense) ([]float64, int, error) {
	if data == nil {
		return nil, 0, fmt.Errorf("estimate: %s is nil", name)
	}
	if err := datasets.CheckMatrix(name, data, m.nv, data.Dtype()); err != nil {
		return nil, 0, fmt.Errorf("estimate: %w", err)
	}
	x, err := copyFloats(data)
	if err != nil {
		return nil, 0, fmt.Errorf("estimate: %s: %w", name, err)
	}
	for i, v := range x {
		if v < 0 || v > 1 {
			return nil, 0, fmt.Errorf("estimate: %s row %d column %d is %v, outside [0,1]: Bernoulli visible units need binary values", name, i/m.nv, i%m.nv, v)
		}
	}
	return x, len(x) / m.nv, nil
}

// BaseRateClip bounds the pixel marginals used by BaseRateBiases away from 0 and 1, so that no
// base-rate bias is infinite (case B25 d).
const BaseRateClip = 1e-3

// BaseRateBiases returns the visible biases of the base-rate model of Salakhutdinov & Murray
// (2008): b_i = log(p_i / (1 - p_i)), where p_i is the mean of column i of data (N, nv), a
// Float32 or Float64 matrix with values in [0,1], clipped to [BaseRateClip, 1 - BaseRateClip]
// (about ±6.907 nats). A column that is always 0 (or always 1) therefore gets a finite bias.
func BaseRateBiases(data *tensor.Dense) ([]float64, error) {
	if data == nil {
		return nil, errors.New("estimate: base-rate data is nil")
	}
	s := data.Shape()
	if s.Dims() != 2 {
		return nil, fmt.Errorf("estimate: base-rate data must be an (N, nv) matrix, has shape %v", s)
	}
	nv := s[1]
	if err := datasets.CheckMatrix("base-rate data", data, nv, data.Dtype()); err != nil {
		return nil, fmt.Errorf("estimate: %w", err)
	}
	x, err := copyFloats(data)
	if err != nil {
		return nil, err
	}
	p := make([]float64, nv)
	for i, v := range x {
		if v < 0 || v > 1 {
			return nil, fmt.Errorf("estimate: base-rate data row %d column %d is %v, outside [0,1]", i/nv, i%nv, v)
		}
		p[i%nv] += v
	}
	rows := float64(len(x) / nv)
	for i := range p {
		q := min(max(p[i]/rows, BaseRateClip), 1-BaseRateClip)
		p[i] = math.Log(q / (1 - q))
	}
	return p, nil
}

// copyFloats returns a float64 copy of a contiguous Float32 or Float64 tensor.
func copyFloats(x *tensor.Dense) ([]float64, error) {
	if !x.IsNativelyAccessible() || x.RequiresIterator() {
		return nil, errors.New("must be a contiguous dense tensor (not a view); use Materialize()")
	}
	switch d := x.Data().(type) {
	case []float64:
		return append([]float64(nil), d...), nil
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("dtype %v is not supported; use Float32 or Float64", x.Dtype())
}
