package ops

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Affine adds a node computing the affine map x·w + c: x is a (batch, k) matrix, w a (k, m)
// matrix and c an (m) vector (added to every row), all of one dtype, Float32 or Float64; the
// result is (batch, m). It equals G.BroadcastAdd(G.Mul(x, w), c, nil, []byte{0}) — bit for bit
// in the default (pure-Go, gonum) build, to rounding with another BLAS — and is faster when x
// has zeros: each row of the result is a sum of the rows of w that x's non-zero entries select
// (a product with a binary matrix is a gather-and-add, with no multiplication at all).
//
// The gradient is dx = g·wᵀ, dw = xᵀ·g (the same gather over x's non-zeros), dc = Σ_rows g.
//
// Errors at construction: nil or non-float nodes (ErrDtype), mixed dtypes, shapes that do not
// fit (ErrShape). Run errors: values whose shapes do not fit (ErrShape).
func Affine(x, w, c *G.Node) (*G.Node, error) { return applyAffine("Affine", false, x, w, c) }

// AffineT adds a node computing x·wᵀ + c: x is (batch, k), w is (m, k), c is (m); the result
// is (batch, m). It is the visible half of an RBM (b + h·Wᵀ for W of shape (nv, nh)) and equals
// BroadcastAdd(Mul(x, Transpose(w)), c) to rounding (the sums are taken in a different order
// from gonum's dot products). Zeros of x are skipped as in Affine; w is transposed into a buffer
// of the op at each run.
//
// The gradient is dx = g·w, dw = gᵀ·x, dc = Σ_rows g. Errors as for Affine.
func AffineT(x, w, c *G.Node) (*G.Node, error) { return applyAffine("AffineT", true, x, w, c) }

func applyAffine(name string, trans bool, x, w, c *G.Node) (*G.Node, error) {
	for _, in := range []struct {
		role string
		n    *G.Node
	}{{"x", x}, {"w", w}, {"c", c}} {
		if err := checkFloat(name, in.role, in.n); err != nil {
			return nil, err
		}
	}
	if x.Dtype() != w.Dtype() || c.Dtype() != w.Dtype() {
		return nil, fmt.Errorf("%w: %s: x %v, w %v and c %v mix dtypes", ErrDtype, name, x.Dtype(), w.Dtype(), c.Dtype())
	}
	if _, err := affineShape(name, trans, x.Shape(), w.Shape(), c.Shape()); err != nil {
		return nil, err
	}
	n, err := G.ApplyOp(&affineOp{trans: trans}, x, w, c)
	if err != nil {
		return nil, fmt.Errorf("ops: %s(%v, %v, %v): %w", name, x, w, c, err)
	}
	return n, nil
}

// affineShape returns the result shape of x·w + c (trans: x·wᵀ + c) or an ErrShape error.
func affineShape(name string, trans bool, xs, ws, cs tensor.Shape) (tensor.Shape, error) {
	if xs.Dims() != 2 || ws.Dims() != 2 {
		return nil, fmt.Errorf("%w: %s: x %v and w %v must be matrices", ErrShape, name, xs, ws)
	}
	k, m := ws[0], ws[1]
	if trans {
		k, m = m, k
	}
	if xs[1] != k {
		return nil, fmt.Errorf("%w: %s: x %v has %d columns, w %v needs %d", ErrShape, name, xs, xs[1], ws, k)
	}
	if cs.TotalSize() != m || cs.Dims() > 2 || cs.Dims() == 2 && cs[0] != 1 && cs[1] != 1 {
		return nil, fmt.Errorf("%w: %s: c %v must be a vector of %d entries", ErrShape, name, cs, m)
	}
	return tensor.Shape{xs[0], m}, nil
}

