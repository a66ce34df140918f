package ops

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Softmax (K-way) units and their sampling: the plain-Go kernels Softmax64 and CategoricalIndex,
// and the graph op Categorical built on them, so that code outside a graph (models.CFRBM) draws
// exactly what the op draws from the same probabilities and uniforms.

// Softmax64 sets dst[k] = exp(x[k] - m) / Σ_l exp(x[l] - m), m = max_l x[l]: the softmax of the
// logits x, computed without overflow for any finite x (Softmax64 of [1000, 0] is [1, e⁻¹⁰⁰⁰ → 0]).
// dst and x must have the same length and may be the same slice. Entries of -Inf get probability
// 0; if every entry is -Inf, or any is +Inf or NaN, the result is NaN (there is no distribution).
// An empty x is a no-op.
func Softmax64(dst, x []float64) {
	if len(x) == 0 {
		return
	}
	dst = dst[:len(x)]
	m := x[0]
	for _, v := range x[1:] {
		if v > m {
			m = v
		}
	}
	if math.IsInf(m, 0) || math.IsNaN(m) {
		for i := range dst {
			dst[i] = math.NaN()
		}
		return
	}
	s := 0.0
	for i, v := range x {
		e := math.Exp(v - m)
		dst[i] = e
		s += e
	}
	// s ≥ 1 (the maximum contributes exp(0) = 1), so the division is safe; NaN entries of x
	// propagate through s.
	inv := 1 / s
	for i := range dst {
		dst[i] *= inv
	}
}

// CategoricalIndex returns the category that the uniform u ∈ [0, 1) selects from the
// probabilities p by inversion: the smallest j with u < p[0] + … + p[j]. Given u =
// rand.Float64(), it returns j with probability p[j] (to the rounding of the running sums,
// ≈ 1e-16), as long as the p[j] are non-negative and sum to 1. When rounding leaves u at or above
// the total (possible only if the p sum to slightly less than 1), it returns the last j with
// p[j] > 0, so a category of probability 0 is never returned. It returns -1 when p has no
// positive entry (empty, all zero, or NaN); it does not otherwise check p (the Categorical op
// does).
func CategoricalIndex(p []float64, u float64) int {
	c, last := 0.0, -1
	for j, pj := range p {
		if !(pj > 0) {
			continue
		}
		c += pj
		last = j
		if u < c {
			return j
		}
	}
	return last
}

// Categorical adds a node that samples softmax (K-way, one-of-K) units: the entries of p are read
// in consecutive groups of k along its last dimension, each group a probability vector, and each
// group of the result is one-hot, with its 1 at position j with probability p[j] of the group.
// The result has p's shape and dtype (Float32 or Float64; other dtypes give an error wrapping
// ErrDtype). p must have at least one dimension, and its last dimension must be a positive
// multiple of k ≥ 1 (else an error wrapping ErrShape): for a batch of m softmax units with K
// states each, p is (batch, m·K) with unit i's probabilities in columns i·K … i·K+K-1, and k = K.
// (With k = 1 every entry must be 1 and the result is all ones.)
//
// Randomness: the op owns rand.New(src) and draws one Float64 u per group, in row-major order,
// selecting the category with CategoricalIndex(group, u) (float32 probabilities are widened
// exactly to float64), so a float32 p and its float64 copy give identical samples from the same
// seed. The same seed gives bit-identical samples; consecutive runs continue the stream.
//
// Grad treats the result as a constant (an SDOp whose DiffWRT is all false), as contrastive
// divergence needs (Hinton 2002). Every call creates a distinct op (a unique id in its hash), so
// Categorical(p, k) twice gives two nodes with independent draws.
//
// At run time a group with an entry outside [0, 1] or NaN, or whose sum differs from 1 by more
// than k·1e-12 (Float64) or k·1e-6 (Float32), makes the run return an error wrapping a
// *DomainError that names the entry (for a bad sum: Input "sum of k entries from p", Index the
// group's first entry, Value the sum);
// the stream position after such an error is unspecified. Errors at construction: nil p or src,
// unsupported dtype, bad shape or k.
//
// Softmax visible units of this kind model ratings in the collaborative-filtering RBM of
// Salakhutdinov, Mnih & Hinton (2007).
func Categorical(p *G.Node, k int, src rand.Source) (*G.Node, error) {
	if err := checkFloat("Categorical", "p", p); err != nil {
		return nil, err
	}
	if src == nil {
		return nil, fmt.Errorf("ops: Categorical: nil rand.Source")
	}
	if k < 1 {
		return nil, fmt.Errorf("%w: Categorical: k = %d categories; want k ≥ 1", ErrShape, k)
	}
	s := p.Shape()
	if len(s) == 0 || s[len(s)-1] < 1 || s[len(s)-1]%k != 0 {
		return nil, fmt.Errorf("%w: Categorical: p has shape %v; its last dimension must be a positive multiple of k = %d",
			ErrShape, s, k)
	}
	op := &categoricalOp{k: k, id: opID.Add(1), rng: rand.New(src)}
	n, err := G.ApplyOp(op, p)
	if err != nil {
		return nil, fmt.Errorf("ops: Categorical(%v): %w", p, err)
	}
	return n, nil
}

