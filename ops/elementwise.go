package ops

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Softplus adds a node computing softplus(x) = log(1+exp(x)) element-wise, exactly as
// max(x,0) + log1p(exp(-|x|)) (see Softplus64). x may have any shape, scalars included; the
// result has x's shape and dtype, which must be Float32 or Float64 (else an error wrapping
// ErrDtype). Float32 is computed in float64 and rounded once.
//
// The gradient is grad ⊙ Sigmoid(x), with this package's exact Sigmoid; it shares the Sigmoid(x)
// node if the graph already has one.
func Softplus(x *G.Node) (*G.Node, error) { return applyElem("Softplus", fnSoftplus, x) }

// LogSigmoid adds a node computing log σ(x) = -softplus(-x) element-wise (see LogSigmoid64),
// finite for every finite x: LogSigmoid(-19.5) = -19.500000003398 where log(1-sigmoid(19.5))
// with Gorgonia's sigmoid is -Inf. Shapes and dtypes as for Softplus; the gradient is
// grad ⊙ σ(-x), computed by one exact kernel.
func LogSigmoid(x *G.Node) (*G.Node, error) { return applyElem("LogSigmoid", fnLogSigmoid, x) }

// Sigmoid adds a node computing σ(x) = 1/(1+exp(-x)) element-wise (see Sigmoid64): accurate in
// both tails, never NaN for non-NaN input (σ(±1e4) is 1 or 0). Shapes and dtypes as for
// Softplus. The gradient is grad ⊙ σ′(x) with σ′(x) = e/(1+e)², e = exp(-|x|), computed by one
// kernel: exactly 0 where σ saturates, 0.25 at 0. Grad can differentiate Sigmoid three times
// and Softplus four times (exact kernels for σ′, σ″, σ‴), enough for score-matching objectives;
// one more order returns an error.
func Sigmoid(x *G.Node) (*G.Node, error) { return applyElem("Sigmoid", fnSigmoid, x) }

func applyElem(name string, k fnKind, x *G.Node) (*G.Node, error) {
	if err := checkFloat(name, "x", x); err != nil {
		return nil, err
	}
	n, err := G.ApplyOp(elemOp{k: k}, x)
	if err != nil {
		return nil, fmt.Errorf("ops: %s(%v): %w", name, x, err)
	}
	return n, nil
}

// fnKind names an element-wise function computed by elemOp.
type fnKind uint8

const (
	fnSoftplus      fnKind = iota // log(1+e^x)
	fnLogSigmoid                  // log σ(x)
	fnSigmoid                     // σ(x)
	fnSigmoidNeg                  // σ(-x)
	fnSigmoidPrime                // σ′(x)
	fnSigmoidPrime2               // σ″(x)
	fnSigmoidPrime3               // σ‴(x)
)

var fnNames = [...]string{"Softplus", "LogSigmoid", "Sigmoid", "SigmoidNeg", "SigmoidPrime", "SigmoidPrime2", "SigmoidPrime3"}

// derivative returns the kind and sign of d/dx of the function: f'(x) = ±g(x).
func (k fnKind) derivative() (g fnKind, negate, ok bool) {
	switch k {
	case fnSoftplus:
		return fnSigmoid, false, true
	case fnLogSigmoid:
		return fnSigmoidNeg, false, true
	case fnSigmoid:
		return fnSigmoidPrime, false, true
	case fnSigmoidNeg:
		return fnSigmoidPrime, true, true
	case fnSigmoidPrime:
		return fnSigmoidPrime2, false, true
	case fnSigmoidPrime2:
		return fnSigmoidPrime3, false, true
	}
	return 0, false, false
}

// eval64 evaluates the function at one point (used by DoDiff and tests; the hot loops are in
// apply64 and apply32).
func (k fnKind) eval64(x float64) float64 {
	switch k {
	case fnSoftplus:
		return Softplus64(x)
	case fnLogSigmoid:
		return LogSigmoid64(x)
	case fnSigmoid:
		return Sigmoid64(x)
	case fnSigmoidNeg:
		return sigmoidNeg64(x)
	case fnSigmoidPrime:
		return sigmoidPrime64(x)
	case fnSigmoidPrime2:
		return sigmoidPrime2_64(x)
	case fnSigmoidPrime3:
		return sigmoidPrime3_64(x)
	}
	panic("ops: unknown function kind")
}

