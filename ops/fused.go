package ops

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/internal/parallel"
)

// SigmoidBernoulli adds a node sampling Bernoulli(σ(a)) element-wise: 1 with probability
// σ(a[i]) = 1/(1+exp(-a[i])), else 0. a has any shape and dtype Float32 or Float64 (else an
// error wrapping ErrDtype); the result has a's shape and dtype. It is Bernoulli(Sigmoid(a), src)
// in one op, with the same draws: the op owns rand.New(src), draws one Float64 u per entry in
// row-major order and returns 1 when u < σ(a[i]), σ computed exactly as Sigmoid (Sigmoid64, or
// Sigmoid32 widened for float32). The same seed therefore gives bit-identical samples with and
// without the fusion. Grad treats the result as a constant; every call is a distinct node.
//
// A NaN entry of a makes the run return an error wrapping a *DomainError for σ(a).
func SigmoidBernoulli(a *G.Node, src rand.Source) (*G.Node, error) {
	if err := checkFloat("SigmoidBernoulli", "a", a); err != nil {
		return nil, err
	}
	if src == nil {
		return nil, fmt.Errorf("ops: SigmoidBernoulli: nil rand.Source")
	}
	op := &sigmoidBernoulliOp{id: opID.Add(1), rng: newUniform(src)}
	n, err := G.ApplyOp(op, a)
	if err != nil {
		return nil, fmt.Errorf("ops: SigmoidBernoulli(%v): %w", a, err)
	}
	return n, nil
}

// uniform draws u ∈ [0, 1) exactly as rand.New(src).Float64() does. When src is a *rand.PCG,
// the draws of a run are computed from its state in parallel, in pieces that start at any
// offset of the stream (pcg.go); other sources are called once per draw, in order.
type uniform struct {
	src rand.Source
	pcg *rand.PCG
}

func newUniform(src rand.Source) *uniform {
	u := &uniform{src: src}
	u.pcg, _ = src.(*rand.PCG)
	return u
}

// fill sets u[i] to successive draws.
func (r *uniform) fill(u []float64) {
	for i := range u {
		u[i] = unit(r.src.Uint64())
	}
}

// sigmoidBernoulliOp is the op of SigmoidBernoulli. It is a pointer type with a unique id (see
// sampleOp) and keeps its output buffer from run to run.
type sigmoidBernoulliOp struct {
	id uint64

	mu  sync.Mutex // guards rng, out and u
	rng *uniform
	out ownBuf
	u   []float64 // the uniforms of a run
}

var (
	_ G.Op   = (*sigmoidBernoulliOp)(nil)
	_ G.SDOp = (*sigmoidBernoulliOp)(nil)
)

func (op *sigmoidBernoulliOp) Arity() int { return 1 }

func (op *sigmoidBernoulliOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}

func (op *sigmoidBernoulliOp) InferShape(inputs ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapes(op.String(), 1, inputs)
	if err != nil {
		return nil, err
	}
	return ss[0].Clone(), nil
}

func (op *sigmoidBernoulliOp) Do(inputs ...G.Value) (G.Value, error) {
	fs, err := flats(op.String(), 1, inputs)
	if err != nil {
		return nil, err
	}
	a := fs[0]
	op.mu.Lock()
	defer op.mu.Unlock()
	var v G.Value
	var out flat
	if a.scalar {
		v, out = alloc(a)
	} else {
		v, out = op.out.get(a.dt, a.shape...)
	}
	n := a.len()
	op.u = resize(op.u, n)
	var sawNaN atomic.Bool
	if op.rng.pcg != nil {
		// One pass in blocks shared among the CPUs: each block draws its uniforms from its
		// own offset of the stream, computes σ(a) and compares.
		hi, lo := pcgState(op.rng.pcg)
		blocks := (n + sampleBlock - 1) / sampleBlock
		parallel.For(blocks, blocks, func(b0, b1 int) {
			i0, i1 := b0*sampleBlock, min(b1*sampleBlock, n)
			h, l := pcgAdvance(hi, lo, uint64(i0))
			for s := i0; s < i1; s += sampleBlock {
				e := min(s+sampleBlock, i1)
				pcgUniforms(op.u[s:e], h, l)
				h, l = pcgAdvance(h, l, uint64(e-s))
				if a.dt == tensor.Float64 {
					sigmoid64s(out.f64[s:e], a.f64[s:e])
				} else {
					sigmoid32s(out.f32[s:e], a.f32[s:e])
				}
				if bernoulliCompare(out, op.u, s, e) {
					sawNaN.Store(true)
				}
			}
		})
		op.rng.pcg.Seed(pcgAdvance(hi, lo, uint64(n)))
	} else {
		// The uniforms are drawn (in order, on one goroutine) while σ(a) is computed into
		// the output on another; then each entry becomes u < σ(a).
		u := op.u
		parallel.For(2, 2, func(lo, hi int) {
			for task := lo; task < hi; task++ {
				switch {
				case task == 1:
					op.rng.fill(u)
				case a.dt == tensor.Float64:
					sigmoid64s(out.f64, a.f64)
				default:
					sigmoid32s(out.f32, a.f32)
				}
			}
		})
		parallelFor(n, func(lo, hi int) {
			if bernoulliCompare(out, u, lo, hi) {
				sawNaN.Store(true)
			}
		})
	}
	if sawNaN.Load() {
		for i := range n {
			if p := a.at(i); p != p {
				return nil, newDomainError(op.String(), "σ(a)", a.shape, i, math.NaN(), "[0, 1]")
			}
		}
	}
	return v, nil
}

