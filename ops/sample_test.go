package ops

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

var floatDtypes = []tensor.Dtype{tensor.Float64, tensor.Float32}

func filled(n int, v float64) []float64 {
	f := make([]float64, n)
	for i := range f {
		f[i] = v
	}
	return f
}

// sampleOnce builds y = sample(x) for one input, runs it once and returns the output values.
func bernoulliOnce(t *testing.T, dt tensor.Dtype, shape tensor.Shape, p []float64, src rand.Source) []float64 {
	t.Helper()
	g := G.NewGraph()
	pn := newInput(g, dt, shape, "p")
	b, err := Bernoulli(pn, src)
	if err != nil {
		t.Fatal(err)
	}
	m := newMachine(t, g, b)
	m.mustRun(t, map[*G.Node]G.Value{pn: valueOf(dt, shape, p)})
	return m.floats(t, b)
}

// Seeded means within 4 standard errors over 1e5 draws, for several p including 0 and 1.
func TestBernoulliMeans(t *testing.T) {
	const rows, cols = 1000, 100
	for _, dt := range floatDtypes {
		for _, p := range []float64{0, 1e-3, 0.3, 0.5, 0.9, 1} {
			out := bernoulliOnce(t, dt, tensor.Shape{rows, cols}, filled(rows*cols, p), rand.NewPCG(uint64(p*1000), 5))
			sum := 0.0
			for _, v := range out {
				if v != 0 && v != 1 {
					t.Fatalf("%v p=%v: sample %v not in {0,1}", dt, p, v)
				}
				sum += v
			}
			n := float64(len(out))
			mean, se := sum/n, math.Sqrt(p*(1-p)/n)
			if math.Abs(mean-p) > 4*se {
				t.Errorf("%v p=%v: mean %v over %v draws, want within 4·%.3g", dt, p, mean, n, se)
			}
		}
	}
}

// Each entry has its own probability: per-column means of a (2000, 8) batch.
func TestBernoulliPerEntry(t *testing.T) {
	const rows = 20000
	ps := []float64{0, 0.05, 0.2, 0.4, 0.6, 0.8, 0.95, 1}
	p := make([]float64, 0, rows*len(ps))
	for range rows {
		p = append(p, ps...)
	}
	out := bernoulliOnce(t, tensor.Float32, tensor.Shape{rows, len(ps)}, p, rand.NewPCG(11, 12))
	for j, pj := range ps {
		sum := 0.0
		for i := range rows {
			sum += out[i*len(ps)+j]
		}
		mean, se := sum/rows, math.Sqrt(pj*(1-pj)/rows)
		if math.Abs(mean-pj) > 4*se {
			t.Errorf("column %d p=%v: mean %v, want within 4·%.3g", j, pj, mean, se)
		}
	}
}

// The samples are exactly "rand.New(src).Float64() < p" in row-major order, for float32 and
// float64 alike, and consecutive runs continue the stream (B06).
func TestBernoulliStream(t *testing.T) {
	shape := tensor.Shape{3, 4}
	p := []float64{0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 0.25}
	ref := rand.New(rand.NewPCG(42, 42))
	want := func() []float64 {
		w := make([]float64, len(p))
		for i, pi := range p {
			if ref.Float64() < pi {
				w[i] = 1
			}
		}
		return w
	}
	run1, run2 := want(), want()
	for _, dt := range floatDtypes {
		g := G.NewGraph()
		pn := newInput(g, dt, shape, "p")
		b := G.Must(Bernoulli(pn, rand.NewPCG(42, 42)))
		m := newMachine(t, g, b)
		pv := valueOf(dt, shape, p)
		for k, w := range [][]float64{run1, run2} {
			m.mustRun(t, map[*G.Node]G.Value{pn: pv})
			got := m.floats(t, b)
			for i := range w {
				if got[i] != w[i] {
					t.Fatalf("%v run %d: sample %v, want %v", dt, k+1, got, w)
				}
			}
		}
	}
}

