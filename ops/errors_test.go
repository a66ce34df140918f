package ops

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A run error from a TapeMachine, wrapped again by a caller: Transparent exposes the
// *DomainError to errors.As, and sentinel errors to errors.Is, through Gorgonia's wrapper.
func TestTransparent(t *testing.T) {
	g := G.NewGraph()
	p := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 3), G.WithName("p"),
		G.WithValue(tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{0, 0, 0, 0, 0, -3}))))
	if _, err := Bernoulli(p, rand.NewPCG(1, 1)); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	runErr := vm.RunAll()
	if runErr == nil {
		t.Fatal("no run error")
	}
	err := fmt.Errorf("training batch 7: %w", runErr)
	var de *DomainError
	if errors.As(err, &de) {
		t.Log("Gorgonia's machine errors now unwrap: Transparent may be unnecessary")
	}
	tr := Transparent(err)
	if !errors.As(tr, &de) {
		t.Fatalf("errors.As(Transparent(%v)) found no *DomainError", err)
	}
	if tr.Error() != err.Error() {
		t.Errorf("Transparent changed the message: %q", tr.Error())
	}
	if de.Index != 5 || de.Value != -3 || len(de.Coords) != 2 || de.Coords[0] != 1 || de.Coords[1] != 2 || !de.Shape.Eq(tensor.Shape{2, 3}) {
		t.Errorf("DomainError %+v", de)
	}
	for _, want := range []string{"Bernoulli#", "p[5]", "[1 2]", "(2, 3)", "-3", "[0, 1]"} {
		if !strings.Contains(de.Error(), want) {
			t.Errorf("message %q lacks %q", de.Error(), want)
		}
	}
	if Transparent(nil) != nil {
		t.Error("Transparent(nil) != nil")
	}
	joined := errors.Join(errors.New("other"), fmt.Errorf("x: %w", ErrShape))
	if !errors.Is(Transparent(joined), ErrShape) {
		t.Error("Transparent hides a joined sentinel")
	}
}

func TestCoords(t *testing.T) {
	tests := []struct {
		shape tensor.Shape
		i     int
		want  []int
	}{
		{tensor.Shape{}, 0, []int{}},
		{tensor.Shape{5}, 3, []int{3}},
		{tensor.Shape{2, 3}, 4, []int{1, 1}},
		{tensor.Shape{2, 3, 4}, 23, []int{1, 2, 3}},
	}
	for _, tt := range tests {
		if got := coords(tt.shape, tt.i); fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("coords(%v, %d) = %v, want %v", tt.shape, tt.i, got, tt.want)
		}
	}
}