// sampleBlock is the number of entries SigmoidBernoulli handles at a time: its uniforms,
// logits and probabilities (16 KB in float64) stay in the L1 cache between the three passes.
const sampleBlock = 1024

// bernoulliCompare replaces the probabilities p = out[lo:hi] by the samples u < p (1 or 0) and
// reports whether one of them was NaN (σ(a) is NaN only for NaN logits: the sum of p·0 finds
// one without a branch per entry).
func bernoulliCompare(out flat, u []float64, lo, hi int) (sawNaN bool) {
	nan := 0.0
	if out.dt == tensor.Float64 {
		o := out.f64[lo:hi]
		for i, p := range o {
			nan += p * 0
			o[i] = float64(int64(math.Float64bits(u[lo+i]-p) >> 63))
		}
	} else {
		o := out.f32[lo:hi]
		for i, p32 := range o {
			p := float64(p32)
			nan += p * 0
			o[i] = float32(int64(math.Float64bits(u[lo+i]-p) >> 63))
		}
	}
	return nan != 0
}

func (op *sigmoidBernoulliOp) ReturnsPtr() bool     { return false }
func (op *sigmoidBernoulliOp) CallsExtern() bool    { return false }
func (op *sigmoidBernoulliOp) OverwritesInput() int { return -1 }
func (op *sigmoidBernoulliOp) String() string       { return fmt.Sprintf("SigmoidBernoulli#%d", op.id) }

// WriteHash writes the op's unique name, so that no two sampling ops are merged.
func (op *sigmoidBernoulliOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "ebm/ops.%v", op) }

func (op *sigmoidBernoulliOp) Hashcode() uint32 {
	h := fnv.New32a()
	fmt.Fprint(h, "ebm/ops.SigmoidBernoulli")
	return h.Sum32() ^ uint32(op.id)*0x9E3779B1
}

// DiffWRT is all false: the samples are constants for Grad.
func (op *sigmoidBernoulliOp) DiffWRT(inputs int) []bool { return make([]bool, inputs) }

func (op *sigmoidBernoulliOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	return make(G.Nodes, len(inputs)), nil
}

// SoftplusSum adds a node computing the row sums Σ_j softplus(a[r, j]) of a (batch, n) matrix,
// a (batch) vector, Float32 or Float64: the hidden part of an RBM free energy,
// F(v) = -bᵀv - SoftplusSum(c + vW). It equals G.Sum(Softplus(a), 1) to rounding: a row is
// computed as Σ_j max(a_j, 0) + log Π_j (1 + exp(-|a_j|)), one exponential per entry and a few
// logarithms per row (AVX2), in float64 for both dtypes (float32 results are rounded once), with
// an error below n·2⁻⁵² beyond that of the sum itself: exact saturated values (softplus(150) =
// 150) stay exact. The gradient is grad_r·σ(a[r, j]), one fused kernel; Grad can differentiate
// it once more.
//
// Errors at construction: nil or non-float a (ErrDtype), a not a matrix (ErrShape).
func SoftplusSum(a *G.Node) (*G.Node, error) {
	if err := checkFloat("SoftplusSum", "a", a); err != nil {
		return nil, err
	}
	if a.Shape().Dims() != 2 {
		return nil, fmt.Errorf("%w: SoftplusSum: a %v must be a (batch, n) matrix", ErrShape, a.Shape())
	}
	n, err := G.ApplyOp(&softplusSumOp{}, a)
	if err != nil {
		return nil, fmt.Errorf("ops: SoftplusSum(%v): %w", a, err)
	}
	return n, nil
}

// softplusSumOp is the op of SoftplusSum; deterministic, hash-consed, own output buffer.
type softplusSumOp struct {
	out ownBuf
}

var (
	_ G.Op   = (*softplusSumOp)(nil)
	_ G.SDOp = (*softplusSumOp)(nil)
)

func (op *softplusSumOp) Arity() int { return 1 }

func (op *softplusSumOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(G.TensorType{Dims: 2, Of: a}, G.TensorType{Dims: 1, Of: a})
}