// B06: same seed → bit-identical samples; consecutive runs separated by Reset differ.
func TestSamplingReproducibleAndAdvancing(t *testing.T) {
	shape := tensor.Shape{100, 4}
	for _, dt := range floatDtypes {
		for _, kind := range []string{"Bernoulli", "Gaussian"} {
			build := func() (*machine, map[*G.Node]G.Value, *G.Node) {
				g := G.NewGraph()
				x := newInput(g, dt, shape, "x")
				var y *G.Node
				lets := map[*G.Node]G.Value{x: valueOf(dt, shape, filled(400, 0.5))}
				if kind == "Bernoulli" {
					y = G.Must(Bernoulli(x, rand.NewPCG(42, 0)))
				} else {
					s := newInput(g, dt, tensor.Shape{4}, "s")
					lets[s] = valueOf(dt, tensor.Shape{4}, []float64{1, 2, 3, 4})
					y = G.Must(Gaussian(x, s, rand.NewPCG(42, 0)))
				}
				return newMachine(t, g, y), lets, y
			}
			ma, letsA, ya := build()
			mb, letsB, yb := build()
			var prev []float64
			for k := range 3 {
				ma.mustRun(t, letsA)
				mb.mustRun(t, letsB)
				a, b := ma.floats(t, ya), mb.floats(t, yb)
				for i := range a {
					if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
						t.Fatalf("B06 %s %v run %d: same seed, different samples", kind, dt, k)
					}
				}
				if prev != nil && equalFloats(prev, a) {
					t.Fatalf("B06 %s %v run %d: same samples as the previous run", kind, dt, k)
				}
				prev = a
			}
		}
	}
}

