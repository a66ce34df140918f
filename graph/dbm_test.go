package graph_test

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/graph"
)

// TestB26DBMEnergy: DBMEnergy of case B26's 3-2-1 DBM on all 64 joint states against the formula
// E = -vᵀW1h1 - h1ᵀW2h2 (no biases), and with biases added.
func TestB26DBMEnergy(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		g := G.NewGraph()
		w1 := []float64{1, -1, 0.5, 0.5, -1, 1}
		w2 := []float64{2, -2}
		bs := [][]float64{{0.1, 0, -0.3}, {0.2, -0.1}, {0.5}}
		m := graph.DBM{
			W: []*G.Node{
				G.NewMatrix(g, dt, G.WithShape(3, 2), G.WithName("W0"), G.WithValue(dense(dt, []int{3, 2}, w1))),
				G.NewMatrix(g, dt, G.WithShape(2, 1), G.WithName("W1"), G.WithValue(dense(dt, []int{2, 1}, w2))),
			},
		}
		for l, b := range bs {
			m.B = append(m.B, G.NewVector(g, dt, G.WithShape(len(b)), G.WithName("b"+string(rune('0'+l))), G.WithValue(dense(dt, []int{len(b)}, b))))
		}
		var xs [3][]float64
		var want []float64
		for s := 0; s < 64; s++ {
			v := []float64{float64(s & 1), float64(s >> 1 & 1), float64(s >> 2 & 1)}
			h1 := []float64{float64(s >> 3 & 1), float64(s >> 4 & 1)}
			h2 := []float64{float64(s >> 5 & 1)}
			xs[0], xs[1], xs[2] = append(xs[0], v...), append(xs[1], h1...), append(xs[2], h2...)
			e := 0.0
			for i := 0; i < 3; i++ {
				e -= bs[0][i] * v[i]
				for j := 0; j < 2; j++ {
					e -= v[i] * w1[i*2+j] * h1[j]
				}
			}
			for j := 0; j < 2; j++ {
				e -= bs[1][j]*h1[j] + h1[j]*w2[j]*h2[0]
			}
			e -= bs[2][0] * h2[0]
			want = append(want, e)
		}
		x := []*G.Node{
			G.NewMatrix(g, dt, G.WithShape(64, 3), G.WithName("x0"), G.WithValue(dense(dt, []int{64, 3}, xs[0]))),
			G.NewMatrix(g, dt, G.WithShape(64, 2), G.WithName("x1"), G.WithValue(dense(dt, []int{64, 2}, xs[1]))),
			G.NewMatrix(g, dt, G.WithShape(64, 1), G.WithName("x2"), G.WithValue(dense(dt, []int{64, 1}, xs[2]))),
		}
		e, err := graph.DBMEnergy(m, x)
		if err != nil {
			t.Fatal(err)
		}
		tol := 1e-12
		if dt.Eq(tensor.Float32) {
			tol = 1e-5
		}
		near(t, "E(x)", run(t, g, e)[0], want, tol)
		if _, err := graph.DBMEnergy(m, x[:2]); err == nil {
			t.Error("two layer states for a 3-layer DBM: no error")
		}
	}
}

// replicatedFreeEnergy is -log Σ_{h_1..h_down} exp(-E) with the visible copies clamped to v:
// E = -up·bᵀv - Σ_k cᵀh_k - Σ_k up·vᵀW h_k, by enumeration.
func replicatedFreeEnergy(v []float64, w, b, c []float64, nh, up, down int) float64 {
	var z float64
	for s := 0; s < 1<<(nh*down); s++ {
		e := 0.0
		for i, vi := range v {
			e -= float64(up) * b[i] * vi
		}
		for k := 0; k < down; k++ {
			for j := 0; j < nh; j++ {
				h := float64(s >> (k*nh + j) & 1)
				e -= c[j] * h
				for i, vi := range v {
					e -= float64(up) * vi * w[i*nh+j] * h
				}
			}
		}
		z += math.Exp(-e)
	}
	return -math.Log(z)
}

// TestReplicatedRBMFreeEnergy: the replicated RBM's free energy equals enumeration over the
// hidden copies, for the copy counts DBM pretraining uses.
func TestReplicatedRBMFreeEnergy(t *testing.T) {
	for _, c := range [][2]int{{1, 1}, {2, 1}, {1, 2}, {2, 2}} {
		g := G.NewGraph()
		p := graph.ReplicatedRBM{RBM: rbmNodes(g, tensor.Float64, 3, 2, p3x2W, p3x2B, p3x2C), Up: c[0], Down: c[1]}
		states := allStates(3)
		v := G.NewMatrix(g, tensor.Float64, G.WithShape(8, 3), G.WithName("v"), G.WithValue(dense(tensor.Float64, []int{8, 3}, states)))
		f, err := p.FreeEnergy(v)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float64, 8)
		for r := range want {
			want[r] = replicatedFreeEnergy(states[r*3:r*3+3], p3x2W, p3x2B, p3x2C, 2, c[0], c[1])
		}
		near(t, "F(v)", run(t, g, f)[0], want, 1e-12)
	}
	g := G.NewGraph()
	bad := graph.ReplicatedRBM{RBM: rbmNodes(g, tensor.Float64, 3, 2, p3x2W, p3x2B, p3x2C), Up: 0, Down: 1}
	if _, err := bad.UpLogits(G.NewMatrix(g, tensor.Float64, G.WithShape(1, 3), G.WithName("v"))); err == nil {
		t.Error("Up = 0: no error")
	}
}