func (op *softplusSumOp) InferShape(inputs ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapes("SoftplusSum", 1, inputs)
	if err != nil {
		return nil, err
	}
	if ss[0].Dims() != 2 {
		return nil, fmt.Errorf("%w: ops: SoftplusSum: a %v must be a matrix", ErrShape, ss[0])
	}
	return tensor.Shape{ss[0][0]}, nil
}

func (op *softplusSumOp) Do(inputs ...G.Value) (G.Value, error) {
	fs, err := flats("SoftplusSum", 1, inputs)
	if err != nil {
		return nil, err
	}
	a := fs[0]
	if len(a.shape) != 2 {
		return nil, fmt.Errorf("%w: ops: SoftplusSum: value %v must be a matrix", ErrShape, a.shape)
	}
	rows, n := a.shape[0], a.shape[1]
	v, out := op.out.get(a.dt, rows)
	parallelRange(rows, rows*n*8, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			if a.dt == tensor.Float64 {
				out.f64[r] = softplusSum(a.f64[r*n : (r+1)*n])
			} else {
				out.f32[r] = float32(softplusSum(a.f32[r*n : (r+1)*n]))
			}
		}
	})
	return v, nil
}

func (op *softplusSumOp) ReturnsPtr() bool      { return false }
func (op *softplusSumOp) CallsExtern() bool     { return false }
func (op *softplusSumOp) OverwritesInput() int  { return -1 }
func (op *softplusSumOp) WriteHash(h hash.Hash) { fmt.Fprint(h, "ebm/ops.SoftplusSum") }
func (op *softplusSumOp) Hashcode() uint32      { return hashOf(op) }
func (op *softplusSumOp) String() string        { return "SoftplusSum" }

func (op *softplusSumOp) DiffWRT(inputs int) []bool { return allTrue(inputs) }

// SymDiff returns grad_r·σ(a[r, j]).
func (op *softplusSumOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("ops: SoftplusSum: SymDiff wants 1 input, got %d", len(inputs))
	}
	d, err := G.ApplyOp(&sigmoidScaleOp{}, inputs[0], grad)
	if err != nil {
		return nil, fmt.Errorf("ops: SoftplusSum: SymDiff: %w", err)
	}
	return G.Nodes{d}, nil
}

// sigmoidScaleOp computes out[r, j] = g[r]·σ(a[r, j]) for a (batch, n) and g (batch): the
// gradient of SoftplusSum. σ is Sigmoid's exact kernel and the product is taken as g·σ, so the
// value equals Gorgonia's unfused HadamardProd(broadcast g, Sigmoid(a)) bit for bit.
type sigmoidScaleOp struct {
	out ownBuf
}

var (
	_ G.Op   = (*sigmoidScaleOp)(nil)
	_ G.SDOp = (*sigmoidScaleOp)(nil)
)

func (op *sigmoidScaleOp) Arity() int { return 2 }

func (op *sigmoidScaleOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	m := G.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(m, G.TensorType{Dims: 1, Of: a}, m)
}

func (op *sigmoidScaleOp) InferShape(inputs ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapes("SigmoidScale", 2, inputs)
	if err != nil {
		return nil, err
	}
	if ss[0].Dims() != 2 || ss[1].TotalSize() != ss[0][0] {
		return nil, fmt.Errorf("%w: ops: SigmoidScale: a %v and g %v", ErrShape, ss[0], ss[1])
	}
	return ss[0].Clone(), nil
}

func (op *sigmoidScaleOp) Do(inputs ...G.Value) (G.Value, error) {
	fs, err := flats("SigmoidScale", 2, inputs)
	if err != nil {
		return nil, err
	}
	a, g := fs[0], fs[1]
	if len(a.shape) != 2 || g.len() != a.shape[0] || a.dt != g.dt {
		return nil, fmt.Errorf("%w: ops: SigmoidScale: a %v %v and g %v %v", ErrShape, a.dt, a.shape, g.dt, g.shape)
	}
	rows, n := a.shape[0], a.shape[1]
	v, out := op.out.get(a.dt, rows, n)
	parallelRange(rows, rows*n*8, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			if a.dt == tensor.Float64 {
				o := out.f64[r*n : (r+1)*n]
				sigmoid64s(o, a.f64[r*n:(r+1)*n])
				gr := g.f64[r]
				for j, s := range o {
					o[j] = gr * s
				}
			} else {
				o := out.f32[r*n : (r+1)*n]
				sigmoid32s(o, a.f32[r*n:(r+1)*n])
				gr := g.f32[r]
				for j, s := range o {
					o[j] = gr * s
				}
			}
		}
	})
	return v, nil
}

