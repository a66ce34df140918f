package graph_test

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/graph"
)

// P3x2 is the shared fixture of ../shared/cases: 3 visible, 2 hidden units.
var (
	p3x2W = []float64{1, -1, 0.5, 0.5, -1, 2}
	p3x2B = []float64{0.1, -0.2, 0.3}
	p3x2C = []float64{0, -0.5}
)

func dense(dt tensor.Dtype, shape []int, v []float64) *tensor.Dense {
	t := tensor.New(tensor.WithShape(shape...), tensor.Of(dt))
	switch d := t.Data().(type) {
	case []float64:
		copy(d, v)
	case []float32:
		for i := range d {
			d[i] = float32(v[i])
		}
	}
	return t
}

func floats(v G.Value) []float64 {
	switch d := v.Data().(type) {
	case []float64:
		return append([]float64(nil), d...)
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	case float64:
		return []float64{d}
	case float32:
		return []float64{float64(d)}
	}
	return nil
}

// rbmNodes adds an RBM with the given parameters to g.
func rbmNodes(g *G.ExprGraph, dt tensor.Dtype, nv, nh int, w, b, c []float64) graph.RBM {
	return graph.RBM{
		W: G.NewMatrix(g, dt, G.WithShape(nv, nh), G.WithName("W"), G.WithValue(dense(dt, []int{nv, nh}, w))),
		B: G.NewVector(g, dt, G.WithShape(nv), G.WithName("b"), G.WithValue(dense(dt, []int{nv}, b))),
		C: G.NewVector(g, dt, G.WithShape(nh), G.WithName("c"), G.WithValue(dense(dt, []int{nh}, c))),
	}
}

// run compiles g, runs it once and returns the values of the given nodes (read via G.Read).
func run(t *testing.T, g *G.ExprGraph, nodes ...*G.Node) [][]float64 {
	t.Helper()
	vals := make([]G.Value, len(nodes))
	for i, n := range nodes {
		G.Read(n, &vals[i])
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	out := make([][]float64, len(nodes))
	for i, v := range vals {
		out[i] = floats(v)
	}
	return out
}

func allStates(n int) []float64 {
	var v []float64
	for s := 0; s < 1<<n; s++ {
		for i := n - 1; i >= 0; i-- {
			v = append(v, float64(s>>i&1))
		}
	}
	return v
}

func near(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values %v, want %d %v", what, len(got), got, len(want), want)
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol || math.IsNaN(got[i]) {
			t.Errorf("%s[%d] = %.12g, want %.12g (tol %g)", what, i, got[i], want[i], tol)
		}
	}
}

// TestP3x2FreeEnergy checks F(v) of the shared fixture on all 8 visible states, float32 and float64.
func TestP3x2FreeEnergy(t *testing.T) {
	want := []float64{-1.167224, -2.314675, -1.467224, -2.701005, -1.614675, -2.067224, -1.914675, -2.487339}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		g := G.NewGraph()
		p := rbmNodes(g, dt, 3, 2, p3x2W, p3x2B, p3x2C)
		v := G.NewMatrix(g, dt, G.WithShape(8, 3), G.WithName("v"), G.WithValue(dense(dt, []int{8, 3}, allStates(3))))
		f, err := graph.FreeEnergy(p, v)
		if err != nil {
			t.Fatal(err)
		}
		if !f.Dtype().Eq(dt) {
			t.Fatalf("free energy dtype %v, want %v", f.Dtype(), dt)
		}
		near(t, "F "+dt.String(), run(t, g, f)[0], want, 1e-6)
	}
}

