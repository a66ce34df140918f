package ops

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// fusedTol is the agreement required between fused and unfused graphs: 1e-12 (float64) and
// 1e-5 (float32), normwise: relative to max(1, max_j |want_j|). (Entry-wise relative error is
// no fair measure for float32 sums of hundreds of random terms that cancel: two correct
// summation orders differ by more than 1e-5 of a small result.)
func fusedTol(dt tensor.Dtype) float64 {
	if dt == tensor.Float32 {
		return 1e-5
	}
	return 1e-12
}

func assertClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	scale := 1.0
	for _, w := range want {
		scale = math.Max(scale, math.Abs(w))
	}
	for i := range got {
		if d := math.Abs(got[i] - want[i]); !(d <= tol*scale) {
			t.Fatalf("%s[%d] = %v, want %v (diff %g > tol %g)", what, i, got[i], want[i], d, tol)
		}
	}
}

// matrixData returns rows×cols values: binary with P(1) = density, real in (0, 1] with that
// density, or dense normal values, as kind says.
func matrixData(r *rand.Rand, rows, cols int, kind string, density float64) []float64 {
	x := make([]float64, rows*cols)
	for i := range x {
		switch kind {
		case "binary":
			if r.Float64() < density {
				x[i] = 1
			}
		case "sparse":
			if r.Float64() < density {
				x[i] = 1 - r.Float64()
			}
		default:
			x[i] = r.NormFloat64()
		}
	}
	return x
}

type affineCase struct {
	dt         tensor.Dtype
	trans      bool
	kind       string
	rows, k, m int
}

func (c affineCase) String() string {
	name := "Affine"
	if c.trans {
		name = "AffineT"
	}
	return fmt.Sprintf("%s/%v/%s/%dx%dx%d", name, c.dt, c.kind, c.rows, c.k, c.m)
}

func affineCases() []affineCase {
	var cs []affineCase
	for _, dt := range floatDtypes {
		for _, trans := range []bool{false, true} {
			for _, kind := range []string{"binary", "sparse", "dense"} {
				cs = append(cs,
					affineCase{dt, trans, kind, 7, 13, 5},
					affineCase{dt, trans, kind, 10, 70, 67}, // vector chunks and scalar tails
					affineCase{dt, trans, kind, 1, 3, 1},
				)
			}
		}
		// Large enough for the parallel paths.
		cs = append(cs, affineCase{dt, false, "binary", 40, 300, 260}, affineCase{dt, true, "sparse", 40, 260, 300})
	}
	return cs
}

// buildAffine adds x, w, c, a weight matrix R and the cost Σ R ⊙ (x·w + c) (fused or not), and
// returns the nodes to read: output, cost, dx, dw, dc.
func buildAffine(t *testing.T, c affineCase, fused bool, xv, wv, cv, rv []float64) (*G.ExprGraph, []*G.Node) {
	t.Helper()
	g := G.NewGraph()
	ws := tensor.Shape{c.k, c.m}
	if c.trans {
		ws = tensor.Shape{c.m, c.k}
	}
	x := G.NewMatrix(g, c.dt, G.WithShape(c.rows, c.k), G.WithName("x"), G.WithValue(valueOf(c.dt, tensor.Shape{c.rows, c.k}, xv)))
	w := G.NewMatrix(g, c.dt, G.WithShape(ws...), G.WithName("w"), G.WithValue(valueOf(c.dt, ws, wv)))
	cn := G.NewVector(g, c.dt, G.WithShape(c.m), G.WithName("c"), G.WithValue(valueOf(c.dt, tensor.Shape{c.m}, cv)))
	r := G.NewMatrix(g, c.dt, G.WithShape(c.rows, c.m), G.WithName("R"), G.WithValue(valueOf(c.dt, tensor.Shape{c.rows, c.m}, rv)))
	var y *G.Node
	var err error
	switch {
	case fused && c.trans:
		y, err = AffineT(x, w, cn)
	case fused:
		y, err = Affine(x, w, cn)
	default:
		wm := w
		if c.trans {
			wm = G.Must(G.Transpose(w))
		}
		y, err = G.BroadcastAdd(G.Must(G.Mul(x, wm)), cn, nil, []byte{0})
	}
	if err != nil {
		t.Fatal(err)
	}
	cost := G.Must(G.Sum(G.Must(G.HadamardProd(y, r))))
	grads, err := G.Grad(cost, x, w, cn)
	if err != nil {
		t.Fatal(err)
	}
	return g, append([]*G.Node{y, cost}, grads...)
}

