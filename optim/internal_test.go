package optim

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestB02CrossEntropySaturated is case B02: the reconstruction cross-entropy of targets [1, 0]
// with logits [-200, +200] is softplus(200) + softplus(200) = 400 exactly, in float32 and
// float64 (a naive v·log σ(a) + (1-v)·log(1-σ(a)) gives -Inf or NaN).
func TestB02CrossEntropySaturated(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		g := G.NewGraph()
		var v, a *tensor.Dense
		if dt.Eq(tensor.Float64) {
			v = tensor.New(tensor.WithShape(1, 2), tensor.WithBacking([]float64{1, 0}))
			a = tensor.New(tensor.WithShape(1, 2), tensor.WithBacking([]float64{-200, 200}))
		} else {
			v = tensor.New(tensor.WithShape(1, 2), tensor.WithBacking([]float32{1, 0}))
			a = tensor.New(tensor.WithShape(1, 2), tensor.WithBacking([]float32{-200, 200}))
		}
		vn := G.NewMatrix(g, dt, G.WithShape(1, 2), G.WithName("v"), G.WithValue(v))
		an := G.NewMatrix(g, dt, G.WithShape(1, 2), G.WithName("a"), G.WithValue(a))
		ce, err := crossEntropyRows(vn, an)
		if err != nil {
			t.Fatal(err)
		}
		var out G.Value
		G.Read(ce, &out)
		vm := G.NewTapeMachine(g)
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		vm.Close()
		if got := valueFloats(out); len(got) != 1 || got[0] != 400 {
			t.Errorf("%v: cross-entropy %v, want exactly 400", dt, got)
		}
	}
}