// categoricalTolerance is the largest accepted |Σ p - 1| per category of a group.
func categoricalTolerance(dt tensor.Dtype) float64 {
	if dt == tensor.Float32 {
		return 1e-6
	}
	return 1e-12
}

// categoricalOp is the Gorgonia op of Categorical. Like sampleOp it holds its random stream and
// a unique id, so no two instances are merged by hash-consing.
type categoricalOp struct {
	k  int
	id uint64

	mu  sync.Mutex // guards rng
	rng *rand.Rand
}

var (
	_ G.Op              = (*categoricalOp)(nil)
	_ G.SDOp            = (*categoricalOp)(nil)
	_ G.UsePreallocDoer = (*categoricalOp)(nil)
)

func (op *categoricalOp) Arity() int { return 1 }

// Type is a → a.
func (op *categoricalOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}

func (op *categoricalOp) InferShape(inputs ...G.DimSizer) (tensor.Shape, error) {
	if len(inputs) != 1 || inputs[0] == nil {
		return nil, fmt.Errorf("ops: %v: want one input shape, got %v", op, inputs)
	}
	s, ok := inputs[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("ops: %v: input shape is a %T", op, inputs[0])
	}
	return s.Clone(), nil
}

func (op *categoricalOp) Do(inputs ...G.Value) (G.Value, error) {
	return op.UsePreallocDo(nil, inputs...)
}

// UsePreallocDo draws into prealloc when it fits (see output) and into a new value otherwise.
func (op *categoricalOp) UsePreallocDo(prealloc G.Value, inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("ops: %v: want 1 input, got %d", op, len(inputs))
	}
	p, err := flatOf(inputs[0])
	if err != nil {
		return nil, fmt.Errorf("ops: %v: %w", op, err)
	}
	if len(p.shape) == 0 || p.scalar || p.shape[len(p.shape)-1]%op.k != 0 || p.len()%op.k != 0 {
		return nil, fmt.Errorf("%w: ops: %v: value has shape %v; its last dimension must be a multiple of k = %d",
			ErrShape, op, p.shape, op.k)
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	v, out := output(prealloc, p, p)
	if err := op.sample(out, p); err != nil {
		return nil, err
	}
	return v, nil
}

// sample writes one one-hot group per group of p, drawing one Float64 per group.
func (op *categoricalOp) sample(out, p flat) error {
	k, tol := op.k, float64(op.k)*categoricalTolerance(p.dt)
	buf := make([]float64, k)
	n := p.len()
	for lo := 0; lo < n; lo += k {
		s := 0.0
		for j := range buf {
			pj := p.at(lo + j)
			if !(pj >= 0 && pj <= 1) {
				return newDomainError(op.String(), "p", p.shape, lo+j, pj, "[0, 1]")
			}
			buf[j] = pj
			s += pj
		}
		if math.Abs(s-1) > tol {
			return newDomainError(op.String(), fmt.Sprintf("sum of %d entries from p", k), p.shape, lo, s,
				fmt.Sprintf("1 ± %.0e", tol))
		}
		j := CategoricalIndex(buf, op.rng.Float64())
		if p.dt == tensor.Float64 {
			g := out.f64[lo : lo+k]
			clear(g)
			g[j] = 1
		} else {
			g := out.f32[lo : lo+k]
			clear(g)
			g[j] = 1
		}
	}
	return nil
}

func (op *categoricalOp) ReturnsPtr() bool     { return false }
func (op *categoricalOp) CallsExtern() bool    { return false }
func (op *categoricalOp) OverwritesInput() int { return -1 }