func equalFloats(a, b []float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

// Two ops on the same p are two nodes with independent draws, whether or not they share a
// Source; StopGradient, which is deterministic, is hash-consed.
func TestSamplingNodesDistinct(t *testing.T) {
	shape := tensor.Shape{50, 8}
	for _, shared := range []bool{false, true} {
		g := G.NewGraph()
		p := newInput(g, tensor.Float64, shape, "p")
		srcA, srcB := rand.Source(rand.NewPCG(1, 1)), rand.Source(rand.NewPCG(2, 2))
		if shared {
			srcB = srcA
		}
		b1, b2 := G.Must(Bernoulli(p, srcA)), G.Must(Bernoulli(p, srcB))
		mean := newInput(g, tensor.Float64, shape, "mean")
		g1, g2 := G.Must(Gaussian(mean, p, srcA)), G.Must(Gaussian(mean, p, srcB))
		if b1 == b2 || b1.ID() == b2.ID() || g1 == g2 {
			t.Fatalf("two sampling ops on the same input share a node")
		}
		m := newMachine(t, g, b1, b2, g1, g2)
		m.mustRun(t, map[*G.Node]G.Value{
			p:    valueOf(tensor.Float64, shape, filled(400, 0.5)),
			mean: valueOf(tensor.Float64, shape, filled(400, 0)),
		})
		if equalFloats(m.floats(t, b1), m.floats(t, b2)) {
			t.Errorf("shared=%v: two Bernoulli nodes gave the same samples", shared)
		}
		if equalFloats(m.floats(t, g1), m.floats(t, g2)) {
			t.Errorf("shared=%v: two Gaussian nodes gave the same samples", shared)
		}
	}
	g := G.NewGraph()
	x := G.NewVector(g, tensor.Float64, G.WithShape(3), G.WithName("x"))
	if G.Must(StopGradient(x)) != G.Must(StopGradient(x)) {
		t.Errorf("StopGradient(x) twice gave two nodes")
	}
}

// Output dtype and shape equal the input's, for scalars, vectors, matrices and 3-tensors.
func TestSamplingShapesAndDtypes(t *testing.T) {
	for _, dt := range floatDtypes {
		for _, shape := range []tensor.Shape{{}, {1}, {5}, {1, 1}, {2, 3}, {2, 3, 4}} {
			g := G.NewGraph()
			n := max(shape.TotalSize(), 1)
			p := newInput(g, dt, shape, "p")
			sigma := newInput(g, dt, tensor.Shape{}, "sigma")
			b := G.Must(Bernoulli(p, rand.NewPCG(1, 2)))
			ga := G.Must(Gaussian(p, sigma, rand.NewPCG(1, 2)))
			sg := G.Must(StopGradient(p))
			m := newMachine(t, g, b, ga, sg)
			pv := valueOf(dt, shape, filled(n, 0.5))
			m.mustRun(t, map[*G.Node]G.Value{p: pv, sigma: valueOf(dt, nil, []float64{1})})
			for name, node := range map[string]*G.Node{"Bernoulli": b, "Gaussian": ga, "StopGradient": sg} {
				v := m.value(t, node)
				if !G.TypeOf(v).Eq(G.TypeOf(pv)) || !v.Shape().Eq(pv.Shape()) || !node.Shape().Eq(shape) {
					t.Errorf("%s of %v %v: value %v %v, node %v", name, dt, shape, G.TypeOf(v), v.Shape(), node.Shape())
				}
			}
		}
	}
}

// Gaussian mean and variance within 4 standard errors over 1e5 draws, for each layout of sigma.
func TestGaussianMoments(t *testing.T) {
	const rows, cols = 100000, 4
	means := []float64{-1, 0, 2.5, 10}
	mean := make([]float64, 0, rows*cols)
	for range rows {
		mean = append(mean, means...)
	}
	cases := []struct {
		name   string
		shape  tensor.Shape
		sigma  []float64
		sdOfCo func(j int) float64
	}{
		{"scalar", tensor.Shape{}, []float64{1.5}, func(int) float64 { return 1.5 }},
		{"size-1", tensor.Shape{1, 1}, []float64{0.5}, func(int) float64 { return 0.5 }},
		{"row (n)", tensor.Shape{cols}, []float64{0.5, 1, 2, 4}, func(j int) float64 { return []float64{0.5, 1, 2, 4}[j] }},
		{"row (1,n)", tensor.Shape{1, cols}, []float64{4, 2, 1, 0.5}, func(j int) float64 { return []float64{4, 2, 1, 0.5}[j] }},
		{"same", tensor.Shape{rows, cols}, nil, func(j int) float64 { return float64(j + 1) }},
	}
	for _, dt := range floatDtypes {
		for ci, c := range cases {
			sigma := c.sigma
			if sigma == nil {
				for range rows {
					sigma = append(sigma, 1, 2, 3, 4)
				}
			}
			g := G.NewGraph()
			mn := newInput(g, dt, tensor.Shape{rows, cols}, "mean")
			sn := newInput(g, dt, c.shape, "sigma")
			y := G.Must(Gaussian(mn, sn, rand.NewPCG(uint64(ci), 77)))
			m := newMachine(t, g, y)
			m.mustRun(t, map[*G.Node]G.Value{mn: valueOf(dt, tensor.Shape{rows, cols}, mean), sn: valueOf(dt, c.shape, sigma)})
			out := m.floats(t, y)
			for j := range cols {
				var s, ss float64
				for i := range rows {
					d := out[i*cols+j] - means[j]
					s += d
					ss += d * d
				}
				sd := c.sdOfCo(j)
				mu, v := s/rows, ss/rows-(s/rows)*(s/rows)
				if se := sd / math.Sqrt(rows); math.Abs(mu) > 4*se {
					t.Errorf("%v %s column %d: mean %v, want %v ± 4·%.3g", dt, c.name, j, mu+means[j], means[j], se)
				}
				if se := sd * sd * math.Sqrt(2.0/rows); math.Abs(v-sd*sd) > 4*se {
					t.Errorf("%v %s column %d: variance %v, want %v ± 4·%.3g", dt, c.name, j, v, sd*sd, se)
				}
			}
		}
	}
}

// sigma = 0 gives the mean exactly.
func TestGaussianZeroSigma(t *testing.T) {
	g := G.NewGraph()
	mn := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 3), G.WithName("mean"))
	sn := G.NewScalar(g, tensor.Float64, G.WithName("sigma"))
	y := G.Must(Gaussian(mn, sn, rand.NewPCG(1, 1)))
	m := newMachine(t, g, y)
	mean := []float64{-1, 0, 1, 2, 3e300, -5e-300}
	m.mustRun(t, map[*G.Node]G.Value{mn: valueOf(tensor.Float64, tensor.Shape{2, 3}, mean), sn: G.NewF64(0)})
	if got := m.floats(t, y); !equalFloats(got, mean) {
		t.Errorf("Gaussian with sigma 0 = %v, want %v", got, mean)
	}
}