// TestEnergyMatchesFreeEnergy checks F(v) = -log Σ_h exp(-E(v,h)) by enumerating h in the graph.
func TestEnergyMatchesFreeEnergy(t *testing.T) {
	g := G.NewGraph()
	p := rbmNodes(g, tensor.Float64, 3, 2, p3x2W, p3x2B, p3x2C)
	// Rows: every (v, h) pair, v-major.
	var vs, hs []float64
	for s := 0; s < 8; s++ {
		for hIdx := 0; hIdx < 4; hIdx++ {
			vs = append(vs, allStates(3)[3*s:3*s+3]...)
			hs = append(hs, allStates(2)[2*hIdx:2*hIdx+2]...)
		}
	}
	v := G.NewMatrix(g, tensor.Float64, G.WithShape(32, 3), G.WithName("v"), G.WithValue(dense(tensor.Float64, []int{32, 3}, vs)))
	h := G.NewMatrix(g, tensor.Float64, G.WithShape(32, 2), G.WithName("h"), G.WithValue(dense(tensor.Float64, []int{32, 2}, hs)))
	e, err := graph.Energy(p, v, h)
	if err != nil {
		t.Fatal(err)
	}
	vals := run(t, g, e)[0]
	fe := make([]float64, 8)
	for s := range fe {
		z := 0.0
		for k := 0; k < 4; k++ {
			z += math.Exp(-vals[4*s+k])
		}
		fe[s] = -math.Log(z)
	}
	near(t, "-log Σ_h exp(-E)", fe, []float64{-1.167224, -2.314675, -1.467224, -2.701005, -1.614675, -2.067224, -1.914675, -2.487339}, 1e-6)
}

// TestB11GradientsNegRoot is case B11: Neg at the root must pass gradients; dE/dθ and dF/dθ of
// P3x2 at v = 101 (h = 11) have known values and agree with central finite differences.
func TestB11GradientsNegRoot(t *testing.T) {
	t.Run("scalar", func(t *testing.T) {
		g := G.NewGraph()
		x := G.NewScalar(g, tensor.Float64, G.WithName("x"), G.WithValue(2.5))
		y := G.NewScalar(g, tensor.Float64, G.WithName("y"), G.WithValue(2.0))
		z := G.Must(G.Neg(G.Must(G.Add(x, y))))
		grads, err := G.Grad(z, x, y)
		if err != nil {
			t.Fatal(err)
		}
		got := run(t, g, grads...)
		near(t, "dz/dx,dz/dy", []float64{got[0][0], got[1][0]}, []float64{-1, -1}, 0)
	})
	build := func(energy bool, w, b, c []float64) (*G.ExprGraph, graph.RBM, *G.Node) {
		g := G.NewGraph()
		p := rbmNodes(g, tensor.Float64, 3, 2, w, b, c)
		v := G.NewMatrix(g, tensor.Float64, G.WithShape(1, 3), G.WithName("v"), G.WithValue(dense(tensor.Float64, []int{1, 3}, []float64{1, 0, 1})))
		var out *G.Node
		var err error
		if energy {
			h := G.NewMatrix(g, tensor.Float64, G.WithShape(1, 2), G.WithName("h"), G.WithValue(dense(tensor.Float64, []int{1, 2}, []float64{1, 1})))
			out, err = graph.Energy(p, v, h)
		} else {
			out, err = graph.FreeEnergy(p, v)
		}
		if err != nil {
			t.Fatal(err)
		}
		s, err := G.Sum(out)
		if err != nil {
			t.Fatal(err)
		}
		return g, p, s
	}
	cases := []struct {
		name       string
		energy     bool
		dW, dB, dC []float64
	}{
		{"energy", true, []float64{-1, -1, 0, 0, -1, -1}, []float64{-1, 0, -1}, []float64{-1, -1}},
		{"free energy", false, []float64{-0.5, -0.6224593, 0, 0, -0.5, -0.6224593}, []float64{-1, 0, -1}, []float64{-0.5, -0.6224593}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, p, s := build(tc.energy, p3x2W, p3x2B, p3x2C)
			grads, err := G.Grad(s, p.W, p.B, p.C)
			if err != nil {
				t.Fatal(err)
			}
			got := run(t, g, grads...)
			near(t, "dW", got[0], tc.dW, 1e-7)
			near(t, "db", got[1], tc.dB, 1e-7)
			near(t, "dc", got[2], tc.dC, 1e-7)
			// Central finite differences, h = 1e-6.
			value := func(w, b, c []float64) float64 {
				g, _, s := build(tc.energy, w, b, c)
				return run(t, g, s)[0][0]
			}
			params := [][]float64{p3x2W, p3x2B, p3x2C}
			for k, theta := range params {
				for i := range theta {
					plus := make([][]float64, 3)
					minus := make([][]float64, 3)
					for q := range params {
						plus[q] = append([]float64(nil), params[q]...)
						minus[q] = append([]float64(nil), params[q]...)
					}
					plus[k][i] += 1e-6
					minus[k][i] -= 1e-6
					fd := (value(plus[0], plus[1], plus[2]) - value(minus[0], minus[1], minus[2])) / 2e-6
					if math.Abs(fd-got[k][i]) > 1e-6 {
						t.Errorf("param %d entry %d: symbolic %.9g, finite difference %.9g", k, i, got[k][i], fd)
					}
				}
			}
		})
	}
}

