package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	gonum "gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MatVec adds a node computing x·w for x (batch, k) and w (k): out[r] = Σ_i x[r, i]·w[i], shape
// (batch), Float32 or Float64 — the linear term bᵀv of a free energy, for every row at once.
// It equals G.Mul(x, w) to rounding but never calls a BLAS: a product this small (78,400
// multiply-adds for MNIST's batch of 100) is cheaper in Go than the wake-up of OpenBLAS's
// threads, which then spin against ours (the OpenBLAS build's CD-1 epoch lost a second to it).
// Rows are dot products (gonum's vectorised kernel); the gradient with respect to w is
// xᵀg, computed by the row-gather kernels (each product rounded, summed in row order); the
// gradient with respect to x is the outer product g wᵀ. Grad can differentiate MatVec twice.
//
// Errors at construction: nil or non-float operands or mixed dtypes (ErrDtype), x not a matrix,
// w not a vector of x's column count (ErrShape).
func MatVec(x, w *G.Node) (*G.Node, error) {
	if err := checkFloat("MatVec", "x", x); err != nil {
		return nil, err
	}
	if err := checkFloat("MatVec", "w", w); err != nil {
		return nil, err
	}
	if !x.Dtype().Eq(w.Dtype()) {
		return nil, fmt.Errorf("%w: ops: MatVec: x is %v, w %v", ErrDtype, x.Dtype(), w.Dtype())
	}
	if _, err := matVecShape(x.Shape(), w.Shape()); err != nil {
		return nil, err
	}
	n, err := G.ApplyOp(&matVecOp{}, x, w)
	if err != nil {
		return nil, fmt.Errorf("ops: MatVec(%v, %v): %w", x, w, err)
	}
	return n, nil
}

func matVecShape(xs, ws tensor.Shape) (tensor.Shape, error) {
	if xs.Dims() != 2 || ws.Dims() != 1 || ws[0] != xs[1] {
		return nil, fmt.Errorf("%w: ops: MatVec: x %v must be a (batch, k) matrix and w %v a (k) vector", ErrShape, xs, ws)
	}
	return tensor.Shape{xs[0]}, nil
}

// matVecOp is the op of MatVec; deterministic, hash-consed, own output buffer.
type matVecOp struct{ out ownBuf }

var (
	_ G.Op   = (*matVecOp)(nil)
	_ G.SDOp = (*matVecOp)(nil)
)

func (op *matVecOp) Arity() int { return 2 }

func (op *matVecOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	v := G.TensorType{Dims: 1, Of: a}
	return hm.NewFnType(G.TensorType{Dims: 2, Of: a}, v, v)
}

func (op *matVecOp) InferShape(inputs ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapes("MatVec", 2, inputs)
	if err != nil {
		return nil, err
	}
	return matVecShape(ss[0], ss[1])
}

func (op *matVecOp) Do(inputs ...G.Value) (G.Value, error) {
	fs, err := flats("MatVec", 2, inputs)
	if err != nil {
		return nil, err
	}
	x, w := fs[0], fs[1]
	if x.dt != w.dt {
		return nil, fmt.Errorf("%w: ops: MatVec: values mix dtypes %v and %v", ErrDtype, x.dt, w.dt)
	}
	shape, err := matVecShape(x.shape, w.shape)
	if err != nil {
		return nil, err
	}
	rows, k := x.shape[0], x.shape[1]
	v, out := op.out.get(x.dt, shape...)
	var impl gonum.Implementation
	for r := range rows {
		if x.dt == tensor.Float64 {
			out.f64[r] = impl.Ddot(k, x.f64[r*k:(r+1)*k], 1, w.f64, 1)
		} else {
			out.f32[r] = impl.Sdot(k, x.f32[r*k:(r+1)*k], 1, w.f32, 1)
		}
	}
	return v, nil
}

func (op *matVecOp) ReturnsPtr() bool      { return false }
func (op *matVecOp) CallsExtern() bool     { return false }
func (op *matVecOp) OverwritesInput() int  { return -1 }
func (op *matVecOp) WriteHash(h hash.Hash) { fmt.Fprint(h, "ebm/ops.MatVec") }
func (op *matVecOp) Hashcode() uint32      { return hashOf(op) }
func (op *matVecOp) String() string        { return "MatVec" }

