package graph_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/graph"
)

// fusedCase is one comparison of the fused builders (the default) with RBM.Unfused.
type fusedCase struct {
	dt             tensor.Dtype
	nv, nh, batch  int
	k              int
	persistentRows int  // 0: the chain starts at the data
	mean           bool // the chain ends with GibbsStepMean
	data           string
}

func (c fusedCase) String() string {
	return fmt.Sprintf("%v/%dx%d/batch%d/k%d/pcd%d/mean%v/%s", c.dt, c.nv, c.nh, c.batch, c.k, c.persistentRows, c.mean, c.data)
}

// buildCD adds an RBM, a k-step chain, the CD cost and its gradient to a new graph, and returns
// every node the comparison reads: hidden logits and probabilities of v0, visible logits and
// probabilities of the first hidden sample, F(v0), F(vk), the first hidden sample, vk, the
// cost and the gradients with respect to W, B and C.
func buildCD(t *testing.T, c fusedCase, unfused bool, w, b, cb, data, chains []float64, seed uint64) (*G.ExprGraph, []*G.Node) {
	t.Helper()
	g := G.NewGraph()
	p := rbmNodes(g, c.dt, c.nv, c.nh, w, b, cb)
	p.Unfused = unfused
	v0 := G.NewMatrix(g, c.dt, G.WithShape(c.batch, c.nv), G.WithName("v0"), G.WithValue(dense(c.dt, []int{c.batch, c.nv}, data)))
	start := v0
	if c.persistentRows > 0 {
		start = G.NewMatrix(g, c.dt, G.WithShape(c.persistentRows, c.nv), G.WithName("chains"), G.WithValue(dense(c.dt, []int{c.persistentRows, c.nv}, chains)))
	}
	src := rand.NewPCG(seed, seed+1)
	must := func(n *G.Node, err error) *G.Node {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	ah := must(graph.HiddenLogits(p, v0))
	ph := must(graph.HiddenProbs(p, v0))
	f0 := must(graph.FreeEnergy(p, v0))
	v, h1, err := graph.GibbsStep(p, start, src)
	if err != nil {
		t.Fatal(err)
	}
	av := must(graph.VisibleLogits(p, h1))
	pv := must(graph.VisibleProbs(p, h1))
	for i := 1; i < c.k; i++ {
		if c.mean && i == c.k-1 {
			if v, _, err = graph.GibbsStepMean(p, v, src); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if v, _, err = graph.GibbsStep(p, v, src); err != nil {
			t.Fatal(err)
		}
	}
	fk := must(graph.FreeEnergy(p, v))
	cost := must(graph.CDCost(func(x *G.Node) (*G.Node, error) { return graph.FreeEnergy(p, x) }, v0, v))
	grads, err := G.Grad(cost, p.W, p.B, p.C)
	if err != nil {
		t.Fatal(err)
	}
	return g, append([]*G.Node{ah, ph, av, pv, f0, fk, h1, v, cost}, grads...)
}

var fusedNames = []string{"hidden logits", "hidden probs", "visible logits", "visible probs", "F(v0)", "F(vk)", "h1", "vk", "cost", "dW", "dB", "dC"}

// TestFusedMatchesUnfused pins the fused builders (ops.Affine, AffineT, SoftplusSum,
// SigmoidBernoulli) to the unfused ones built from Gorgonia's generic ops: the same seed gives
// the same samples, and every value and gradient agrees to 1e-12 (float64) / 1e-5 (float32),
// relative to max(1, |value|), over several runs of one machine (persistent buffers reused).
func TestFusedMatchesUnfused(t *testing.T) {
	var cases []fusedCase
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		cases = append(cases,
			fusedCase{dt, 3, 2, 4, 1, 0, false, "binary"},
			fusedCase{dt, 20, 15, 8, 1, 0, false, "grey"},
			fusedCase{dt, 20, 15, 8, 3, 0, false, "binary"},
			fusedCase{dt, 20, 15, 8, 2, 0, true, "grey"},
			fusedCase{dt, 20, 15, 8, 1, 11, false, "binary"},
			fusedCase{dt, 70, 45, 16, 1, 0, false, "grey"}, // vector chunks plus tails
		)
	}
	for _, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(c.nv), uint64(c.nh)))
			w := make([]float64, c.nv*c.nh)
			for i := range w {
				w[i] = 0.5 * r.NormFloat64()
			}
			b, cb := make([]float64, c.nv), make([]float64, c.nh)
			for i := range b {
				b[i] = 0.3 * r.NormFloat64()
			}
			for i := range cb {
				cb[i] = 0.3 * r.NormFloat64()
			}
			data := make([]float64, c.batch*c.nv)
			for i := range data {
				if r.Float64() < 0.3 {
					data[i] = 1
					if c.data == "grey" {
						data[i] = 1 - r.Float64()
					}
				}
			}
			chains := make([]float64, c.persistentRows*c.nv)
			for i := range chains {
				chains[i] = float64(r.IntN(2))
			}
			tol := 1e-12
			if c.dt == tensor.Float32 {
				tol = 1e-5
			}
			gf, nf := buildCD(t, c, false, w, b, cb, data, chains, 5)
			gu, nu := buildCD(t, c, true, w, b, cb, data, chains, 5)
			mf, mu := newRunner(t, gf, nf), newRunner(t, gu, nu)
			for run := range 3 {
				fv, uv := mf.run(t), mu.run(t)
				for i, name := range fusedNames {
					for j := range uv[i] {
						if d := math.Abs(fv[i][j] - uv[i][j]); !(d <= tol*math.Max(1, math.Abs(uv[i][j]))) {
							t.Fatalf("run %d: %s[%d]: fused %v, unfused %v (diff %g)", run, name, j, fv[i][j], uv[i][j], d)
						}
					}
				}
			}
		})
	}
}

// runner runs one compiled graph repeatedly, reading nodes with G.Read.
type runner struct {
	vm   G.VM
	vals []G.Value
}

func newRunner(t *testing.T, g *G.ExprGraph, nodes []*G.Node) *runner {
	r := &runner{vals: make([]G.Value, len(nodes))}
	for i, n := range nodes {
		G.Read(n, &r.vals[i])
	}
	r.vm = G.NewTapeMachine(g)
	t.Cleanup(func() { r.vm.Close() })
	return r
}

func (r *runner) run(t *testing.T) [][]float64 {
	t.Helper()
	defer r.vm.Reset()
	if err := r.vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	out := make([][]float64, len(r.vals))
	for i, v := range r.vals {
		out[i] = floats(v)
	}
	return out
}