func (op *sigmoidScaleOp) ReturnsPtr() bool      { return false }
func (op *sigmoidScaleOp) CallsExtern() bool     { return false }
func (op *sigmoidScaleOp) OverwritesInput() int  { return -1 }
func (op *sigmoidScaleOp) WriteHash(h hash.Hash) { fmt.Fprint(h, "ebm/ops.SigmoidScale") }
func (op *sigmoidScaleOp) Hashcode() uint32      { return hashOf(op) }
func (op *sigmoidScaleOp) String() string        { return "SigmoidScale" }

func (op *sigmoidScaleOp) DiffWRT(inputs int) []bool { return allTrue(inputs) }

// SymDiff of y[r, j] = g[r]·σ(a[r, j]) with upstream G: da = G ⊙ g ⊙ σ′(a),
// dg[r] = Σ_j G[r, j]·σ(a[r, j]).
func (op *sigmoidScaleOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 2 {
		return nil, fmt.Errorf("ops: SigmoidScale: SymDiff wants 2 inputs, got %d", len(inputs))
	}
	a, g := inputs[0], inputs[1]
	sp, err := G.ApplyOp(elemOp{k: fnSigmoidPrime}, a)
	if err != nil {
		return nil, err
	}
	t, err := G.HadamardProd(grad, sp)
	if err != nil {
		return nil, err
	}
	da, err := G.BroadcastHadamardProd(t, g, nil, []byte{1})
	if err != nil {
		return nil, fmt.Errorf("ops: SigmoidScale: SymDiff da: %w", err)
	}
	s, err := G.ApplyOp(elemOp{k: fnSigmoid}, a)
	if err != nil {
		return nil, err
	}
	gs, err := G.HadamardProd(grad, s)
	if err != nil {
		return nil, err
	}
	dg, err := G.Sum(gs, 1)
	if err != nil {
		return nil, fmt.Errorf("ops: SigmoidScale: SymDiff dg: %w", err)
	}
	return G.Nodes{da, dg}, nil
}

// StopSigmoid adds a node computing σ(a) element-wise (exactly Sigmoid's values) that Grad
// treats as a constant: StopGradient(Sigmoid(a)) in one op, with the op's own output buffer.
// It ends a CD chain on visible probabilities (Hinton 2010, §3.2). a has any shape, dtype
// Float32 or Float64 (else an error wrapping ErrDtype).
func StopSigmoid(a *G.Node) (*G.Node, error) {
	if err := checkFloat("StopSigmoid", "a", a); err != nil {
		return nil, err
	}
	n, err := G.ApplyOp(&stopSigmoidOp{}, a)
	if err != nil {
		return nil, fmt.Errorf("ops: StopSigmoid(%v): %w", a, err)
	}
	return n, nil
}

// stopSigmoidOp is the op of StopSigmoid: deterministic (hash-consed), own output buffer.
type stopSigmoidOp struct {
	out ownBuf
}

var (
	_ G.Op   = (*stopSigmoidOp)(nil)
	_ G.SDOp = (*stopSigmoidOp)(nil)
)

func (op *stopSigmoidOp) Arity() int { return 1 }

func (op *stopSigmoidOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}

func (op *stopSigmoidOp) InferShape(inputs ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapes("StopSigmoid", 1, inputs)
	if err != nil {
		return nil, err
	}
	return ss[0].Clone(), nil
}

func (op *stopSigmoidOp) Do(inputs ...G.Value) (G.Value, error) {
	fs, err := flats("StopSigmoid", 1, inputs)
	if err != nil {
		return nil, err
	}
	a := fs[0]
	var v G.Value
	var out flat
	if a.scalar {
		v, out = alloc(a)
	} else {
		v, out = op.out.get(a.dt, a.shape...)
	}
	n := a.len()
	parallelRange(n, n*8, func(lo, hi int) {
		if a.dt == tensor.Float64 {
			sigmoid64s(out.f64[lo:hi], a.f64[lo:hi])
		} else {
			sigmoid32s(out.f32[lo:hi], a.f32[lo:hi])
		}
	})
	return v, nil
}

func (op *stopSigmoidOp) ReturnsPtr() bool      { return false }
func (op *stopSigmoidOp) CallsExtern() bool     { return false }
func (op *stopSigmoidOp) OverwritesInput() int  { return -1 }
func (op *stopSigmoidOp) WriteHash(h hash.Hash) { fmt.Fprint(h, "ebm/ops.StopSigmoid") }
func (op *stopSigmoidOp) Hashcode() uint32      { return hashOf(op) }
func (op *stopSigmoidOp) String() string        { return "StopSigmoid" }

// DiffWRT is all false: Grad treats the result as a constant.
func (op *stopSigmoidOp) DiffWRT(inputs int) []bool { return make([]bool, inputs) }

func (op *stopSigmoidOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	return make(G.Nodes, len(inputs)), nil
}
