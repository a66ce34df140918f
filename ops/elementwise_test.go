package ops

import (
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

var elemCtors = []struct {
	name string
	f    func(*G.Node) (*G.Node, error)
	k    fnKind
}{
	{"Softplus", Softplus, fnSoftplus},
	{"LogSigmoid", LogSigmoid, fnLogSigmoid},
	{"Sigmoid", Sigmoid, fnSigmoid},
}

var gradShapes = []tensor.Shape{{}, {1, 1}, {2, 3}, {5}, {2, 1, 3}}

// gradCheck compares Grad's gradient of cost = Σ w ⊙ f(x) with central finite differences of
// the same graph run on a TapeMachine.
func gradCheck(t *testing.T, name string, f func(*G.Node) (*G.Node, error), dt tensor.Dtype, shape tensor.Shape, x []float64, h, rtol, atol float64) {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(len(x)), 99))
	w := make([]float64, len(x))
	for i := range w {
		w[i] = 2*r.Float64() - 1
	}
	g := G.NewGraph()
	xn := newInput(g, dt, shape, "x")
	wn := newInput(g, dt, shape, "w")
	y, err := f(xn)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	prod := G.Must(G.HadamardProd(y, wn))
	cost := prod
	if len(shape) > 0 {
		cost = G.Must(G.Sum(prod))
	}
	grads, err := G.Grad(cost, xn)
	if err != nil {
		t.Fatalf("%s: Grad: %v", name, err)
	}
	m := newMachine(t, g, cost, grads[0], y)
	wv := valueOf(dt, shape, w)
	m.mustRun(t, map[*G.Node]G.Value{xn: valueOf(dt, shape, x), wn: wv})
	got := m.floats(t, grads[0])
	if len(got) != len(x) {
		t.Fatalf("%s %v: gradient has %d entries, want %d", name, shape, len(got), len(x))
	}
	costAt := func(xs []float64) float64 {
		m.mustRun(t, map[*G.Node]G.Value{xn: valueOf(dt, shape, xs), wn: wv})
		return m.floats(t, cost)[0]
	}
	for i := range x {
		xp := append([]float64(nil), x...)
		xp[i] += h
		cp := costAt(xp)
		xp[i] -= 2 * h
		cm := costAt(xp)
		// the step actually taken in dt
		step := 2 * h
		if dt == tensor.Float32 {
			step = float64(float32(x[i]+h)) - float64(float32(x[i]-h))
		}
		fd := (cp - cm) / step
		if math.Abs(got[i]-fd) > rtol*math.Abs(fd)+atol {
			t.Errorf("%s %v %v: dcost/dx[%d] at x=%v: Grad %.12g, central difference %.12g", name, dt, shape, i, x[i], got[i], fd)
		}
	}
}

func randomX(r *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = 6 * (2*r.Float64() - 1)
	}
	// large |x| too, where naive formulas saturate or overflow
	large := []float64{25, -25, 40, -40, 800, -800, 17.5, -19.5}
	for i := range x {
		if i%3 == 2 {
			x[i] = large[(i/3)%len(large)]
		}
	}
	return x
}

func TestElemGradFiniteDifferences64(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, c := range elemCtors {
		for _, shape := range gradShapes {
			x := randomX(r, max(shape.TotalSize(), 1))
			gradCheck(t, c.name, c.f, tensor.Float64, shape, x, 1e-6, 1e-6, 1e-9)
		}
	}
}

func TestElemGradFiniteDifferences32(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, c := range elemCtors {
		for _, shape := range gradShapes {
			x := randomX(r, max(shape.TotalSize(), 1))
			gradCheck(t, c.name, c.f, tensor.Float32, shape, x, 1e-2, 2e-3, 2e-3)
		}
	}
}

// Every internal derivative kernel (σ, σ(-x), σ′, σ″, σ‴, negated or not) through Grad: this is
// what Grad builds when it differentiates Softplus, LogSigmoid or Sigmoid more than once.
func TestElemOpKindsGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for k := fnSoftplus; k <= fnSigmoidPrime2; k++ {
		for _, neg := range []bool{false, true} {
			op := elemOp{k: k, negate: neg}
			f := func(x *G.Node) (*G.Node, error) { return G.ApplyOp(op, x) }
			x := randomX(r, 6)
			gradCheck(t, op.String(), f, tensor.Float64, tensor.Shape{2, 3}, x, 1e-6, 1e-6, 1e-9)
		}
	}
}

