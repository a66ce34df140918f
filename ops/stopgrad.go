package ops

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// StopGradient adds a node whose value is a copy of x's (same shape and dtype; any dtype) and
// which Grad treats as a constant: no gradient flows through it into x. Use it for chain states
// that must not be differentiated, e.g. a persistent chain's samples fed back into a free
// energy. Unlike the sampling ops it is deterministic, so StopGradient(x) twice gives one
// (hash-consed) node.
//
// The value is copied rather than aliased because Gorgonia's TapeMachine may overwrite an op's
// output in place once it is no longer needed, which would clobber x.
//
// Errors: nil x.
func StopGradient(x *G.Node) (*G.Node, error) {
	if x == nil {
		return nil, fmt.Errorf("ops: StopGradient: x is nil")
	}
	n, err := G.ApplyOp(stopGradOp{}, x)
	if err != nil {
		return nil, fmt.Errorf("ops: StopGradient(%v): %w", x, err)
	}
	return n, nil
}

// stopGradOp is the identity with a zero derivative.
type stopGradOp struct{}

var (
	_ G.Op              = stopGradOp{}
	_ G.SDOp            = stopGradOp{}
	_ G.UsePreallocDoer = stopGradOp{}
)

func (op stopGradOp) Arity() int { return 1 }

// Type is a → a.
func (op stopGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}

func (op stopGradOp) InferShape(inputs ...G.DimSizer) (tensor.Shape, error) {
	if len(inputs) != 1 || inputs[0] == nil {
		return nil, fmt.Errorf("ops: StopGradient: want one input shape, got %v", inputs)
	}
	s, ok := inputs[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("ops: StopGradient: input shape is a %T", inputs[0])
	}
	return s.Clone(), nil
}

func (op stopGradOp) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("ops: StopGradient: want 1 input, got %d", len(inputs))
	}
	if t, ok := inputs[0].(*tensor.Dense); ok && t.RequiresIterator() {
		return tensor.Materialize(t), nil // already a fresh copy
	}
	v, err := G.CloneValue(inputs[0])
	if err != nil {
		return nil, fmt.Errorf("ops: StopGradient: %w", err)
	}
	return v, nil
}

// UsePreallocDo copies float data into prealloc when it fits (see output); other values are
// cloned.
func (op stopGradOp) UsePreallocDo(prealloc G.Value, inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("ops: StopGradient: want 1 input, got %d", len(inputs))
	}
	if t, ok := inputs[0].(*tensor.Dense); !ok || !isFloat(t.Dtype()) {
		return op.Do(inputs...)
	}
	in, err := flatOf(inputs[0])
	if err != nil {
		return nil, fmt.Errorf("ops: StopGradient: %w", err)
	}
	v, out := output(prealloc, in, in)
	copy(out.f64, in.f64)
	copy(out.f32, in.f32)
	return v, nil
}

func (op stopGradOp) ReturnsPtr() bool      { return false }
func (op stopGradOp) CallsExtern() bool     { return false }
func (op stopGradOp) OverwritesInput() int  { return -1 }
func (op stopGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, "ebm/ops.StopGradient") }
func (op stopGradOp) String() string        { return "StopGradient" }

func (op stopGradOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

// DiffWRT is all false: Grad treats the result as a constant.
func (op stopGradOp) DiffWRT(inputs int) []bool { return make([]bool, inputs) }

// SymDiff returns no gradients; Grad never calls it.
func (op stopGradOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	return make(G.Nodes, len(inputs)), nil
}