// TestAffineMatchesUnfused pins Affine and AffineT, values and gradients with respect to x, w
// and c, to the same products built from Gorgonia's MatMul and BroadcastAdd.
func TestAffineMatchesUnfused(t *testing.T) {
	for _, c := range affineCases() {
		t.Run(c.String(), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(c.rows), uint64(c.k*c.m)))
			xv := matrixData(r, c.rows, c.k, c.kind, 0.3)
			wv := matrixData(r, c.k, c.m, "dense", 0)
			cv := matrixData(r, 1, c.m, "dense", 0)
			rv := matrixData(r, c.rows, c.m, "dense", 0)
			var got, want [][]float64
			for _, fused := range []bool{true, false} {
				g, nodes := buildAffine(t, c, fused, xv, wv, cv, rv)
				m := newMachine(t, g, nodes...)
				m.mustRun(t, nil)
				vals := make([][]float64, len(nodes))
				for i, n := range nodes {
					vals[i] = m.floats(t, n)
				}
				if fused {
					got = vals
				} else {
					want = vals
				}
			}
			for i, what := range []string{"value", "cost", "dx", "dw", "dc"} {
				if what == "cost" {
					// A sum of rows·m products: compare relative to Σ |terms|.
					scale := 0.0
					for j, y := range want[0] {
						scale += math.Abs(y * rv[j])
					}
					assertClose(t, what, []float64{got[1][0] / math.Max(1, scale)}, []float64{want[1][0] / math.Max(1, scale)}, fusedTol(c.dt))
					continue
				}
				assertClose(t, what, got[i], want[i], fusedTol(c.dt))
			}
			// The default build multiplies exactly as gonum does: Affine is bit-identical.
			if !c.trans && pureGo() {
				for i := range got[0] {
					if got[0][i] != want[0][i] {
						t.Fatalf("Affine value %d = %v, MatMul+BroadcastAdd %v: not bit-identical", i, got[0][i], want[0][i])
					}
				}
			}
		})
	}
}

// TestAffineRepeatedRuns checks that the buffers an Affine op keeps between runs give correct
// values when the inputs change and that a run allocates little once warmed up.
func TestAffineRepeatedRuns(t *testing.T) {
	for _, dt := range floatDtypes {
		g := G.NewGraph()
		r := rand.New(rand.NewPCG(3, 3))
		x := G.NewMatrix(g, dt, G.WithShape(20, 30), G.WithName("x"))
		w := G.NewMatrix(g, dt, G.WithShape(30, 40), G.WithName("w"), G.WithValue(valueOf(dt, tensor.Shape{30, 40}, matrixData(r, 30, 40, "dense", 0))))
		c := G.NewVector(g, dt, G.WithShape(40), G.WithName("c"), G.WithValue(valueOf(dt, tensor.Shape{40}, matrixData(r, 1, 40, "dense", 0))))
		y := G.Must(Affine(x, w, c))
		want := G.Must(G.BroadcastAdd(G.Must(G.Mul(x, w)), c, nil, []byte{0}))
		m := newMachine(t, g, y, want)
		for i := range 5 {
			xv := valueOf(dt, tensor.Shape{20, 30}, matrixData(r, 20, 30, "binary", 0.1*float64(i+1)))
			m.mustRun(t, map[*G.Node]G.Value{x: xv})
			assertClose(t, fmt.Sprintf("%v run %d", dt, i), m.floats(t, y), m.floats(t, want), fusedTol(dt))
		}
	}
	// The op itself: no allocation per call beyond the small input views.
	op := &affineOp{}
	r := rand.New(rand.NewPCG(4, 4))
	in := []G.Value{
		valueOf(tensor.Float32, tensor.Shape{100, 784}, matrixData(r, 100, 784, "sparse", 0.19)),
		valueOf(tensor.Float32, tensor.Shape{784, 500}, matrixData(r, 784, 500, "dense", 0)),
		valueOf(tensor.Float32, tensor.Shape{500}, matrixData(r, 1, 500, "dense", 0)),
	}
	if _, err := op.Do(in...); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(5, func() { _, _ = op.Do(in...) }); a > 10 {
		t.Errorf("Affine.Do allocates %v times per call once warm; want ≤ 10", a)
	}
}

func TestAffineErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 3), G.WithName("x"))
	w := G.NewMatrix(g, tensor.Float64, G.WithShape(3, 4), G.WithName("w"))
	c := G.NewVector(g, tensor.Float64, G.WithShape(4), G.WithName("c"))
	c5 := G.NewVector(g, tensor.Float64, G.WithShape(5), G.WithName("c5"))
	w32 := G.NewMatrix(g, tensor.Float32, G.WithShape(3, 4), G.WithName("w32"))
	wi := G.NewMatrix(g, tensor.Int, G.WithShape(3, 4), G.WithName("wi"))
	for _, tc := range []struct {
		name string
		f    func() (*G.Node, error)
		want error
	}{
		{"nil x", func() (*G.Node, error) { return Affine(nil, w, c) }, nil},
		{"int w", func() (*G.Node, error) { return Affine(x, wi, c) }, ErrDtype},
		{"mixed dtypes", func() (*G.Node, error) { return Affine(x, w32, c) }, ErrDtype},
		{"bias length", func() (*G.Node, error) { return Affine(x, w, c5) }, ErrShape},
		{"inner dims (AffineT)", func() (*G.Node, error) { return AffineT(x, w, c) }, ErrShape},
		{"vector x", func() (*G.Node, error) { return Affine(c, w, c) }, ErrShape},
		{"SoftplusSum of a vector", func() (*G.Node, error) { return SoftplusSum(c) }, ErrShape},
		{"SigmoidBernoulli nil source", func() (*G.Node, error) { return SigmoidBernoulli(x, nil) }, nil},
		{"SigmoidBernoulli int", func() (*G.Node, error) { return SigmoidBernoulli(wi, rand.NewPCG(1, 1)) }, ErrDtype},
	} {
		n, err := tc.f()
		if err == nil {
			t.Errorf("%s: no error (node %v)", tc.name, n)
			continue
		}
		if tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v does not wrap %v", tc.name, err, tc.want)
		}
	}
	// Values of the wrong shape at run time are errors, not panics.
	x0 := valueOf(tensor.Float64, tensor.Shape{2, 3}, make([]float64, 6))
	c0 := valueOf(tensor.Float64, tensor.Shape{4}, make([]float64, 4))
	if _, err := (&affineOp{}).Do(x0, valueOf(tensor.Float64, tensor.Shape{4, 4}, make([]float64, 16)), c0); !errors.Is(err, ErrShape) {
		t.Errorf("Do with a (4, 4) w: error %v, want ErrShape", err)
	}
	if _, err := (&outerOp{}).Do(x0, c0); !errors.Is(err, ErrShape) {
		t.Errorf("OuterSum with a vector g: error %v, want ErrShape", err)
	}
	if _, err := (&sigmoidScaleOp{}).Do(x0, c0); !errors.Is(err, ErrShape) {
		t.Errorf("SigmoidScale with 4 weights for 2 rows: error %v, want ErrShape", err)
	}
}

