package models

import (
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/graph"
)

// inferRows is the number of rows one inference graph handles; larger inputs are processed in
// chunks so memory stays bounded.
const inferRows = 1000

// infer evaluates build on x (N, nv) chunk by chunk with a compiled Gorgonia graph per chunk size
// and returns the concatenated output rows (N, ...) as a new tensor of the model's dtype.
func (m *RBM) infer(x *tensor.Dense, build func(b *BoundRBM, v *G.Node) (*G.Node, error)) (*tensor.Dense, error) {
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

// runRows evaluates build (which binds a model into g and adds an output for the input rows v)
// on x (N, nv), already validated, in chunks of inferRows rows, each with its own compiled graph,
// and returns the output rows concatenated, (N, ...), of dtype dt.
func runRows(x *tensor.Dense, dt tensor.Dtype, build func(g *G.ExprGraph, v *G.Node) (*G.Node, error)) (*tensor.Dense, error) {
	n, nv := x.Shape()[0], x.Shape()[1]
	var out *tensor.Dense
	var outRow int
	for start := 0; start < n; start += inferRows {
		rows := min(inferRows, n-start)
		chunk := sliceRows(x, start, rows)
		g := G.NewGraph()
		v := G.NewMatrix(g, dt, G.WithShape(rows, nv), G.WithName("v"), G.WithValue(chunk))
		y, err := build(g, v)
		if err != nil {
			return nil, err
		}
		var val G.Value
		G.Read(y, &val)
		vm := G.NewTapeMachine(g)
		err = vm.RunAll()
		vm.Close()
		if err != nil {
			return nil, errors.Wrap(err, "models: inference")
		}
		t, ok := val.(*tensor.Dense)
		if !ok {
			return nil, errors.New("models: inference produced no tensor")
		}
		if out == nil {
			shape := t.Shape().Clone()
			outRow = t.Shape().TotalSize() / rows
			shape[0] = n
			out = tensor.New(tensor.WithShape(shape...), tensor.Of(dt))
		}
		copyInto(out, start*outRow, t)
	}
	return out, nil
}

// sliceRows returns rows [start, start+rows) of x as a tensor sharing x's backing.
func sliceRows(x *tensor.Dense, start, rows int) *tensor.Dense {
	nv := x.Shape()[1]
	var backing any
	switch d := x.Data().(type) {
	case []float64:
		backing = d[start*nv : (start+rows)*nv]
	case []float32:
		backing = d[start*nv : (start+rows)*nv]
	}
	return tensor.New(tensor.WithShape(rows, nv), tensor.WithBacking(backing))
}

// copyInto copies src's values into dst starting at flat offset off.
func copyInto(dst *tensor.Dense, off int, src *tensor.Dense) {
	switch d := dst.Data().(type) {
	case []float64:
		copy(d[off:], src.Data().([]float64))
	case []float32:
		copy(d[off:], src.Data().([]float32))
	}
}

// HiddenProbs returns p(h_j = 1 | v) = σ(c_j + (vW)_j) for every row of v (N, nv): the features
// an RBM extracts, shape (N, nh), model dtype. v must have the model's dtype and values in [0,1].
func (m *RBM) HiddenProbs(v *tensor.Dense) (*tensor.Dense, error) {
	return m.infer(v, func(b *BoundRBM, v *G.Node) (*G.Node, error) { return graph.HiddenProbs(b.RBM, v) })
}

// FreeEnergy returns F(v) = -bᵀv - Σ_j softplus(c_j + (vW)_j) for every row of v (N, nv), shape
// (N), model dtype, in nats.
func (m *RBM) FreeEnergy(v *tensor.Dense) (*tensor.Dense, error) {
	return m.infer(v, func(b *BoundRBM, v *G.Node) (*G.Node, error) { return b.FreeEnergy(v) })
}

// Reconstruct returns the mean-field reconstruction p(v' = 1 | h = E[h|v]) = σ(b + σ(c + vW)Wᵀ)
// for every row of v (N, nv), shape (N, nv).
func (m *RBM) Reconstruct(v *tensor.Dense) (*tensor.Dense, error) {
	return m.infer(v, func(b *BoundRBM, v *G.Node) (*G.Node, error) {
		ph, err := graph.HiddenProbs(b.RBM, v)
		if err != nil {
			return nil, err
		}
		return graph.VisibleProbs(b.RBM, ph)
	})
}

// Sample runs k ≥ 1 steps of block Gibbs sampling v → h → v' from every row of v0 (N, nv) and
// returns the visible states after the last step, shape (N, nv), values in {0,1}. Every draw comes
// from src, so the same source state gives the same samples and repeated calls with one source
// continue its stream (case B06). Use RandomVisible for random starts.
func (m *RBM) Sample(v0 *tensor.Dense, k int, src rand.Source) (*tensor.Dense, error) {
	if k < 1 {
		return nil, errors.Errorf("models: Gibbs steps k = %d; want ≥ 1", k)
	}
	if src == nil {
		return nil, errors.New("models: nil rand.Source for Gibbs sampling")
	}
	return m.infer(v0, func(b *BoundRBM, v *G.Node) (*G.Node, error) {
		return graph.Chain(graph.RBMStep(b.RBM, src), v, k)
	})
}

// RandomVisible returns n visible vectors (n, nv) of the model's dtype whose entries are 0 or 1
// with probability 1/2 each, drawn from src: random starts for Sample.
func (m *RBM) RandomVisible(n int, src rand.Source) (*tensor.Dense, error) {
	if n < 1 {
		return nil, errors.Errorf("models: %d random visible vectors requested; want ≥ 1", n)
	}
	if src == nil {
		return nil, errors.New("models: nil rand.Source")
	}
	rng := rand.New(src)
	v := make([]float64, n*m.NumVisible())
	for i := range v {
		v[i] = float64(rng.Uint64() >> 63)
	}
	t := tensor.New(tensor.WithShape(n, m.NumVisible()), tensor.Of(m.Dtype()))
	setFloats(t, v)
	return t, nil
}