// The fourth derivative of σ is not implemented: Grad returns an error, it does not panic.
func TestElemOpHighestOrderGradErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewVector(g, tensor.Float64, G.WithShape(3), G.WithName("x"))
	y := G.Must(G.ApplyOp(elemOp{k: fnSigmoidPrime3}, x))
	if _, err := G.Grad(G.Must(G.Sum(y)), x); err == nil {
		t.Fatal("Grad through σ‴ succeeded, want an error")
	}
}

// B03 in a graph: Sigmoid and its gradient on saturated inputs, float64 and float32.
func TestSigmoidGraphB03(t *testing.T) {
	want := []float64{0, 1, 0, 1, 1, 0, 1, 1, 0.5, 0.3775406688}
	wantD := []float64{0, 0, 0, 0, 0, 0, 0, 0, 0.25, 0.2350037122}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		tol := 1e-10
		if dt == tensor.Float32 {
			tol = 1e-7
		}
		g := G.NewGraph()
		shape := tensor.Shape{len(b03X)}
		x := newInput(g, dt, shape, "x")
		s := G.Must(Sigmoid(x))
		grads, err := G.Grad(G.Must(G.Sum(s)), x)
		if err != nil {
			t.Fatal(err)
		}
		m := newMachine(t, g, s, grads[0])
		m.mustRun(t, map[*G.Node]G.Value{x: valueOf(dt, shape, b03X)})
		gs, gd := m.floats(t, s), m.floats(t, grads[0])
		for i := range want {
			if math.IsNaN(gs[i]) || math.Abs(gs[i]-want[i]) > tol {
				t.Errorf("B03 %v σ(%v) = %v, want %v", dt, b03X[i], gs[i], want[i])
			}
			if math.IsNaN(gd[i]) || math.Abs(gd[i]-wantD[i]) > tol {
				t.Errorf("B03 %v σ′(%v) = %v, want %v", dt, b03X[i], gd[i], wantD[i])
			}
		}
	}
}

// B01, B02, B03 reference values computed by the graph ops, in both dtypes.
func TestElemGraphReferenceValues(t *testing.T) {
	type tc struct {
		name string
		f    func(*G.Node) (*G.Node, error)
		x    float64
		want float64
		tol  float64
	}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		tests := []tc{
			{"B03 softplus(16.5)", Softplus, 16.5, 16.500000068256, 1e-12},
			{"B03 log-sigmoid(-19.5)", LogSigmoid, -19.5, -19.500000003398, 1e-12},
			{"B02 softplus(200)", Softplus, 200, 200, 0},
			{"B01 softplus(150)", Softplus, 150, 150, 0},
			{"B02 softplus(-200)", Softplus, -200, math.Exp(-200), 1e-15},
		}
		if dt == tensor.Float32 {
			for i := range tests {
				tests[i].want = float64(float32(tests[i].want))
				tests[i].tol = 0
			}
		}
		for _, tt := range tests {
			for _, shape := range []tensor.Shape{{}, {1, 1}} {
				g := G.NewGraph()
				x := newInput(g, dt, shape, "x")
				y, err := tt.f(x)
				if err != nil {
					t.Fatal(err)
				}
				m := newMachine(t, g, y)
				m.mustRun(t, map[*G.Node]G.Value{x: valueOf(dt, shape, []float64{tt.x})})
				v := m.value(t, y)
				if got := floats64(t, v)[0]; !relClose(got, tt.want, tt.tol) {
					t.Errorf("%s %v %v: got %.17g, want %.17g", tt.name, dt, shape, got, tt.want)
				}
				if vt, xt := G.TypeOf(v), G.TypeOf(valueOf(dt, shape, []float64{0})); !vt.Eq(xt) || !v.Shape().Eq(shape) {
					t.Errorf("%s: output %v %v, want %v %v", tt.name, vt, v.Shape(), xt, shape)
				}
			}
		}
	}
}