// affineOp is the op of Affine and AffineT. It is deterministic and hashes by kind only, so
// Gorgonia's hash-consing shares equal products (the hidden logits of a free energy and of a
// Gibbs step on the same v). It keeps its output and scratch buffers from run to run, so a
// running machine allocates nothing for it; one graph must be run by one machine at a time.
type affineOp struct {
	trans bool

	out  ownBuf
	s32  sparse[float32]
	s64  sparse[float64]
	wt32 blockPool[float32] // blocks of wᵀ, for AffineT
	wt64 blockPool[float64]
}

var (
	_ G.Op   = (*affineOp)(nil)
	_ G.SDOp = (*affineOp)(nil)
)

func (op *affineOp) name() string {
	if op.trans {
		return "AffineT"
	}
	return "Affine"
}

func (op *affineOp) Arity() int { return 3 }

func (op *affineOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	m := G.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(m, m, G.TensorType{Dims: 1, Of: a}, m)
}

func (op *affineOp) InferShape(inputs ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapes(op.name(), 3, inputs)
	if err != nil {
		return nil, err
	}
	return affineShape(op.name(), op.trans, ss[0], ss[1], ss[2])
}

func (op *affineOp) Do(inputs ...G.Value) (G.Value, error) {
	fs, err := flats(op.name(), 3, inputs)
	if err != nil {
		return nil, err
	}
	x, w, c := fs[0], fs[1], fs[2]
	if x.dt != w.dt || c.dt != w.dt {
		return nil, fmt.Errorf("%w: ops: %s: values mix dtypes %v, %v, %v", ErrDtype, op.name(), x.dt, w.dt, c.dt)
	}
	shape, err := affineShape(op.name(), op.trans, x.shape, w.shape, c.shape)
	if err != nil {
		return nil, err
	}
	rows, m, k := shape[0], shape[1], x.shape[1]
	v, out := op.out.get(x.dt, rows, m)
	if x.dt == tensor.Float64 {
		affine(out.f64, x.f64, w.f64, c.f64, rows, k, m, op.trans, &op.s64, &op.wt64)
	} else {
		affine(out.f32, x.f32, w.f32, c.f32, rows, k, m, op.trans, &op.s32, &op.wt32)
	}
	return v, nil
}

// affine sets out (rows, m) = x (rows, k) · w + c, where w is (k, m), or (m, k) and used
// transposed when trans is set (wt lends the scratch blocks of wᵀ).
func affine[T number](out, x, w, c []T, rows, k, m int, trans bool, s *sparse[T], wt *blockPool[T]) {
	// The compressed view counts x's non-zeros, which decides between a GEMM and the gathers.
	s.rowsOf(x, rows, k)
	switch cfg := denseFor(s.nnz, len(x)); {
	case cfg != nil:
		gemm(cfg, false, trans, rows, m, k, x, w, out)
	case trans:
		gatherProductT(out, s, rows, k, w, m, c, wt)
		return
	default:
		gatherProduct(out, s, rows, k, w, m, m, c)
		return
	}
	for r := range rows {
		o := out[r*m : (r+1)*m]
		for j, cj := range c[:m] {
			o[j] += cj
		}
	}
}

func (op *affineOp) ReturnsPtr() bool      { return false }
func (op *affineOp) CallsExtern() bool     { return false }
func (op *affineOp) OverwritesInput() int  { return -1 }
func (op *affineOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "ebm/ops.%s", op.name()) }
func (op *affineOp) Hashcode() uint32      { return hashOf(op) }
func (op *affineOp) String() string        { return op.name() }

// DiffWRT is true for x, w and c.
func (op *affineOp) DiffWRT(inputs int) []bool { return allTrue(inputs) }