// WriteHash writes the op's unique name, so that no two sampling ops are merged by
// Gorgonia's hash-consing.
func (op *categoricalOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "ebm/ops.%v", op) }

// Hashcode is injective in the op's id, so two sampling ops never compare equal.
func (op *categoricalOp) Hashcode() uint32 {
	h := fnv.New32a()
	fmt.Fprintf(h, "ebm/ops.Categorical/%d", op.k)
	return h.Sum32() ^ uint32(op.id)*0x9E3779B1
}

func (op *categoricalOp) String() string { return fmt.Sprintf("Categorical%d#%d", op.k, op.id) }

// DiffWRT is all false: Grad treats the samples as constants.
func (op *categoricalOp) DiffWRT(inputs int) []bool { return make([]bool, inputs) }

// SymDiff returns no gradients. Grad never calls it, since DiffWRT is all false.
func (op *categoricalOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	return make(G.Nodes, len(inputs)), nil
}

// Softmax adds a node computing the softmax of x in consecutive groups of k along its last
// dimension: each group g of the result is Softmax64 of the same group of x, exp(x_j - max g) /
// Σ exp(x_l - max g), exact for logits of any size (no overflow; see Softmax64). The result has x's
// shape and dtype (Float32 or Float64; float32 values are computed in float64 and rounded once).
// With k equal to the last dimension this is the usual row-wise softmax; with x (batch, m·K) and
// k = K it gives the visible probabilities of m softmax units (feed them to Categorical).
//
// The gradient is exact: for a cost C with ∂C/∂y = g, ∂C/∂x = y ⊙ (g - Σ_group g⊙y) group by
// group. Second derivatives are not implemented: Grad through the gradient returns an error.
//
// Errors at construction: nil x, unsupported dtype, no dimension, last dimension not a positive
// multiple of k ≥ 1. At run time a group with +Inf or NaN logits, or all -Inf, gives NaN.
func Softmax(x *G.Node, k int) (*G.Node, error) {
	if err := checkFloat("Softmax", "x", x); err != nil {
		return nil, err
	}
	if k < 1 {
		return nil, fmt.Errorf("%w: Softmax: k = %d; want k ≥ 1", ErrShape, k)
	}
	s := x.Shape()
	if len(s) == 0 || s[len(s)-1] < 1 || s[len(s)-1]%k != 0 {
		return nil, fmt.Errorf("%w: Softmax: x has shape %v; its last dimension must be a positive multiple of k = %d",
			ErrShape, s, k)
	}
	n, err := G.ApplyOp(softmaxOp{k: k}, x)
	if err != nil {
		return nil, fmt.Errorf("ops: Softmax(%v): %w", x, err)
	}
	return n, nil
}

// softmaxOp is the deterministic group-wise softmax (hash-consed like the element-wise ops).
type softmaxOp struct{ k int }

var (
	_ G.Op              = softmaxOp{}
	_ G.SDOp            = softmaxOp{}
	_ G.UsePreallocDoer = softmaxOp{}
)

func (op softmaxOp) Arity() int { return 1 }

func (op softmaxOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}

func (op softmaxOp) InferShape(inputs ...G.DimSizer) (tensor.Shape, error) {
	if len(inputs) != 1 || inputs[0] == nil {
		return nil, fmt.Errorf("ops: %v: want one input shape, got %v", op, inputs)
	}
	s, ok := inputs[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("ops: %v: input shape is a %T", op, inputs[0])
	}
	return s.Clone(), nil
}

func (op softmaxOp) Do(inputs ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, inputs...) }

func (op softmaxOp) UsePreallocDo(prealloc G.Value, inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("ops: %v: want 1 input, got %d", op, len(inputs))
	}
	x, err := flatOf(inputs[0])
	if err != nil {
		return nil, fmt.Errorf("ops: %v: %w", op, err)
	}
	if err := checkGroups(op.String(), x, op.k); err != nil {
		return nil, err
	}
	v, out := output(prealloc, x, x)
	k := op.k
	if x.dt == tensor.Float64 {
		for lo := 0; lo < len(x.f64); lo += k {
			Softmax64(out.f64[lo:lo+k], x.f64[lo:lo+k])
		}
		return v, nil
	}
	buf := make([]float64, k)
	for lo := 0; lo < len(x.f32); lo += k {
		for j := range buf {
			buf[j] = float64(x.f32[lo+j])
		}
		Softmax64(buf, buf)
		for j, p := range buf {
			out.f32[lo+j] = float32(p)
		}
	}
	return v, nil
}