// The graph ops give bit-identical results to the scalar functions, including on inputs large
// enough to take the parallel path, and through UsePreallocDo.
func TestElemMatchesScalar(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	n := 100 * 500
	x64 := make([]float64, n)
	for i := range x64 {
		x64[i] = 30 * r.NormFloat64()
	}
	x32 := make([]float32, n)
	for i := range x32 {
		x32[i] = float32(x64[i])
	}
	in64 := tensor.New(tensor.WithShape(100, 500), tensor.WithBacking(x64))
	in32 := tensor.New(tensor.WithShape(100, 500), tensor.WithBacking(x32))
	scalar64 := []func(float64) float64{Softplus64, LogSigmoid64, Sigmoid64}
	scalar32 := []func(float32) float32{Softplus32, LogSigmoid32, Sigmoid32}
	for i, c := range elemCtors {
		op := elemOp{k: c.k}
		pre64 := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(100, 500))
		v, err := op.UsePreallocDo(pre64, in64)
		if err != nil {
			t.Fatal(err)
		}
		if v != G.Value(pre64) {
			t.Errorf("%s: UsePreallocDo did not use a fitting prealloc", c.name)
		}
		for j, y := range pre64.Float64s() {
			if want := scalar64[i](x64[j]); y != want && !(math.IsNaN(y) && math.IsNaN(want)) {
				t.Fatalf("%s(%v) = %v, scalar %v", c.name, x64[j], y, want)
			}
		}
		v, err = op.Do(in32)
		if err != nil {
			t.Fatal(err)
		}
		for j, y := range v.(*tensor.Dense).Float32s() {
			if want := scalar32[i](x32[j]); y != want {
				t.Fatalf("%s(%v) = %v, scalar %v", c.name, x32[j], y, want)
			}
		}
	}
}

// UsePreallocDo must not write into a prealloc that does not fit or aliases the input.
func TestElemPreallocMisfits(t *testing.T) {
	x := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{-2, -1, 0, 1, 2, 3}))
	view, err := x.Slice(nil)
	if err != nil {
		t.Fatal(err)
	}
	misfits := map[string]G.Value{
		"nil":          nil,
		"wrong shape":  tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(3, 2)),
		"wrong dtype":  tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(2, 3)),
		"scalar":       G.NewF64(0),
		"the input":    x,
		"input's view": view.(*tensor.Dense),
	}
	for name, pre := range misfits {
		before := append([]float64(nil), x.Float64s()...)
		v, err := elemOp{k: fnSoftplus}.UsePreallocDo(pre, x)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if pre != nil && v == pre {
			t.Errorf("%s: wrote into an unfit prealloc", name)
		}
		for i, xi := range x.Float64s() {
			if xi != before[i] {
				t.Fatalf("%s: input modified", name)
			}
		}
		for i, y := range v.(*tensor.Dense).Float64s() {
			if y != Softplus64(before[i]) {
				t.Errorf("%s: wrong value", name)
			}
		}
	}
}

// Non-contiguous inputs (a transpose) are read in logical row-major order.
func TestElemTransposedInput(t *testing.T) {
	x := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6}))
	if err := x.T(); err != nil {
		t.Fatal(err)
	}
	v, err := elemOp{k: fnSigmoid}.Do(x)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{1, 4, 2, 5, 3, 6}
	got := v.(*tensor.Dense)
	if !got.Shape().Eq(tensor.Shape{3, 2}) {
		t.Fatalf("shape %v", got.Shape())
	}
	for i, y := range got.Float64s() {
		if y != Sigmoid64(want[i]) {
			t.Errorf("entry %d = %v, want σ(%v)", i, y, want[i])
		}
	}
}

