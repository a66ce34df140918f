package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// colSumOp computes the column sums Σ_r g[r, :] of a (batch, m) matrix, an (m) vector: the bias
// gradient of Affine. It equals G.Sum(g, 0) bit for bit (rows added in increasing r, starting
// from row 0) but adds whole rows with the vectorised row kernel in column chunks shared among
// the CPUs, where Gorgonia's reduction copies and adds serially.
type colSumOp struct {
	out ownBuf
	idx []int32
}

var (
	_ G.Op   = (*colSumOp)(nil)
	_ G.SDOp = (*colSumOp)(nil)
)

func (op *colSumOp) Arity() int { return 1 }

func (op *colSumOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(G.TensorType{Dims: 2, Of: a}, G.TensorType{Dims: 1, Of: a})
}

func (op *colSumOp) InferShape(inputs ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapes("ColSum", 1, inputs)
	if err != nil {
		return nil, err
	}
	if ss[0].Dims() != 2 {
		return nil, fmt.Errorf("%w: ops: ColSum: g %v must be a matrix", ErrShape, ss[0])
	}
	return tensor.Shape{ss[0][1]}, nil
}

func (op *colSumOp) Do(inputs ...G.Value) (G.Value, error) {
	fs, err := flats("ColSum", 1, inputs)
	if err != nil {
		return nil, err
	}
	g := fs[0]
	if len(g.shape) != 2 {
		return nil, fmt.Errorf("%w: ops: ColSum: value %v must be a matrix", ErrShape, g.shape)
	}
	rows, m := g.shape[0], g.shape[1]
	v, out := op.out.get(g.dt, m)
	op.idx = rowIndices(op.idx, rows)
	parallelRange(m, rows*m, func(lo, hi int) {
		if g.dt == tensor.Float64 {
			clear(out.f64[lo:hi])
			gatherRows64(out.f64[lo:hi], g.f64[lo:], m, op.idx, nil)
		} else {
			clear(out.f32[lo:hi])
			gatherRows32(out.f32[lo:hi], g.f32[lo:], m, op.idx, nil)
		}
	})
	return v, nil
}

func (op *colSumOp) ReturnsPtr() bool      { return false }
func (op *colSumOp) CallsExtern() bool     { return false }
func (op *colSumOp) OverwritesInput() int  { return -1 }
func (op *colSumOp) WriteHash(h hash.Hash) { fmt.Fprint(h, "ebm/ops.ColSum") }
func (op *colSumOp) Hashcode() uint32      { return hashOf(op) }
func (op *colSumOp) String() string        { return "ColSum" }

func (op *colSumOp) DiffWRT(inputs int) []bool { return allTrue(inputs) }

// SymDiff of y = Σ_r g[r, :] with upstream G (m): dg[r, :] = G for every row (1 Gᵀ).
func (op *colSumOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("ops: ColSum: SymDiff wants 1 input, got %d", len(inputs))
	}
	ones := G.NewConstant(tensor.Ones(inputs[0].Dtype(), inputs[0].Shape()[0]))
	dg, err := G.OuterProd(ones, grad)
	if err != nil {
		return nil, fmt.Errorf("ops: ColSum: SymDiff: %w", err)
	}
	return G.Nodes{dg}, nil
}