// TestOuterMatchesMatMul pins the weight-gradient op xᵀ·g to Gorgonia's MatMul, bit for bit in
// the default build (same summation order as gonum's GEMM), and its own gradient.
func TestOuterMatchesMatMul(t *testing.T) {
	for _, dt := range floatDtypes {
		for _, kind := range []string{"binary", "sparse", "dense"} {
			r := rand.New(rand.NewPCG(9, 9))
			const rows, k, m = 9, 37, 21
			g := G.NewGraph()
			x := G.NewMatrix(g, dt, G.WithShape(rows, k), G.WithName("x"), G.WithValue(valueOf(dt, tensor.Shape{rows, k}, matrixData(r, rows, k, kind, 0.25))))
			gr := G.NewMatrix(g, dt, G.WithShape(rows, m), G.WithName("g"), G.WithValue(valueOf(dt, tensor.Shape{rows, m}, matrixData(r, rows, m, "dense", 0))))
			R := G.NewMatrix(g, dt, G.WithShape(k, m), G.WithName("R"), G.WithValue(valueOf(dt, tensor.Shape{k, m}, matrixData(r, k, m, "dense", 0))))
			fused := G.Must(G.ApplyOp(&outerOp{}, x, gr))
			plain := G.Must(G.Mul(G.Must(G.Transpose(x)), gr))
			cf := G.Must(G.Sum(G.Must(G.HadamardProd(fused, R))))
			cp := G.Must(G.Sum(G.Must(G.HadamardProd(plain, R))))
			gf, err := G.Grad(cf, x, gr)
			if err != nil {
				t.Fatal(err)
			}
			// Separate graphs would be cleaner, but Grad on one graph with two costs is fine:
			// read both sets of gradients from distinct cost nodes.
			g2 := G.NewGraph()
			x2 := G.NewMatrix(g2, dt, G.WithShape(rows, k), G.WithName("x"), G.WithValue(x.Value()))
			gr2 := G.NewMatrix(g2, dt, G.WithShape(rows, m), G.WithName("g"), G.WithValue(gr.Value()))
			R2 := G.NewMatrix(g2, dt, G.WithShape(k, m), G.WithName("R"), G.WithValue(R.Value()))
			cp2 := G.Must(G.Sum(G.Must(G.HadamardProd(G.Must(G.Mul(G.Must(G.Transpose(x2)), gr2)), R2))))
			gp, err := G.Grad(cp2, x2, gr2)
			if err != nil {
				t.Fatal(err)
			}
			m1 := newMachine(t, g, fused, plain, cf, cp, gf[0], gf[1])
			m1.mustRun(t, nil)
			m2 := newMachine(t, g2, gp[0], gp[1])
			m2.mustRun(t, nil)
			a, b := m1.floats(t, fused), m1.floats(t, plain)
			assertClose(t, "xᵀg", a, b, fusedTol(dt))
			for i := range a {
				if pureGo() && a[i] != b[i] {
					t.Fatalf("%v %s: xᵀg[%d] = %v, MatMul %v: not bit-identical", dt, kind, i, a[i], b[i])
				}
			}
			assertClose(t, "d/dx", m1.floats(t, gf[0]), m2.floats(t, gp[0]), fusedTol(dt))
			assertClose(t, "d/dg", m1.floats(t, gf[1]), m2.floats(t, gp[1]), fusedTol(dt))
		}
	}
}