// SymDiff returns dx, dw, dc for the gradient g of the result.
func (op *affineOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 3 {
		return nil, fmt.Errorf("ops: %s: SymDiff wants 3 inputs, got %d", op.name(), len(inputs))
	}
	x, w := inputs[0], inputs[1]
	dc, err := G.ApplyOp(&colSumOp{}, grad)
	if err != nil {
		return nil, fmt.Errorf("ops: %s: SymDiff dc: %w", op.name(), err)
	}
	var dx, dw *G.Node
	if op.trans {
		// y = x·wᵀ: dx = g·w, dw = gᵀ·x.
		if dx, err = G.Mul(grad, w); err != nil {
			return nil, fmt.Errorf("ops: %s: SymDiff dx: %w", op.name(), err)
		}
		if dw, err = G.ApplyOp(&outerOp{}, grad, x); err != nil {
			return nil, fmt.Errorf("ops: %s: SymDiff dw: %w", op.name(), err)
		}
	} else {
		// y = x·w: dx = g·wᵀ, dw = xᵀ·g.
		wt, err := G.Transpose(w)
		if err != nil {
			return nil, fmt.Errorf("ops: %s: SymDiff dx: %w", op.name(), err)
		}
		if dx, err = G.Mul(grad, wt); err != nil {
			return nil, fmt.Errorf("ops: %s: SymDiff dx: %w", op.name(), err)
		}
		if dw, err = G.ApplyOp(&outerOp{}, x, grad); err != nil {
			return nil, fmt.Errorf("ops: %s: SymDiff dw: %w", op.name(), err)
		}
	}
	return G.Nodes{dx, dw, dc}, nil
}

// outerOp computes xᵀ·g for x (batch, k) and g (batch, m), a (k, m) matrix: the weight
// gradient of an affine map, Σ over the batch of outer products x_r g_rᵀ. Row i of the result
// gathers the rows of g where column i of x is non-zero (summed in increasing row order, as
// gonum's GEMM does), so sparse or binary x costs a fraction of a dense product.
type outerOp struct {
	out      ownBuf
	r32, s32 sparse[float32] // rows of x, then columns of x
	r64, s64 sparse[float64]
	count    []int32
}

var (
	_ G.Op   = (*outerOp)(nil)
	_ G.SDOp = (*outerOp)(nil)
)

func (op *outerOp) Arity() int { return 2 }

func (op *outerOp) Type() hm.Type {
	m := G.TensorType{Dims: 2, Of: hm.TypeVariable('a')}
	return hm.NewFnType(m, m, m)
}

func (op *outerOp) InferShape(inputs ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapes("OuterSum", 2, inputs)
	if err != nil {
		return nil, err
	}
	return outerShape(ss[0], ss[1])
}

func outerShape(xs, gs tensor.Shape) (tensor.Shape, error) {
	if xs.Dims() != 2 || gs.Dims() != 2 || xs[0] != gs[0] {
		return nil, fmt.Errorf("%w: ops: OuterSum: x %v and g %v must be matrices with equal row counts", ErrShape, xs, gs)
	}
	return tensor.Shape{xs[1], gs[1]}, nil
}

func (op *outerOp) Do(inputs ...G.Value) (G.Value, error) {
	fs, err := flats("OuterSum", 2, inputs)
	if err != nil {
		return nil, err
	}
	x, g := fs[0], fs[1]
	if x.dt != g.dt {
		return nil, fmt.Errorf("%w: ops: OuterSum: values mix dtypes %v and %v", ErrDtype, x.dt, g.dt)
	}
	shape, err := outerShape(x.shape, g.shape)
	if err != nil {
		return nil, err
	}
	rows, k, m := x.shape[0], shape[0], shape[1]
	v, out := op.out.get(x.dt, k, m)
	if x.dt == tensor.Float64 {
		op.count = outer(out.f64, x.f64, g.f64, rows, k, m, &op.r64, &op.s64, op.count)
	} else {
		op.count = outer(out.f32, x.f32, g.f32, rows, k, m, &op.r32, &op.s32, op.count)
	}
	return v, nil
}

// outer sets out (k, m) = xᵀ·g for x (rows, k), g (rows, m).
func outer[T number](out, x, g []T, rows, k, m int, rv, s *sparse[T], count []int32) []int32 {
	rv.rowsOf(x, rows, k)
	if cfg := denseFor(rv.nnz, len(x)); cfg != nil {
		gemm(cfg, true, false, k, m, rows, x, g, out)
		return count
	}
	count = s.colsOf(rv, rows, k, count)
	gp, ld, pad := alignedRows(s.pad, g, rows, m)
	s.pad = pad
	outerProduct(out, s, rows, k, gp, m, ld)
	return count
}