// apply64 sets dst[i] = ±k(src[i]). One switch per call, then a tight loop of direct calls, or
// the vector kernels of vmath.go (bit-identical to the scalar functions) for σ and softplus.
func apply64(k fnKind, negate bool, dst, src []float64) {
	dst = dst[:len(src)]
	switch k {
	case fnSoftplus:
		softplus64s(dst, src)
	case fnLogSigmoid: // -softplus(-x)
		for i, x := range src {
			dst[i] = -x
		}
		softplus64s(dst, dst)
		negate = !negate
	case fnSigmoid:
		sigmoid64s(dst, src)
	case fnSigmoidNeg:
		for i, x := range src {
			dst[i] = -x
		}
		sigmoid64s(dst, dst)
	case fnSigmoidPrime:
		for i, x := range src {
			dst[i] = sigmoidPrime64(x)
		}
	case fnSigmoidPrime2:
		for i, x := range src {
			dst[i] = sigmoidPrime2_64(x)
		}
	case fnSigmoidPrime3:
		for i, x := range src {
			dst[i] = sigmoidPrime3_64(x)
		}
	}
	if negate {
		for i := range dst {
			dst[i] = -dst[i]
		}
	}
}

// apply32 is apply64 for float32: each entry is computed in float64 and rounded once.
//
// The conversions run in their own loops over a small stack buffer. Converting inside the
// kernel loop (float32(Softplus64(float64(x)))) is 1.5-4.5× slower on amd64: CVTSS2SD and
// CVTSD2SS merge into their destination register, and the false dependency on the previous
// element's result chains the math.Exp calls of consecutive elements together.
func apply32(k fnKind, negate bool, dst, src []float32) {
	switch {
	case k == fnSigmoid && !negate:
		sigmoid32s(dst, src)
		return
	case k == fnSoftplus && !negate:
		softplus32s(dst, src)
		return
	}
	var buf [256]float64
	dst = dst[:len(src)]
	for lo := 0; lo < len(src); lo += len(buf) {
		xs := src[lo:min(lo+len(buf), len(src))]
		t := buf[:len(xs)]
		for i, x := range xs {
			t[i] = float64(x)
		}
		apply64(k, negate, t, t)
		ys := dst[lo : lo+len(xs)]
		for i, v := range t {
			ys[i] = float32(v)
		}
	}
}

// elemOp is the Gorgonia op computing ±k(x) element-wise. It is a value type without state, so
// equal ops hash equal and Gorgonia's hash-consing shares equal nodes (e.g. the Sigmoid(x) of a
// Softplus gradient and a Sigmoid(x) built by the caller).
type elemOp struct {
	k      fnKind
	negate bool
}

var (
	_ G.Op              = elemOp{}
	_ G.SDOp            = elemOp{}
	_ G.ADOp            = elemOp{}
	_ G.UsePreallocDoer = elemOp{}
)

func (op elemOp) Arity() int { return 1 }

// Type is a → a.
func (op elemOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}

func (op elemOp) InferShape(inputs ...G.DimSizer) (tensor.Shape, error) {
	if len(inputs) != 1 || inputs[0] == nil {
		return nil, fmt.Errorf("ops: %v: want one input shape, got %v", op, inputs)
	}
	s, ok := inputs[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("ops: %v: input shape is a %T", op, inputs[0])
	}
	return s.Clone(), nil
}

func (op elemOp) Do(inputs ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, inputs...) }

// UsePreallocDo writes into prealloc when it fits (see output) and allocates otherwise.
func (op elemOp) UsePreallocDo(prealloc G.Value, inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("ops: %v: want 1 input, got %d", op, len(inputs))
	}
	in, err := flatOf(inputs[0])
	if err != nil {
		return nil, fmt.Errorf("ops: %v: %w", op, err)
	}
	v, out := output(prealloc, in, in)
	parallelFor(in.len(), func(lo, hi int) { op.apply(out, in, lo, hi) })
	return v, nil
}