// TestSoftplusSumMatchesUnfused compares SoftplusSum with Sum(Softplus(a), 1): values, first
// and second derivatives, including saturated entries (case B01, B03 magnitudes).
func TestSoftplusSumMatchesUnfused(t *testing.T) {
	for _, dt := range floatDtypes {
		r := rand.New(rand.NewPCG(11, 12))
		const rows, n = 6, 300
		av := matrixData(r, rows, n, "dense", 0)
		for i := range av {
			av[i] *= 8
		}
		av[0], av[1], av[2], av[3] = 150, -150, 16.5, 800
		gv := matrixData(r, 1, rows, "dense", 0)
		var got, want [][]float64
		for _, fused := range []bool{true, false} {
			g := G.NewGraph()
			a := G.NewMatrix(g, dt, G.WithShape(rows, n), G.WithName("a"), G.WithValue(valueOf(dt, tensor.Shape{rows, n}, av)))
			w := G.NewVector(g, dt, G.WithShape(rows), G.WithName("w"), G.WithValue(valueOf(dt, tensor.Shape{rows}, gv)))
			var s *G.Node
			if fused {
				s = G.Must(SoftplusSum(a))
			} else {
				s = G.Must(G.Sum(G.Must(Softplus(a)), 1))
			}
			cost := G.Must(G.Sum(G.Must(G.HadamardProd(s, w))))
			da := mustGrad(cost, a)[0]
			// Second order: d/da Σ da ⊙ da.
			c2 := G.Must(G.Sum(G.Must(G.HadamardProd(da, da))))
			d2 := mustGrad(c2, a, w)
			m := newMachine(t, g, s, da, d2[0], d2[1])
			m.mustRun(t, nil)
			vals := [][]float64{m.floats(t, s), m.floats(t, da), m.floats(t, d2[0]), m.floats(t, d2[1])}
			if fused {
				got = vals
			} else {
				want = vals
			}
		}
		for i, what := range []string{"value", "grad", "second-order grad a", "second-order grad w"} {
			assertClose(t, fmt.Sprintf("%v %s", dt, what), got[i], want[i], fusedTol(dt))
		}
	}
}

// TestSoftplusSumB01 checks the exact free-energy magnitudes of case B01 through the fused op:
// softplus(150)·2 = 300 exactly, in float32 too, and softplus(0)·2 = 2 ln 2.
func TestSoftplusSumB01(t *testing.T) {
	for _, dt := range floatDtypes {
		out, err := (&softplusSumOp{}).Do(valueOf(dt, tensor.Shape{2, 2}, []float64{150, 150, 0, 0}))
		if err != nil {
			t.Fatal(err)
		}
		v := floats64(t, out)
		if v[0] != 300 {
			t.Errorf("%v: softplus sum at 150, 150 = %v, want 300 exactly", dt, v[0])
		}
		if math.Abs(v[1]-2*math.Ln2) > fusedTol(dt) {
			t.Errorf("%v: softplus sum at 0, 0 = %v, want 2 ln 2", dt, v[1])
		}
	}
}

// TestSigmoidBernoulliSameDraws: SigmoidBernoulli(a, src) and Bernoulli(Sigmoid(a), src) draw
// identical samples from equal seeds, run after run, for PCG (the devirtualised path) and
// another Source, on one CPU and on several (the uniforms and σ(a) are computed concurrently).
func TestSigmoidBernoulliSameDraws(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2} {
		runtime.GOMAXPROCS(procs)
		sigmoidBernoulliSameDraws(t)
	}
	// NaN logits: a DomainError, not a panic or a silent sample.
	g := G.NewGraph()
	a := G.NewVector(g, tensor.Float64, G.WithShape(3), G.WithName("a"), G.WithValue(valueOf(tensor.Float64, tensor.Shape{3}, []float64{0, math.NaN(), 1})))
	s := G.Must(SigmoidBernoulli(a, rand.NewPCG(1, 1)))
	m := newMachine(t, g, s)
	var de *DomainError
	if err := m.run(nil); !errors.As(Transparent(err), &de) || de.Index != 1 {
		t.Fatalf("NaN logit: error %v, want a DomainError at index 1", err)
	}
}