// checkGroups verifies that a value splits into groups of k along its last dimension.
func checkGroups(op string, x flat, k int) error {
	if len(x.shape) == 0 || x.scalar || x.shape[len(x.shape)-1]%k != 0 || x.len()%k != 0 {
		return fmt.Errorf("%w: ops: %v: value has shape %v; its last dimension must be a multiple of k = %d",
			ErrShape, op, x.shape, k)
	}
	return nil
}

func (op softmaxOp) ReturnsPtr() bool      { return false }
func (op softmaxOp) CallsExtern() bool     { return false }
func (op softmaxOp) OverwritesInput() int  { return -1 }
func (op softmaxOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "ebm/ops.%v", op) }
func (op softmaxOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op softmaxOp) String() string { return fmt.Sprintf("Softmax%d", op.k) }

func (op softmaxOp) DiffWRT(inputs int) []bool { return []bool{true} }

// SymDiff returns y ⊙ (g - Σ_group g⊙y) as one softmaxGradOp node of (y, g).
func (op softmaxOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("ops: %v: SymDiff wants 1 input, got %d", op, len(inputs))
	}
	dx, err := G.ApplyOp(softmaxGradOp(op), output, grad)
	if err != nil {
		return nil, fmt.Errorf("ops: %v gradient: %w", op, err)
	}
	return G.Nodes{dx}, nil
}

// softmaxGradOp computes y ⊙ (g - Σ_group g⊙y) from the softmax output y and the incoming
// gradient g (same shape and dtype).
type softmaxGradOp softmaxOp

var (
	_ G.Op   = softmaxGradOp{}
	_ G.SDOp = softmaxGradOp{}
)

func (op softmaxGradOp) Arity() int { return 2 }

func (op softmaxGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a, a)
}

func (op softmaxGradOp) InferShape(inputs ...G.DimSizer) (tensor.Shape, error) {
	if len(inputs) != 2 || inputs[0] == nil {
		return nil, fmt.Errorf("ops: %v: want two input shapes, got %v", op, inputs)
	}
	s, ok := inputs[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("ops: %v: input shape is a %T", op, inputs[0])
	}
	return s.Clone(), nil
}

func (op softmaxGradOp) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 2 {
		return nil, fmt.Errorf("ops: %v: want 2 inputs, got %d", op, len(inputs))
	}
	y, err := flatOf(inputs[0])
	if err != nil {
		return nil, fmt.Errorf("ops: %v: %w", op, err)
	}
	g, err := flatOf(inputs[1])
	if err != nil {
		return nil, fmt.Errorf("ops: %v: %w", op, err)
	}
	if y.dt != g.dt || y.len() != g.len() {
		return nil, fmt.Errorf("%w: ops: %v: output %v %v and gradient %v %v differ", ErrShape, op, y.dt, y.shape, g.dt, g.shape)
	}
	if err := checkGroups(op.String(), y, op.k); err != nil {
		return nil, err
	}
	v, out := alloc(y)
	k := op.k
	for lo := 0; lo < y.len(); lo += k {
		s := 0.0
		for j := lo; j < lo+k; j++ {
			s += y.at(j) * g.at(j)
		}
		for j := lo; j < lo+k; j++ {
			d := y.at(j) * (g.at(j) - s)
			if y.dt == tensor.Float64 {
				out.f64[j] = d
			} else {
				out.f32[j] = float32(d)
			}
		}
	}
	return v, nil
}

func (op softmaxGradOp) ReturnsPtr() bool      { return false }
func (op softmaxGradOp) CallsExtern() bool     { return false }
func (op softmaxGradOp) OverwritesInput() int  { return -1 }
func (op softmaxGradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "ebm/ops.%v", op) }
func (op softmaxGradOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op softmaxGradOp) String() string { return fmt.Sprintf("SoftmaxGrad%d", op.k) }

// DiffWRT is true so that Grad reaches SymDiff, which refuses: second derivatives of the softmax
// are not implemented (a false DiffWRT would make them silently zero).
func (op softmaxGradOp) DiffWRT(inputs int) []bool {
	d := make([]bool, inputs)
	for i := range d {
		d[i] = true
	}
	return d
}

func (op softmaxGradOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("ops: %v: second derivatives of Softmax are not implemented", op)
}