// TestCDGradientIsAnalytic checks that Grad(mean F(v0) - mean F(vk)) equals the analytic CD
// gradient -(<v p(h|v)ᵀ>_data - <v p(h|v)ᵀ>_model) computed in plain Go from the same samples,
// for CD-1, CD-3 and a persistent chain with its own batch size, float64 (1e-12) and float32 (1e-5).
func TestCDGradientIsAnalytic(t *testing.T) {
	const nv, nh, batch = 6, 4, 5
	init := rand.New(rand.NewPCG(7, 8))
	w := make([]float64, nv*nh)
	for i := range w {
		w[i] = init.NormFloat64()
	}
	b := []float64{0.2, -0.1, 0.3, 0, -0.4, 0.1}
	c := []float64{0.1, -0.2, 0.05, 0}
	data := make([]float64, batch*nv)
	for i := range data {
		data[i] = float64(init.IntN(2))
	}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		tol := 1e-12
		if dt.Eq(tensor.Float32) {
			tol = 1e-5
		}
		for _, tc := range []struct {
			name   string
			k      int
			chains int  // 0: CD from the data
			mean   bool // last step returns p(v|h) (GibbsStepMean)
		}{{"CD-1", 1, 0, false}, {"CD-3", 3, 0, false}, {"PCD-1", 1, 7, false}, {"PCD-3", 3, 3, false},
			{"CD-1 mean", 1, 0, true}, {"CD-3 mean", 3, 0, true}} {
			t.Run(dt.String()+"/"+tc.name, func(t *testing.T) {
				g := G.NewGraph()
				p := rbmNodes(g, dt, nv, nh, w, b, c)
				v0 := G.NewMatrix(g, dt, G.WithShape(batch, nv), G.WithName("v0"), G.WithValue(dense(dt, []int{batch, nv}, data)))
				start := v0
				if tc.chains > 0 {
					chain := make([]float64, tc.chains*nv)
					for i := range chain {
						chain[i] = float64(init.IntN(2))
					}
					start = G.NewMatrix(g, dt, G.WithShape(tc.chains, nv), G.WithName("chains"), G.WithValue(dense(dt, []int{tc.chains, nv}, chain)))
				}
				src := rand.NewPCG(1, uint64(tc.k))
				steps := tc.k
				if tc.mean {
					steps--
				}
				vk := start
				var err error
				if steps > 0 {
					if vk, err = graph.Chain(graph.RBMStep(p, src), start, steps); err != nil {
						t.Fatal(err)
					}
				}
				if tc.mean {
					if vk, _, err = graph.GibbsStepMean(p, vk, src); err != nil {
						t.Fatal(err)
					}
				}
				fe := func(v *G.Node) (*G.Node, error) { return graph.FreeEnergy(p, v) }
				cost, err := graph.CDCost(fe, v0, vk)
				if err != nil {
					t.Fatal(err)
				}
				grads, err := G.Grad(cost, p.W, p.B, p.C)
				if err != nil {
					t.Fatal(err)
				}
				got := run(t, g, append(G.Nodes{vk}, grads...)...)
				model := got[0]
				for _, x := range model {
					if !tc.mean && x != 0 && x != 1 {
						t.Fatalf("chain state %v is not binary", x)
					}
					if tc.mean && (x == 0 || x == 1 || !(x > 0 && x < 1)) {
						t.Fatalf("mean chain state %v is not a probability strictly inside (0,1)", x)
					}
				}
				// Analytic gradient from the same v0 and vk, in float64.
				stats := func(v []float64) (vh, vs, hs []float64) {
					rows := len(v) / nv
					vh, vs, hs = make([]float64, nv*nh), make([]float64, nv), make([]float64, nh)
					for r := 0; r < rows; r++ {
						row := v[r*nv : (r+1)*nv]
						for j := 0; j < nh; j++ {
							a := c[j]
							for i := 0; i < nv; i++ {
								a += row[i] * w[i*nh+j]
							}
							ph := 1 / (1 + math.Exp(-a))
							hs[j] += ph / float64(rows)
							for i := 0; i < nv; i++ {
								vh[i*nh+j] += row[i] * ph / float64(rows)
							}
						}
						for i := range row {
							vs[i] += row[i] / float64(rows)
						}
					}
					return
				}
				dvh, dv, dh := stats(data)
				mvh, mv, mh := stats(model)
				sub := func(a, b []float64) []float64 {
					out := make([]float64, len(a))
					for i := range a {
						out[i] = -(a[i] - b[i])
					}
					return out
				}
				near(t, "dW", got[1], sub(dvh, mvh), tol)
				near(t, "db", got[2], sub(dv, mv), tol)
				near(t, "dc", got[3], sub(dh, mh), tol)
			})
		}
	}
}