// Out-of-domain values are run errors carrying a *DomainError, never panics.
func TestSamplingDomainErrors(t *testing.T) {
	shape := tensor.Shape{2, 3}
	for _, dt := range floatDtypes {
		for _, bad := range []float64{math.NaN(), -0.1, 1.5, math.Inf(1), math.Inf(-1)} {
			p := []float64{0.1, 0.2, 0.3, 0.4, bad, 0.6}
			g := G.NewGraph()
			pn := newInput(g, dt, shape, "p")
			b := G.Must(Bernoulli(pn, rand.NewPCG(1, 1)))
			m := newMachine(t, g, b)
			err := m.run(map[*G.Node]G.Value{pn: valueOf(dt, shape, p)})
			var de *DomainError
			if errors.As(err, &de) {
				t.Log("Gorgonia's machine errors now unwrap: Transparent may be unnecessary")
			}
			if !errors.As(Transparent(err), &de) {
				t.Fatalf("%v Bernoulli p=%v: err = %v, want a *DomainError", dt, bad, err)
			}
			want := bad
			if dt == tensor.Float32 {
				want = float64(float32(bad))
			}
			if de.Index != 4 || de.Input != "p" || !(de.Value == want || math.IsNaN(bad) && math.IsNaN(de.Value)) ||
				de.Coords[0] != 1 || de.Coords[1] != 1 || !strings.Contains(err.Error(), "p[4]") {
				t.Errorf("%v Bernoulli p=%v: %+v (%v)", dt, bad, de, err)
			}
		}
		tiny := -1e-300
		if dt == tensor.Float32 {
			tiny = -1e-40 // subnormal
		}
		for _, bad := range []float64{math.NaN(), tiny, -2, math.Inf(1)} {
			for _, sshape := range []tensor.Shape{{}, {3}, {2, 3}} {
				n := max(sshape.TotalSize(), 1)
				sigma := filled(n, 1)
				sigma[n-1] = bad
				g := G.NewGraph()
				mn := newInput(g, dt, shape, "mean")
				sn := newInput(g, dt, sshape, "sigma")
				y := G.Must(Gaussian(mn, sn, rand.NewPCG(1, 1)))
				m := newMachine(t, g, y)
				err := m.run(map[*G.Node]G.Value{mn: valueOf(dt, shape, filled(6, 0)), sn: valueOf(dt, sshape, sigma)})
				var de *DomainError
				if !errors.As(Transparent(err), &de) || de.Input != "sigma" || de.Index != n-1 {
					t.Errorf("%v Gaussian sigma %v=%v: err = %v, want a *DomainError at %d", dt, sshape, bad, err, n-1)
				}
			}
		}
	}
}

// Construction errors: unsupported dtypes, mismatched dtypes, sigma shapes, nil arguments.
func TestSamplingConstructionErrors(t *testing.T) {
	g := G.NewGraph()
	xi := G.NewMatrix(g, tensor.Int, G.WithShape(2, 3), G.WithName("xi"))
	x64 := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 3), G.WithName("x64"))
	x32 := G.NewMatrix(g, tensor.Float32, G.WithShape(2, 3), G.WithName("x32"))
	src := rand.NewPCG(1, 1)
	if _, err := Bernoulli(xi, src); !errors.Is(err, ErrDtype) {
		t.Errorf("Bernoulli(Int): %v", err)
	}
	if _, err := Gaussian(xi, xi, src); !errors.Is(err, ErrDtype) {
		t.Errorf("Gaussian(Int): %v", err)
	}
	if _, err := Gaussian(x64, x32, src); !errors.Is(err, ErrDtype) {
		t.Errorf("Gaussian(Float64, Float32): %v", err)
	}
	for _, s := range []tensor.Shape{{2}, {3, 2}, {2, 1}, {2, 3, 1}, {6}} {
		sn := G.NewTensor(g, tensor.Float64, len(s), G.WithShape(s...), G.WithName(fmt.Sprintf("s%v", s)))
		if _, err := Gaussian(x64, sn, src); !errors.Is(err, ErrShape) {
			t.Errorf("Gaussian((2,3), sigma %v): err = %v, want ErrShape", s, err)
		}
	}
	if _, err := Bernoulli(nil, src); err == nil {
		t.Error("Bernoulli(nil): no error")
	}
	if _, err := Bernoulli(x64, nil); err == nil {
		t.Error("Bernoulli(nil source): no error")
	}
	if _, err := Gaussian(x64, nil, src); err == nil {
		t.Error("Gaussian(nil sigma): no error")
	}
	if _, err := Gaussian(x64, x64, nil); err == nil {
		t.Error("Gaussian(nil source): no error")
	}
	if _, err := StopGradient(nil); err == nil {
		t.Error("StopGradient(nil): no error")
	}
}