func sigmoidBernoulliSameDraws(t *testing.T) {
	t.Helper()
	for _, dt := range floatDtypes {
		for _, newSrc := range []func() rand.Source{
			func() rand.Source { return rand.NewPCG(21, 22) },
			func() rand.Source { return rand.NewChaCha8([32]byte{1, 2, 3}) },
		} {
			r := rand.New(rand.NewPCG(1, 1))
			av := matrixData(r, 50, 77, "dense", 0)
			for i := range av {
				av[i] *= 3
			}
			g := G.NewGraph()
			a := G.NewMatrix(g, dt, G.WithShape(50, 77), G.WithName("a"), G.WithValue(valueOf(dt, tensor.Shape{50, 77}, av)))
			fused := G.Must(SigmoidBernoulli(a, newSrc()))
			plain := G.Must(Bernoulli(G.Must(Sigmoid(a)), newSrc()))
			m := newMachine(t, g, fused, plain)
			ones := 0.0
			for run := range 3 {
				m.mustRun(t, nil)
				f, p := m.floats(t, fused), m.floats(t, plain)
				for i := range f {
					if f[i] != p[i] {
						t.Fatalf("%v run %d: entry %d: fused %v, unfused %v", dt, run, i, f[i], p[i])
					}
					ones += f[i]
				}
			}
			if ones == 0 || ones == 3*50*77 {
				t.Fatalf("%v: degenerate samples (%v ones)", dt, ones)
			}
		}
	}
}

// TestFusedGradFiniteDifferences checks the fused free-energy pieces against central finite
// differences: F(v) = -(v·b) - SoftplusSum(Affine(v, W, c)) and the visible logits AffineT.
func TestFusedGradFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	const rows, nv, nh = 4, 6, 5
	vv := matrixData(r, rows, nv, "binary", 0.5)
	wv := matrixData(r, nv, nh, "dense", 0)
	bv := matrixData(r, 1, nv, "dense", 0)
	cv := matrixData(r, 1, nh, "dense", 0)
	f := func(w, b, c []float64) (float64, [][]float64) {
		g := G.NewGraph()
		v := G.NewMatrix(g, tensor.Float64, G.WithShape(rows, nv), G.WithName("v"), G.WithValue(valueOf(tensor.Float64, tensor.Shape{rows, nv}, vv)))
		W := G.NewMatrix(g, tensor.Float64, G.WithShape(nv, nh), G.WithName("W"), G.WithValue(valueOf(tensor.Float64, tensor.Shape{nv, nh}, w)))
		B := G.NewVector(g, tensor.Float64, G.WithShape(nv), G.WithName("b"), G.WithValue(valueOf(tensor.Float64, tensor.Shape{nv}, b)))
		C := G.NewVector(g, tensor.Float64, G.WithShape(nh), G.WithName("c"), G.WithValue(valueOf(tensor.Float64, tensor.Shape{nh}, c)))
		a := G.Must(Affine(v, W, C))
		fe := G.Must(G.Neg(G.Must(G.Add(G.Must(G.Mul(v, B)), G.Must(SoftplusSum(a))))))
		// Plus a term through AffineT so its gradient is checked too.
		vis := G.Must(AffineT(G.Must(Sigmoid(a)), W, B))
		cost := G.Must(G.Add(G.Must(G.Mean(fe)), G.Must(G.Mean(G.Must(Softplus(vis))))))
		grads := mustGrad(cost, W, B, C)
		m := newMachine(t, g, append([]*G.Node{cost}, grads...)...)
		m.mustRun(t, nil)
		return m.floats(t, cost)[0], [][]float64{m.floats(t, grads[0]), m.floats(t, grads[1]), m.floats(t, grads[2])}
	}
	_, grads := f(wv, bv, cv)
	params := [][]float64{wv, bv, cv}
	const h = 1e-6
	for p, param := range params {
		for i := range param {
			orig := param[i]
			param[i] = orig + h
			fp, _ := f(params[0], params[1], params[2])
			param[i] = orig - h
			fm, _ := f(params[0], params[1], params[2])
			param[i] = orig
			if fd := (fp - fm) / (2 * h); math.Abs(fd-grads[p][i]) > 1e-7 {
				t.Errorf("param %d entry %d: symbolic %v, finite difference %v", p, i, grads[p][i], fd)
			}
		}
	}
}