// TestB15SizeOneDimensions is case B15: batches of one row and layers of one unit work.
func TestB15SizeOneDimensions(t *testing.T) {
	for _, tc := range []struct {
		rows int
		v    []float64
		want []float64
	}{
		{1, []float64{1, 1}, []float64{-3.048587352}},
		{2, []float64{1, 1, 0, 0}, []float64{-3.048587352, -0.693147181}},
	} {
		g := G.NewGraph()
		p := rbmNodes(g, tensor.Float64, 2, 1, []float64{1, 2}, []float64{0, 0}, []float64{0})
		v := G.NewMatrix(g, tensor.Float64, G.WithShape(tc.rows, 2), G.WithName("v"), G.WithValue(dense(tensor.Float64, []int{tc.rows, 2}, tc.v)))
		f, err := graph.FreeEnergy(p, v)
		if err != nil {
			t.Fatal(err)
		}
		if s := f.Shape(); s.TotalSize() != tc.rows {
			t.Errorf("free energy shape %v, want (%d)", s, tc.rows)
		}
		near(t, "F", run(t, g, f)[0], tc.want, 1e-9)
	}
	// One visible unit, one hidden unit, one row: a CD-1 gradient still builds and runs.
	g := G.NewGraph()
	p := rbmNodes(g, tensor.Float64, 1, 1, []float64{0.5}, []float64{0.1}, []float64{-0.1})
	v := G.NewMatrix(g, tensor.Float64, G.WithShape(1, 1), G.WithName("v"), G.WithValue(dense(tensor.Float64, []int{1, 1}, []float64{1})))
	vk, err := graph.Chain(graph.RBMStep(p, rand.NewPCG(1, 1)), v, 1)
	if err != nil {
		t.Fatal(err)
	}
	cost, err := graph.CDCost(func(v *G.Node) (*G.Node, error) { return graph.FreeEnergy(p, v) }, v, vk)
	if err != nil {
		t.Fatal(err)
	}
	grads, err := G.Grad(cost, p.W, p.B, p.C)
	if err != nil {
		t.Fatal(err)
	}
	run(t, g, grads...)
}