// A value bound with Let whose shape does not fit sigma's layout is a run error.
func TestGaussianRunShapeError(t *testing.T) {
	op := &sampleOp{kind: sampleGaussian, sigma: sigmaRow, rng: rand.New(rand.NewPCG(1, 1))}
	mean := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(2, 3))
	sigma := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{1, 1}))
	if _, err := op.Do(mean, sigma); !errors.Is(err, ErrShape) {
		t.Errorf("row sigma of length 2 for a (2,3) mean: err = %v, want ErrShape", err)
	}
	op.sigma = sigmaSame
	if _, err := op.Do(mean, sigma); !errors.Is(err, ErrShape) {
		t.Errorf("same-shape sigma of length 2 for a (2,3) mean: err = %v, want ErrShape", err)
	}
	if _, err := op.Do(mean); err == nil {
		t.Error("Gaussian with one input: no error")
	}
	if _, err := (&sampleOp{rng: op.rng}).Do(tensor.New(tensor.WithShape(2), tensor.WithBacking([]int{1, 0}))); !errors.Is(err, ErrDtype) {
		t.Errorf("Bernoulli of an Int value: err = %v, want ErrDtype", err)
	}
}

// Grad through sampling and stop-gradient nodes: cost = Σ S(p)⊙x + Σ p⊙y with p = σ(a). The
// gradient wrt x is the sample, and wrt a only the direct path contributes: y⊙σ′(a).
func TestGradThroughStopGradientOps(t *testing.T) {
	shape := tensor.Shape{4, 3}
	r := rand.New(rand.NewPCG(5, 5))
	av, xv, yv := make([]float64, 12), make([]float64, 12), make([]float64, 12)
	for i := range av {
		av[i], xv[i], yv[i] = 3*r.NormFloat64(), r.NormFloat64(), r.NormFloat64()
	}
	samplers := map[string]func(p *G.Node) (*G.Node, error){
		"Bernoulli": func(p *G.Node) (*G.Node, error) { return Bernoulli(p, rand.NewPCG(3, 3)) },
		"Gaussian": func(p *G.Node) (*G.Node, error) {
			return Gaussian(p, G.NewConstant(0.5), rand.NewPCG(3, 3))
		},
		"GaussianSigma": func(p *G.Node) (*G.Node, error) {
			// p is the standard deviation here: no gradient may reach it either.
			mean := G.NewConstant(tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(4, 3)))
			return Gaussian(mean, p, rand.NewPCG(3, 3))
		},
		"StopGradient": StopGradient,
	}
	for name, sample := range samplers {
		g := G.NewGraph()
		a := newInput(g, tensor.Float64, shape, "a")
		x := newInput(g, tensor.Float64, shape, "x")
		y := newInput(g, tensor.Float64, shape, "y")
		p := G.Must(Sigmoid(a))
		s, err := sample(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		cost := G.Must(G.Add(G.Must(G.Sum(G.Must(G.HadamardProd(s, x)))), G.Must(G.Sum(G.Must(G.HadamardProd(p, y))))))
		grads, err := G.Grad(cost, x, a)
		if err != nil {
			t.Fatalf("%s: Grad: %v", name, err)
		}
		m := newMachine(t, g, s, grads[0], grads[1])
		m.mustRun(t, map[*G.Node]G.Value{a: valueOf(tensor.Float64, shape, av), x: valueOf(tensor.Float64, shape, xv), y: valueOf(tensor.Float64, shape, yv)})
		sv, dx, da := m.floats(t, s), m.floats(t, grads[0]), m.floats(t, grads[1])
		for i := range sv {
			if dx[i] != sv[i] {
				t.Errorf("%s: dcost/dx[%d] = %v, want the sample %v", name, i, dx[i], sv[i])
			}
			if want := yv[i] * sigmoidPrime64(av[i]); math.Abs(da[i]-want) > 1e-15 {
				t.Errorf("%s: dcost/da[%d] = %v, want %v (no contribution through the sample)", name, i, da[i], want)
			}
		}
	}
}

