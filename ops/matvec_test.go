package ops

import (
	"errors"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestMatVecMatchesMul compares MatVec(x, w) with Gorgonia's G.Mul(x, w): values, the gradients
// with respect to x and w of Σ_r R_r·(x·w)_r, and the second derivative through VecMat (the
// gradient of Σ_i S_i·(dcost/dw)_i with respect to g's source R), on binary, sparse and dense x.
func TestMatVecMatchesMul(t *testing.T) {
	for _, dt := range floatDtypes {
		for _, kind := range []string{"binary", "sparse", "dense"} {
			r := rand.New(rand.NewPCG(19, 19))
			const rows, k = 13, 41
			xv := matrixData(r, rows, k, kind, 0.25)
			wv := matrixData(r, 1, k, "dense", 0)
			rv := matrixData(r, 1, rows, "dense", 0)
			sv := matrixData(r, 1, k, "dense", 0)
			build := func(fused bool) []float64 {
				g := G.NewGraph()
				x := G.NewMatrix(g, dt, G.WithShape(rows, k), G.WithName("x"), G.WithValue(valueOf(dt, tensor.Shape{rows, k}, xv)))
				w := G.NewVector(g, dt, G.WithShape(k), G.WithName("w"), G.WithValue(valueOf(dt, tensor.Shape{k}, wv)))
				R := G.NewVector(g, dt, G.WithShape(rows), G.WithName("R"), G.WithValue(valueOf(dt, tensor.Shape{rows}, rv)))
				S := G.NewVector(g, dt, G.WithShape(k), G.WithName("S"), G.WithValue(valueOf(dt, tensor.Shape{k}, sv)))
				var y *G.Node
				if fused {
					y = G.Must(MatVec(x, w))
				} else {
					y = G.Must(G.Mul(x, w))
				}
				cost := G.Must(G.Sum(G.Must(G.HadamardProd(y, R))))
				gr, err := G.Grad(cost, x, w, R)
				if err != nil {
					t.Fatal(err)
				}
				// Second order: d/dR of Σ_i S_i·(xᵀR)_i = x·S.
				c2 := G.Must(G.Sum(G.Must(G.HadamardProd(gr[1], S))))
				g2, err := G.Grad(c2, R)
				if err != nil {
					t.Fatal(err)
				}
				m := newMachine(t, g, y, gr[0], gr[1], g2[0])
				m.mustRun(t, nil)
				var out []float64
				for _, n := range []*G.Node{y, gr[0], gr[1], g2[0]} {
					out = append(out, m.floats(t, n)...)
				}
				return out
			}
			assertClose(t, dt.String()+" "+kind+" MatVec values and gradients", build(true), build(false), fusedTol(dt))
		}
	}
}

func TestMatVecErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float64, G.WithShape(3, 4), G.WithName("x"))
	w3 := G.NewVector(g, tensor.Float64, G.WithShape(3), G.WithName("w3"))
	w32 := G.NewVector(g, tensor.Float32, G.WithShape(4), G.WithName("w32"))
	if _, err := MatVec(x, w3); !errors.Is(err, ErrShape) {
		t.Errorf("w of the wrong length: %v, want ErrShape", err)
	}
	if _, err := MatVec(x, w32); !errors.Is(err, ErrDtype) {
		t.Errorf("mixed dtypes: %v, want ErrDtype", err)
	}
	if _, err := MatVec(nil, w3); err == nil {
		t.Error("nil x: no error")
	}
}