// TestBuilderErrors checks that malformed inputs give errors, not panics.
func TestBuilderErrors(t *testing.T) {
	g := G.NewGraph()
	p := rbmNodes(g, tensor.Float64, 3, 2, p3x2W, p3x2B, p3x2C)
	wrongCols := G.NewMatrix(g, tensor.Float64, G.WithShape(4, 5), G.WithName("v5"))
	if _, err := graph.FreeEnergy(p, wrongCols); err == nil {
		t.Error("5-column batch for a 3-visible RBM: no error")
	}
	wrongType := G.NewMatrix(g, tensor.Float32, G.WithShape(4, 3), G.WithName("v32"))
	if _, err := graph.HiddenProbs(p, wrongType); err == nil {
		t.Error("float32 batch for a float64 RBM: no error")
	}
	if _, err := graph.FreeEnergy(graph.RBM{W: p.W}, wrongCols); err == nil {
		t.Error("RBM without biases: no error")
	}
	if _, err := graph.Chain(graph.RBMStep(p, rand.NewPCG(1, 1)), wrongCols, 0); err == nil {
		t.Error("chain of length 0: no error")
	}
	bad := graph.RBM{W: p.W, B: G.NewVector(g, tensor.Float64, G.WithShape(2), G.WithName("b2")), C: p.C}
	if err := bad.Check(); err == nil {
		t.Error("visible bias of the wrong length: no error")
	}
}

// TestB14MachineReuse is case B14: one compiled free-energy machine run 10,000 times with
// {Let, RunAll, read, Reset} returns bit-identical values without growing the heap, and building
// and closing 1,000 machines leaks no goroutines.
func TestB14MachineReuse(t *testing.T) {
	g := G.NewGraph()
	p := rbmNodes(g, tensor.Float64, 3, 2, p3x2W, p3x2B, p3x2C)
	v := G.NewMatrix(g, tensor.Float64, G.WithShape(1, 3), G.WithName("v"))
	f, err := graph.FreeEnergy(p, v)
	if err != nil {
		t.Fatal(err)
	}
	var out G.Value
	G.Read(f, &out)
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	input := dense(tensor.Float64, []int{1, 3}, []float64{1, 0, 1})
	goroutines := runtime.NumGoroutine()
	var heapAt1000 uint64
	var first float64
	for i := 1; i <= 10000; i++ {
		if err := G.Let(v, input); err != nil {
			t.Fatal(err)
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		got := floats(out)[0]
		if i == 1 {
			first = got
			if math.Abs(got+2.067224) > 1e-6 {
				t.Fatalf("F(101) = %v, want -2.067224", got)
			}
		} else if got != first {
			t.Fatalf("run %d: F(101) = %v, first run gave %v", i, got, first)
		}
		vm.Reset()
		if i == 1000 || i == 10000 {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if i == 1000 {
				heapAt1000 = ms.HeapInuse
			} else if ms.HeapInuse > heapAt1000+1<<20 {
				t.Errorf("heap in use grew from %d to %d bytes between runs 1,000 and 10,000", heapAt1000, ms.HeapInuse)
			}
		}
	}
	for i := 0; i < 1000; i++ {
		m := G.NewTapeMachine(g)
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		m.Close()
	}
	// Goroutines that finish asynchronously (e.g. parallel kernels) get a moment to exit; a leak
	// of one per machine would leave about a thousand behind.
	now := runtime.NumGoroutine()
	for wait := 0; now > goroutines && wait < 100; wait++ {
		time.Sleep(10 * time.Millisecond)
		now = runtime.NumGoroutine()
	}
	if now > goroutines+2 {
		t.Errorf("goroutines grew from %d to %d after 1,000 machines", goroutines, now)
	}
}
