package ops

import (
	"fmt"
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// newInput adds an input node of the given dtype and shape (scalar for an empty shape).
func newInput(g *G.ExprGraph, dt tensor.Dtype, shape tensor.Shape, name string) *G.Node {
	if len(shape) == 0 {
		return G.NewScalar(g, dt, G.WithName(name))
	}
	return G.NewTensor(g, dt, len(shape), G.WithShape(shape...), G.WithName(name))
}

// valueOf builds a Value of dtype dt and shape holding data (a scalar for an empty shape).
func valueOf(dt tensor.Dtype, shape tensor.Shape, data []float64) G.Value {
	if len(shape) == 0 {
		if dt == tensor.Float64 {
			return G.NewF64(data[0])
		}
		return G.NewF32(float32(data[0]))
	}
	if dt == tensor.Float64 {
		return tensor.New(tensor.WithShape(shape.Clone()...), tensor.WithBacking(append([]float64(nil), data...)))
	}
	f := make([]float32, len(data))
	for i, v := range data {
		f[i] = float32(v)
	}
	return tensor.New(tensor.WithShape(shape.Clone()...), tensor.WithBacking(f))
}

// floats64 returns a copy of v's data as float64s.
func floats64(t testing.TB, v G.Value) []float64 {
	t.Helper()
	f, err := flatOf(v)
	if err != nil {
		t.Fatalf("flatOf(%T): %v", v, err)
	}
	out := make([]float64, f.len())
	for i := range out {
		out[i] = f.at(i)
	}
	return out
}

// machine wraps a TapeMachine with Read handles for the nodes the test inspects, so values are
// copied when they are produced (register reuse may clobber node values later in a run).
type machine struct {
	vm    G.VM
	reads map[*G.Node]*G.Value
}

func newMachine(t testing.TB, g *G.ExprGraph, watch ...*G.Node) *machine {
	t.Helper()
	m := &machine{reads: map[*G.Node]*G.Value{}}
	for _, n := range watch {
		v := new(G.Value)
		G.Read(n, v)
		m.reads[n] = v
	}
	m.vm = G.NewTapeMachine(g)
	t.Cleanup(func() { m.vm.Close() })
	return m
}

// run binds the inputs, runs the program once and resets the machine.
func (m *machine) run(lets map[*G.Node]G.Value) error {
	for n, v := range lets {
		if err := G.Let(n, v); err != nil {
			return fmt.Errorf("let %v: %w", n, err)
		}
	}
	for _, v := range m.reads {
		*v = nil // force a fresh clone: Read copies into a previous value otherwise
	}
	defer m.vm.Reset()
	return m.vm.RunAll()
}

func (m *machine) mustRun(t testing.TB, lets map[*G.Node]G.Value) {
	t.Helper()
	if err := m.run(lets); err != nil {
		t.Fatalf("run: %v", err)
	}
}

// value returns the value read from n during the last run.
func (m *machine) value(t testing.TB, n *G.Node) G.Value {
	t.Helper()
	v, ok := m.reads[n]
	if !ok || *v == nil {
		t.Fatalf("no value read for %v", n)
	}
	return *v
}

func (m *machine) floats(t testing.TB, n *G.Node) []float64 {
	t.Helper()
	return floats64(t, m.value(t, n))
}

// ulps returns the distance between a and b in float64 ulps (0 for equal values).
func ulps(a, b float64) float64 {
	if a == b {
		return 0
	}
	return math.Abs(a-b) / math.Max(ulp(a), ulp(b))
}

func ulp(x float64) float64 {
	x = math.Abs(x)
	return math.Nextafter(x, math.Inf(1)) - x
}