func (op *matVecOp) DiffWRT(inputs int) []bool { return allTrue(inputs) }

// SymDiff of y = x·w with upstream g (batch): dx = g wᵀ (batch, k), dw = xᵀ g (k).
func (op *matVecOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 2 {
		return nil, fmt.Errorf("ops: MatVec: SymDiff wants 2 inputs, got %d", len(inputs))
	}
	dx, err := G.OuterProd(grad, inputs[1])
	if err != nil {
		return nil, fmt.Errorf("ops: MatVec: SymDiff dx: %w", err)
	}
	dw, err := G.ApplyOp(&vecMatOp{}, inputs[0], grad)
	if err != nil {
		return nil, fmt.Errorf("ops: MatVec: SymDiff dw: %w", err)
	}
	return G.Nodes{dx, dw}, nil
}

// vecMatOp computes xᵀg for x (batch, k) and g (batch): out[i] = Σ_r g[r]·x[r, i], the weight
// gradient of MatVec, with the row-gather kernel (each product rounded, summed in r order).
type vecMatOp struct {
	out ownBuf
	idx []int32
}

var (
	_ G.Op   = (*vecMatOp)(nil)
	_ G.SDOp = (*vecMatOp)(nil)
)

func (op *vecMatOp) Arity() int { return 2 }

func (op *vecMatOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	v := G.TensorType{Dims: 1, Of: a}
	return hm.NewFnType(G.TensorType{Dims: 2, Of: a}, v, v)
}

func vecMatShape(xs, gs tensor.Shape) (tensor.Shape, error) {
	if xs.Dims() != 2 || gs.Dims() != 1 || gs[0] != xs[0] {
		return nil, fmt.Errorf("%w: ops: VecMat: x %v must be a (batch, k) matrix and g %v a (batch) vector", ErrShape, xs, gs)
	}
	return tensor.Shape{xs[1]}, nil
}

func (op *vecMatOp) InferShape(inputs ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapes("VecMat", 2, inputs)
	if err != nil {
		return nil, err
	}
	return vecMatShape(ss[0], ss[1])
}

func (op *vecMatOp) Do(inputs ...G.Value) (G.Value, error) {
	fs, err := flats("VecMat", 2, inputs)
	if err != nil {
		return nil, err
	}
	x, g := fs[0], fs[1]
	if x.dt != g.dt {
		return nil, fmt.Errorf("%w: ops: VecMat: values mix dtypes %v and %v", ErrDtype, x.dt, g.dt)
	}
	shape, err := vecMatShape(x.shape, g.shape)
	if err != nil {
		return nil, err
	}
	rows, k := x.shape[0], x.shape[1]
	v, out := op.out.get(x.dt, shape...)
	op.idx = rowIndices(op.idx, rows)
	if x.dt == tensor.Float64 {
		clear(out.f64)
		axpyRows64(out.f64, x.f64, k, op.idx, g.f64)
	} else {
		clear(out.f32)
		axpyRows32(out.f32, x.f32, k, op.idx, g.f32)
	}
	return v, nil
}

func (op *vecMatOp) ReturnsPtr() bool      { return false }
func (op *vecMatOp) CallsExtern() bool     { return false }
func (op *vecMatOp) OverwritesInput() int  { return -1 }
func (op *vecMatOp) WriteHash(h hash.Hash) { fmt.Fprint(h, "ebm/ops.VecMat") }
func (op *vecMatOp) Hashcode() uint32      { return hashOf(op) }
func (op *vecMatOp) String() string        { return "VecMat" }

func (op *vecMatOp) DiffWRT(inputs int) []bool { return allTrue(inputs) }

// SymDiff of y = xᵀg with upstream G (k): dx = g Gᵀ (batch, k), dg = x·G (batch).
func (op *vecMatOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 2 {
		return nil, fmt.Errorf("ops: VecMat: SymDiff wants 2 inputs, got %d", len(inputs))
	}
	dx, err := G.OuterProd(inputs[1], grad)
	if err != nil {
		return nil, fmt.Errorf("ops: VecMat: SymDiff dx: %w", err)
	}
	dg, err := G.ApplyOp(&matVecOp{}, inputs[0], grad)
	if err != nil {
		return nil, fmt.Errorf("ops: VecMat: SymDiff dg: %w", err)
	}
	return G.Nodes{dx, dg}, nil
}
