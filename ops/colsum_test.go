package ops

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestColSumMatchesSum: the column sums equal Gorgonia's G.Sum(g, 0) bit for bit (same order of
// additions), on a matrix wide enough to be split among the CPUs, and the gradient of
// Σ_j R_j·(Σ_r g[r, j]) with respect to g is R in every row.
func TestColSumMatchesSum(t *testing.T) {
	for _, dt := range floatDtypes {
		r := rand.New(rand.NewPCG(23, 23))
		const rows, m = 37, 1500
		gv := matrixData(r, rows, m, "dense", 0)
		rv := matrixData(r, 1, m, "dense", 0)
		g := G.NewGraph()
		x := G.NewMatrix(g, dt, G.WithShape(rows, m), G.WithName("g"), G.WithValue(valueOf(dt, tensor.Shape{rows, m}, gv)))
		R := G.NewVector(g, dt, G.WithShape(m), G.WithName("R"), G.WithValue(valueOf(dt, tensor.Shape{m}, rv)))
		fused := G.Must(G.ApplyOp(&colSumOp{}, x))
		plain := G.Must(G.Sum(x, 0))
		cost := G.Must(G.Sum(G.Must(G.HadamardProd(fused, R))))
		grads, err := G.Grad(cost, x)
		if err != nil {
			t.Fatal(err)
		}
		mc := newMachine(t, g, fused, plain, grads[0])
		mc.mustRun(t, nil)
		a, b := mc.floats(t, fused), mc.floats(t, plain)
		for j := range a {
			if a[j] != b[j] {
				t.Fatalf("%v: column %d: ColSum %v, G.Sum %v", dt, j, a[j], b[j])
			}
		}
		want := make([]float64, m)
		for j, v := range rv {
			want[j] = v
			if dt == tensor.Float32 {
				want[j] = float64(float32(v))
			}
		}
		for i, d := range mc.floats(t, grads[0]) {
			if d != want[i%m] {
				t.Fatalf("%v: d/dg[%d] = %v, want R[%d] = %v", dt, i, d, i%m, want[i%m])
			}
		}
	}
}