func TestElemDtypeErrors(t *testing.T) {
	g := G.NewGraph()
	xi := G.NewMatrix(g, tensor.Int, G.WithShape(2, 2), G.WithName("xi"))
	for _, c := range elemCtors {
		if _, err := c.f(xi); !errors.Is(err, ErrDtype) {
			t.Errorf("%s(Int): err = %v, want ErrDtype", c.name, err)
		}
		if _, err := c.f(nil); err == nil {
			t.Errorf("%s(nil): no error", c.name)
		}
	}
	if _, err := (elemOp{}).Do(tensor.New(tensor.WithShape(2), tensor.WithBacking([]int{1, 2}))); !errors.Is(err, ErrDtype) {
		t.Errorf("Do(Int value): err = %v, want ErrDtype", err)
	}
}

// Sigmoid nodes are hash-consed: the Sigmoid(x) built by Softplus's gradient is the caller's.
func TestElemHashConsing(t *testing.T) {
	g := G.NewGraph()
	x := G.NewVector(g, tensor.Float64, G.WithShape(3), G.WithName("x"))
	s1, s2 := G.Must(Sigmoid(x)), G.Must(Sigmoid(x))
	if s1 != s2 {
		t.Errorf("Sigmoid(x) twice gave two nodes")
	}
	sp := G.Must(Softplus(x))
	if _, err := G.Grad(G.Must(G.Sum(sp)), x); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, node := range g.AllNodes() {
		if op, ok := node.Op().(elemOp); ok && op.k == fnSigmoid {
			n++
		}
	}
	if n != 1 {
		t.Errorf("graph has %d Sigmoid nodes, want 1", n)
	}
}

// DoDiff serves Gorgonia's LispMachine.
func TestElemLispMachine(t *testing.T) {
	for _, c := range elemCtors {
		g := G.NewGraph()
		xv := []float64{-30, -1, 0, 2, 40}
		x := G.NewVector(g, tensor.Float64, G.WithShape(5), G.WithName("x"), G.WithValue(tensor.New(tensor.WithBacking(append([]float64(nil), xv...)))))
		cost := G.Must(G.Sum(G.Must(c.f(x))))
		vm := G.NewLispMachine(g)
		if err := vm.RunAll(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		vm.Close()
		gv, err := x.Grad()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		dk, _, _ := c.k.derivative()
		for i, d := range floats64(t, gv) {
			if want := dk.eval64(xv[i]); math.Abs(d-want) > 1e-15 {
				t.Errorf("%s: LispMachine gradient at %v = %v, want %v", c.name, xv[i], d, want)
			}
		}
		_ = cost
	}
}

// parallelFor covers [0, n) exactly once, whatever n and GOMAXPROCS.
func TestParallelFor(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(5))
	for _, n := range []int{0, 1, parallelGrain - 1, 2 * parallelGrain, 2*parallelGrain + 1, 7*parallelGrain + 13} {
		hits := make([]int32, n)
		parallelFor(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				atomic.AddInt32(&hits[i], 1)
			}
		})
		for i, h := range hits {
			if h != 1 {
				t.Fatalf("n=%d: index %d visited %d times", n, i, h)
			}
		}
	}
}

// Grad of a gradient: d²/dx² Σ softplus(x) = σ′(x) and d²/dx² Σ σ(x) = σ″(x).
func TestElemSecondOrderGrad(t *testing.T) {
	xv := []float64{-30, -1, 0, 2, 25}
	for _, c := range []struct {
		f      func(*G.Node) (*G.Node, error)
		second func(float64) float64
	}{{Softplus, sigmoidPrime64}, {Sigmoid, sigmoidPrime2_64}} {
		g := G.NewGraph()
		x := G.NewVector(g, tensor.Float64, G.WithShape(len(xv)), G.WithName("x"))
		g1, err := G.Grad(G.Must(G.Sum(G.Must(c.f(x)))), x)
		if err != nil {
			t.Fatal(err)
		}
		g2, err := G.Grad(G.Must(G.Sum(g1[0])), x)
		if err != nil {
			t.Fatal(err)
		}
		m := newMachine(t, g, g2[0])
		m.mustRun(t, map[*G.Node]G.Value{x: valueOf(tensor.Float64, tensor.Shape{len(xv)}, xv)})
		for i, d := range m.floats(t, g2[0]) {
			if want := c.second(xv[i]); d != want {
				t.Errorf("second derivative at %v = %v, want %v", xv[i], d, want)
			}
		}
	}
}