// apply computes entries [lo, hi) of out from in.
func (op elemOp) apply(out, in flat, lo, hi int) {
	if in.dt == tensor.Float64 {
		apply64(op.k, op.negate, out.f64[lo:hi], in.f64[lo:hi])
	} else {
		apply32(op.k, op.negate, out.f32[lo:hi], in.f32[lo:hi])
	}
}

func (op elemOp) ReturnsPtr() bool     { return false }
func (op elemOp) CallsExtern() bool    { return false }
func (op elemOp) OverwritesInput() int { return -1 }

func (op elemOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "ebm/ops.%v", op) }

func (op elemOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func (op elemOp) String() string {
	if op.negate {
		return "Neg" + fnNames[op.k]
	}
	return fnNames[op.k]
}

// DiffWRT is []bool{true}.
func (op elemOp) DiffWRT(inputs int) []bool {
	d := make([]bool, inputs)
	for i := range d {
		d[i] = true
	}
	return d
}

// SymDiff returns grad ⊙ (±k'(x)), with k' another elemOp, so that higher derivatives work too
// (up to σ‴, whose derivative returns an error).
func (op elemOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("ops: %v: SymDiff wants 1 input, got %d", op, len(inputs))
	}
	dk, neg, ok := op.k.derivative()
	if !ok {
		return nil, fmt.Errorf("ops: %v: derivative not implemented", op)
	}
	d, err := G.ApplyOp(elemOp{k: dk, negate: neg != op.negate}, inputs[0])
	if err != nil {
		return nil, fmt.Errorf("ops: %v: SymDiff: %w", op, err)
	}
	dx, err := G.HadamardProd(grad, d)
	if err != nil {
		return nil, fmt.Errorf("ops: %v: SymDiff: %w", op, err)
	}
	return G.Nodes{dx}, nil
}

// DoDiff accumulates d(input) += d(output) ⊙ (±k'(x)) for Gorgonia's LispMachine.
func (op elemOp) DoDiff(ctx G.ExecutionContext, inputs G.Nodes, output *G.Node) error {
	if len(inputs) != 1 {
		return fmt.Errorf("ops: %v: DoDiff wants 1 input, got %d", op, len(inputs))
	}
	dk, neg, ok := op.k.derivative()
	if !ok {
		return fmt.Errorf("ops: %v: derivative not implemented", op)
	}
	neg = neg != op.negate
	xg, err := inputs[0].Grad()
	if err != nil {
		return fmt.Errorf("ops: %v: DoDiff: %w", op, err)
	}
	yg, err := output.Grad()
	if err != nil {
		return fmt.Errorf("ops: %v: DoDiff: %w", op, err)
	}
	x, err := flatOf(inputs[0].Value())
	if err != nil {
		return fmt.Errorf("ops: %v: DoDiff: %w", op, err)
	}
	dx, err := flatOf(xg)
	if err != nil {
		return fmt.Errorf("ops: %v: DoDiff: %w", op, err)
	}
	dy, err := flatOf(yg)
	if err != nil {
		return fmt.Errorf("ops: %v: DoDiff: %w", op, err)
	}
	if dx.dt != x.dt || dy.dt != x.dt || dx.len() != x.len() || dy.len() != x.len() {
		return fmt.Errorf("%w: ops: %v: DoDiff: x %v %v, dx %v %v, dy %v %v", ErrShape, op, x.dt, x.shape, dx.dt, dx.shape, dy.dt, dy.shape)
	}
	sign := 1.0
	if neg {
		sign = -1
	}
	for i := range x.len() {
		g := sign * dy.at(i) * dk.eval64(x.at(i))
		if x.dt == tensor.Float64 {
			dx.f64[i] += g
		} else {
			dx.f32[i] += float32(g)
		}
	}
	return nil
}