func (op *outerOp) ReturnsPtr() bool      { return false }
func (op *outerOp) CallsExtern() bool     { return false }
func (op *outerOp) OverwritesInput() int  { return -1 }
func (op *outerOp) WriteHash(h hash.Hash) { fmt.Fprint(h, "ebm/ops.OuterSum") }
func (op *outerOp) Hashcode() uint32      { return hashOf(op) }
func (op *outerOp) String() string        { return "OuterSum" }

func (op *outerOp) DiffWRT(inputs int) []bool { return allTrue(inputs) }

// SymDiff of y = xᵀ·g with upstream G (k, m): dx = g·Gᵀ, dg = x·G.
func (op *outerOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 2 {
		return nil, fmt.Errorf("ops: OuterSum: SymDiff wants 2 inputs, got %d", len(inputs))
	}
	gt, err := G.Transpose(grad)
	if err != nil {
		return nil, err
	}
	dx, err := G.Mul(inputs[1], gt)
	if err != nil {
		return nil, fmt.Errorf("ops: OuterSum: SymDiff dx: %w", err)
	}
	dg, err := G.Mul(inputs[0], grad)
	if err != nil {
		return nil, fmt.Errorf("ops: OuterSum: SymDiff dg: %w", err)
	}
	return G.Nodes{dx, dg}, nil
}

// ownBuf is an op's output tensor, kept from run to run: the TapeMachine drops its registers at
// every Reset, so an op that relied on the register it is handed would allocate at every run.
type ownBuf struct{ t *tensor.Dense }

// get returns the buffer (reallocated if its dtype or shape changed or someone reshaped it) and
// its flat view.
func (b *ownBuf) get(dt tensor.Dtype, shape ...int) (*tensor.Dense, flat) {
	t := b.t
	if t == nil || t.Dtype() != dt || !t.Shape().Eq(tensor.Shape(shape)) || t.IsView() || t.RequiresIterator() {
		t = tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
		b.t = t
	}
	n := tensor.Shape(shape).TotalSize()
	f := flat{dt: dt, shape: t.Shape()}
	if dt == tensor.Float64 {
		if d := t.Float64s(); len(d) >= n {
			f.f64 = d[:n:n]
		} else {
			b.t = nil
			return b.get(dt, shape...)
		}
	} else {
		if d := t.Float32s(); len(d) >= n {
			f.f32 = d[:n:n]
		} else {
			b.t = nil
			return b.get(dt, shape...)
		}
	}
	return t, f
}

// shapes converts InferShape's inputs to shapes.
func shapes(name string, arity int, inputs []G.DimSizer) ([]tensor.Shape, error) {
	if len(inputs) != arity {
		return nil, fmt.Errorf("ops: %s: want %d input shapes, got %d", name, arity, len(inputs))
	}
	out := make([]tensor.Shape, arity)
	for i, in := range inputs {
		s, ok := in.(tensor.Shape)
		if !ok {
			return nil, fmt.Errorf("ops: %s: input shape %d is a %T", name, i, in)
		}
		out[i] = s
	}
	return out, nil
}

// flats returns flat views of an op's input values.
func flats(name string, arity int, inputs []G.Value) ([]flat, error) {
	if len(inputs) != arity {
		return nil, fmt.Errorf("ops: %s: want %d inputs, got %d", name, arity, len(inputs))
	}
	out := make([]flat, arity)
	for i, v := range inputs {
		f, err := flatOf(v)
		if err != nil {
			return nil, fmt.Errorf("ops: %s: input %d: %w", name, i, err)
		}
		out[i] = f
	}
	return out, nil
}

func allTrue(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}

func hashOf(op G.Op) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