func mustGrad(cost *G.Node, wrt ...*G.Node) G.Nodes {
	gs, err := G.Grad(cost, wrt...)
	if err != nil {
		panic(err)
	}
	return gs
}

// pureGo reports whether Gorgonia and this package both multiply with gonum's pure-Go kernels
// (the default build), where Affine and xᵀg equal Gorgonia's MatMul bit for bit.
func pureGo() bool { return BLAS() == "gonum (pure Go)" && denseGEMM.Load() == nil }

// TestSetGEMM runs the Affine comparisons with every product handed to a dense GEMM (gonum's
// pure-Go BLAS here; OpenBLAS in the openblas build), and checks SetGEMM's argument errors.
func TestSetGEMM(t *testing.T) {
	old := denseGEMM.Load()
	defer denseGEMM.Store(old)
	if err := SetGEMM(gonum.Implementation{}, 0); err != nil {
		t.Fatal(err)
	}
	for _, c := range affineCases() {
		if c.rows > 10 {
			continue
		}
		t.Run(c.String(), func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, uint64(c.k)))
			xv := matrixData(r, c.rows, c.k, c.kind, 0.3)
			wv := matrixData(r, c.k, c.m, "dense", 0)
			cv := matrixData(r, 1, c.m, "dense", 0)
			rv := matrixData(r, c.rows, c.m, "dense", 0)
			var vals [2][][]float64
			for i, fused := range []bool{true, false} {
				g, nodes := buildAffine(t, c, fused, xv, wv, cv, rv)
				m := newMachine(t, g, nodes...)
				m.mustRun(t, nil)
				for _, n := range nodes {
					vals[i] = append(vals[i], m.floats(t, n))
				}
			}
			for i, what := range []string{"value", "cost", "dx", "dw", "dc"} {
				if what != "cost" {
					assertClose(t, what, vals[0][i], vals[1][i], fusedTol(c.dt))
				}
			}
		})
	}
	for _, bad := range []float64{-0.1, 1.5, math.NaN()} {
		if err := SetGEMM(gonum.Implementation{}, bad); err == nil {
			t.Errorf("SetGEMM(minDensity %v): no error", bad)
		}
	}
	if err := SetGEMM(nil, 0); err != nil || denseGEMM.Load() != nil {
		t.Errorf("SetGEMM(nil): %v", err)
	}
}

// TestStopSigmoid: the values of Sigmoid bit for bit, and no gradient through it.
func TestStopSigmoid(t *testing.T) {
	for _, dt := range floatDtypes {
		r := rand.New(rand.NewPCG(4, 5))
		av := matrixData(r, 7, 9, "dense", 0)
		g := G.NewGraph()
		a := G.NewMatrix(g, dt, G.WithShape(7, 9), G.WithName("a"), G.WithValue(valueOf(dt, tensor.Shape{7, 9}, av)))
		s := G.Must(StopSigmoid(a))
		p := G.Must(Sigmoid(a))
		cost := G.Must(G.Sum(G.Must(G.Add(G.Must(G.HadamardProd(s, s)), p))))
		da := mustGrad(cost, a)[0]
		m := newMachine(t, g, s, p, da)
		m.mustRun(t, nil)
		sv, pv, dv := m.floats(t, s), m.floats(t, p), m.floats(t, da)
		for i := range sv {
			if sv[i] != pv[i] {
				t.Fatalf("%v: StopSigmoid[%d] = %v, Sigmoid %v", dt, i, sv[i], pv[i])
			}
			// Only the Sigmoid term contributes: d/da σ(a) = σ(a)σ(-a).
			if want := pv[i] * (1 - pv[i]); math.Abs(dv[i]-want) > fusedTol(dt) {
				t.Fatalf("%v: gradient %v, want %v (none through StopSigmoid)", dt, dv[i], want)
			}
		}
	}
	if _, err := StopSigmoid(nil); err == nil {
		t.Error("StopSigmoid(nil): no error")
	}
}