// TestReplicatedRBMGibbsDoubling: the Gibbs step doubles the bottom-up input when Up = 2 and sums
// Down hidden samples top-down: the mean of v' from a fixed v matches the exact expectation
// E[σ(b + (Σ_k h_k)Wᵀ)] with h_k ~ σ(c + Up·vW), and not the undoubled one.
func TestReplicatedRBMGibbsDoubling(t *testing.T) {
	const n = 20000
	v0 := []float64{1, 1, 0}
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	expect := func(up, down int) []float64 {
		ph := make([]float64, 2)
		for j := range ph {
			a := p3x2C[j]
			for i, vi := range v0 {
				a += float64(up) * vi * p3x2W[i*2+j]
			}
			ph[j] = sig(a)
		}
		out := make([]float64, 3)
		for s := 0; s < 1<<(2*down); s++ {
			pr := 1.0
			sum := make([]float64, 2)
			for k := 0; k < down; k++ {
				for j := 0; j < 2; j++ {
					h := float64(s >> (2*k + j) & 1)
					sum[j] += h
					pr *= h*ph[j] + (1-h)*(1-ph[j])
				}
			}
			for i := range out {
				a := p3x2B[i]
				for j := 0; j < 2; j++ {
					a += sum[j] * p3x2W[i*2+j]
				}
				out[i] += pr * sig(a)
			}
		}
		return out
	}
	for _, c := range [][2]int{{2, 1}, {1, 2}} {
		g := G.NewGraph()
		p := graph.ReplicatedRBM{RBM: rbmNodes(g, tensor.Float64, 3, 2, p3x2W, p3x2B, p3x2C), Up: c[0], Down: c[1]}
		vs := make([]float64, 0, n*3)
		for range n {
			vs = append(vs, v0...)
		}
		v := G.NewMatrix(g, tensor.Float64, G.WithShape(n, 3), G.WithName("v"), G.WithValue(dense(tensor.Float64, []int{n, 3}, vs)))
		next, err := p.GibbsStepMean(v, rand.NewPCG(1, uint64(c[0])))
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float64, 3)
		for i, x := range run(t, g, next)[0] {
			got[i%3] += x / n
		}
		want := expect(c[0], c[1])
		near(t, "E[v']", got, want, 0.006)
		other := expect(3-c[0], 3-c[1])
		far := 0.0
		for i := range got {
			far = max(far, math.Abs(got[i]-other[i]))
		}
		if far < 0.02 {
			t.Errorf("copies %v: E[v'] %v is as close to the other doubling's %v", c, got, other)
		}
	}
}

// TestDBMCostIsMeanEnergyDifference: DBMCost equals mean DBMEnergy(data) - mean DBMEnergy(model).
func TestDBMCostIsMeanEnergyDifference(t *testing.T) {
	g := G.NewGraph()
	r := rand.New(rand.NewPCG(1, 1))
	sizes := []int{4, 3, 2}
	rnd := func(n int, binary bool) []float64 {
		v := make([]float64, n)
		for i := range v {
			if binary {
				v[i] = float64(r.IntN(2))
			} else {
				v[i] = r.Float64()
			}
		}
		return v
	}
	var m graph.DBM
	for l := 0; l < 2; l++ {
		m.W = append(m.W, G.NewMatrix(g, tensor.Float64, G.WithShape(sizes[l], sizes[l+1]), G.WithName("W"+string(rune('0'+l))),
			G.WithValue(dense(tensor.Float64, []int{sizes[l], sizes[l+1]}, rnd(sizes[l]*sizes[l+1], false)))))
	}
	var data, model []*G.Node
	for l, n := range sizes {
		m.B = append(m.B, G.NewVector(g, tensor.Float64, G.WithShape(n), G.WithName("b"+string(rune('0'+l))), G.WithValue(dense(tensor.Float64, []int{n}, rnd(n, false)))))
		data = append(data, G.NewMatrix(g, tensor.Float64, G.WithShape(5, n), G.WithName("d"+string(rune('0'+l))), G.WithValue(dense(tensor.Float64, []int{5, n}, rnd(5*n, false)))))
		model = append(model, G.NewMatrix(g, tensor.Float64, G.WithShape(7, n), G.WithName("m"+string(rune('0'+l))), G.WithValue(dense(tensor.Float64, []int{7, n}, rnd(7*n, true)))))
	}
	cost, err := graph.DBMCost(m, data, model)
	if err != nil {
		t.Fatal(err)
	}
	ed, _ := graph.DBMEnergy(m, data)
	ek, _ := graph.DBMEnergy(m, model)
	out := run(t, g, cost, ed, ek)
	mean := func(x []float64) float64 {
		s := 0.0
		for _, v := range x {
			s += v
		}
		return s / float64(len(x))
	}
	near(t, "cost", out[0], []float64{mean(out[1]) - mean(out[2])}, 1e-12)
}