// When the only path from cost to a passes through a sample, Grad wrt a returns an error
// (Gorgonia: "non-differentiable WRT"), not a panic.
func TestGradOnlyThroughSampleErrors(t *testing.T) {
	g := G.NewGraph()
	a := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 2), G.WithName("a"))
	x := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 2), G.WithName("x"))
	b := G.Must(Bernoulli(G.Must(Sigmoid(a)), rand.NewPCG(1, 1)))
	cost := G.Must(G.Sum(G.Must(G.HadamardProd(b, x))))
	if _, err := G.Grad(cost, a); err == nil {
		t.Error("Grad wrt a through a sample only: no error")
	}
}

// StopGradient copies (it never aliases x), any dtype.
func TestStopGradientCopies(t *testing.T) {
	x := tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{1, 2, 3, 4}))
	for _, pre := range []G.Value{nil, tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(2, 2)), x} {
		v, err := stopGradOp{}.UsePreallocDo(pre, x)
		if err != nil {
			t.Fatal(err)
		}
		d := v.(*tensor.Dense)
		if &d.Float64s()[0] == &x.Float64s()[0] {
			t.Fatal("StopGradient aliases its input")
		}
		if !equalFloats(d.Float64s(), []float64{1, 2, 3, 4}) {
			t.Errorf("StopGradient value %v", d)
		}
	}
	xi := tensor.New(tensor.WithShape(2), tensor.WithBacking([]int{7, 8}))
	v, err := stopGradOp{}.UsePreallocDo(nil, xi)
	if err != nil || v.(*tensor.Dense).Ints()[1] != 8 || &v.(*tensor.Dense).Ints()[0] == &xi.Ints()[0] {
		t.Errorf("StopGradient of Int: %v, %v", v, err)
	}
	if v, err := (stopGradOp{}).Do(G.NewF32(2.5)); err != nil || *(v.(*G.F32)) != 2.5 {
		t.Errorf("StopGradient of a scalar: %v, %v", v, err)
	}
}

// UsePreallocDo reuses a fitting prealloc and never one that aliases an input.
func TestSamplingPrealloc(t *testing.T) {
	op := &sampleOp{kind: sampleBernoulli, rng: rand.New(rand.NewPCG(1, 1))}
	p := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking(filled(6, 0.5)))
	pre := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(2, 3))
	if v, err := op.UsePreallocDo(pre, p); err != nil || v != G.Value(pre) {
		t.Errorf("fitting prealloc not used: %v", err)
	}
	if v, err := op.UsePreallocDo(p, p); err != nil || v == G.Value(p) {
		t.Errorf("prealloc aliasing p was used: %v", err)
	}
}

// Hash codes are injective in the op id, so Gorgonia's node equality (which compares op hash
// codes) never merges two sampling ops; SymDiff (never called by Grad) returns no gradients.
func TestSampleOpHashAndSymDiff(t *testing.T) {
	seen := map[uint32]uint64{}
	for id := uint64(1); id <= 200000; id++ {
		h := (&sampleOp{kind: sampleBernoulli, id: id}).Hashcode()
		if prev, ok := seen[h]; ok {
			t.Fatalf("ids %d and %d share hash code %x", prev, id, h)
		}
		seen[h] = id
	}
	g := G.NewGraph()
	x := G.NewVector(g, tensor.Float64, G.WithShape(2), G.WithName("x"))
	for _, op := range []G.SDOp{&sampleOp{kind: sampleGaussian}, stopGradOp{}} {
		grads, err := op.SymDiff(G.Nodes{x, x}, x, x)
		if err != nil || len(grads) != 2 || grads[0] != nil || grads[1] != nil {
			t.Errorf("%v.SymDiff = %v, %v", op, grads, err)
		}
		if d := op.DiffWRT(2); len(d) != 2 || d[0] || d[1] {
			t.Errorf("%v.DiffWRT(2) = %v", op, d)
		}
	}
}

// Concurrent runs of one sampling op are safe (run with -race); draws are serialised.
func TestSamplingConcurrentUse(t *testing.T) {
	op := &sampleOp{kind: sampleBernoulli, id: 1, rng: rand.New(rand.NewPCG(1, 1))}
	p := tensor.New(tensor.WithShape(64, 64), tensor.WithBacking(filled(64*64, 0.5)))
	done := make(chan error)
	for range 4 {
		go func() {
			var err error
			for range 20 {
				if _, err = op.Do(p); err != nil {
					break
				}
			}
			done <- err
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
