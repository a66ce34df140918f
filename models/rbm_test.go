package models_test

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/models"
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

func floats(t *tensor.Dense) []float64 {
	switch d := t.Data().(type) {
	case []float64:
		return append([]float64(nil), d...)
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	}
	return nil
}

func rbm(t testing.TB, dt tensor.Dtype, nv, nh int, w, b, c []float64) *models.RBM {
	t.Helper()
	m, err := models.NewRBMFromParams(dense(dt, []int{nv, nh}, w), dense(dt, []int{nv}, b), dense(dt, []int{nh}, c))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func p3x2(t testing.TB, dt tensor.Dtype) *models.RBM {
	return rbm(t, dt, 3, 2, []float64{1, -1, 0.5, 0.5, -1, 2}, []float64{0.1, -0.2, 0.3}, []float64{0, -0.5})
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
		if !(math.Abs(got[i]-want[i]) <= tol) {
			t.Errorf("%s[%d] = %.12g, want %.12g (tol %g)", what, i, got[i], want[i], tol)
		}
	}
}

// TestP3x2Exact checks exact log Z, log p(v) for all states and p(h|v=101) of the shared fixture.
func TestP3x2Exact(t *testing.T) {
	m := p3x2(t, tensor.Float64)
	logZ, err := m.ExactLogZ()
	if err != nil {
		t.Fatal(err)
	}
	near(t, "log Z", []float64{logZ}, []float64{4.163709367}, 1e-9)
	ll, err := m.LogLikelihood(dense(tensor.Float64, []int{8, 3}, allStates(3)))
	if err != nil {
		t.Fatal(err)
	}
	p := make([]float64, 8)
	for i, l := range ll {
		p[i] = math.Exp(l)
	}
	near(t, "p(v)", p, []float64{0.049962, 0.157389, 0.067442, 0.231609, 0.078157, 0.122888, 0.105501, 0.187052}, 1e-6)
	near(t, "log p(101)", ll[5:6], []float64{-2.096485}, 1e-6)
	// The same log Z by summing over the visible layer: transpose the model (swap layers).
	wt := []float64{1, 0.5, -1, -1, 0.5, 2}
	mt := rbm(t, tensor.Float64, 2, 3, wt, []float64{0, -0.5}, []float64{0.1, -0.2, 0.3})
	logZt, err := mt.ExactLogZ()
	if err != nil {
		t.Fatal(err)
	}
	near(t, "log Z (other layer)", []float64{logZt}, []float64{4.163709367}, 1e-9)
}

// TestB01SaturatedFreeEnergy is case B01: F and log Z stay exact when pre-activations reach 150
// and 900 (where exp overflows float32 and float64).
func TestB01SaturatedFreeEnergy(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		w := []float64{50, 50, 50, 50, 50, 50}
		m := rbm(t, dt, 3, 2, w, []float64{0, 0, 0}, []float64{0, 0})
		f, err := m.FreeEnergy(dense(dt, []int{3, 3}, []float64{1, 1, 1, 1, 0, 0, 0, 0, 0}))
		if err != nil {
			t.Fatal(err)
		}
		if !f.Dtype().Eq(dt) {
			t.Errorf("free energy dtype %v, want %v", f.Dtype(), dt)
		}
		near(t, "F "+dt.String(), floats(f), []float64{-300, -100, -2 * math.Ln2}, 1e-5)
		if got := floats(f)[0]; got != -300 {
			t.Errorf("F(111) = %.10g in %v, want exactly -300", got, dt)
		}
		logZ, err := m.ExactLogZ()
		if err != nil {
			t.Fatal(err)
		}
		near(t, "log Z", []float64{logZ}, []float64{300}, 1e-9)
		ll, err := m.LogLikelihood(dense(dt, []int{1, 3}, []float64{1, 1, 1}))
		if err != nil {
			t.Fatal(err)
		}
		near(t, "log p(111)", ll, []float64{0}, 1e-12)
	}
	m := rbm(t, tensor.Float64, 3, 2, []float64{300, 300, 300, 300, 300, 300}, []float64{0, 0, 0}, []float64{0, 0})
	logZ, err := m.ExactLogZ()
	if err != nil {
		t.Fatal(err)
	}
	near(t, "log Z (W=300)", []float64{logZ}, []float64{1800}, 1e-9)
}

// TestB03SoftplusExact is case B03: a 1×1 RBM with W = 16.5 at v = 1 has F = -softplus(16.5).
func TestB03SoftplusExact(t *testing.T) {
	m := rbm(t, tensor.Float64, 1, 1, []float64{16.5}, []float64{0}, []float64{0})
	f, err := m.FreeEnergy(dense(tensor.Float64, []int{1, 1}, []float64{1}))
	if err != nil {
		t.Fatal(err)
	}
	near(t, "F", floats(f), []float64{-16.500000068256}, 1e-9)
}

// TestB05PseudoLikelihood is case B05: the exact all-bit pseudo-likelihood is a documented sum.
func TestB05PseudoLikelihood(t *testing.T) {
	for _, n := range []int{10, 1000} {
		m, err := models.NewRBMFromParams(dense(tensor.Float64, []int{n, 3}, make([]float64, 3*n)),
			dense(tensor.Float64, []int{n}, make([]float64, n)), dense(tensor.Float64, []int{3}, make([]float64, 3)))
		if err != nil {
			t.Fatal(err)
		}
		ones := make([]float64, 2*n)
		for i := range ones {
			ones[i] = 1
		}
		pl, err := m.PseudoLikelihood(dense(tensor.Float64, []int{2, n}, ones))
		if err != nil {
			t.Fatal(err)
		}
		near(t, "PL sum", pl, []float64{float64(n) * math.Log(0.5), float64(n) * math.Log(0.5)}, 1e-9)
		near(t, "PL per bit", []float64{pl[0] / float64(n)}, []float64{-0.693147181}, 1e-9)
	}
	pl, err := p3x2(t, tensor.Float64).PseudoLikelihood(dense(tensor.Float64, []int{1, 3}, []float64{1, 0, 1}))
	if err != nil {
		t.Fatal(err)
	}
	near(t, "PL(101)", pl, []float64{-2.241870}, 1e-6)
}

// TestB06SamplingReproducible is case B06: a seeded source gives the same chain in two models, and
// repeated calls advance the chain.
func TestB06SamplingReproducible(t *testing.T) {
	zeros := make([]float64, 100*4)
	sample := func(src rand.Source) []float64 {
		m := rbm(t, tensor.Float64, 4, 3, make([]float64, 12), make([]float64, 4), make([]float64, 3))
		s, err := m.Sample(dense(tensor.Float64, []int{100, 4}, zeros), 1, src)
		if err != nil {
			t.Fatal(err)
		}
		return floats(s)
	}
	srcA, srcB := rand.NewPCG(42, 0), rand.NewPCG(42, 0)
	a1, a2 := sample(srcA), sample(srcA)
	b1, b2 := sample(srcB), sample(srcB)
	same := func(x, y []float64) bool {
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if same(a1, a2) {
		t.Error("two Gibbs calls with one source returned identical samples: the chain does not advance")
	}
	if !same(a1, b1) || !same(a2, b2) {
		t.Error("models with the same seed gave different samples")
	}
	ones := 0.0
	for _, x := range append(a1, a2...) {
		if x != 0 && x != 1 {
			t.Fatalf("sample value %v is not binary", x)
		}
		ones += x
	}
	// Every conditional is 1/2: 800 draws, mean 400, sd ≈ 14.1.
	if math.Abs(ones-400) > 4*math.Sqrt(200) {
		t.Errorf("%v ones in 800 fair draws", ones)
	}
}

// TestB08Dtypes is case B08: float32 and float64 models agree; dtype mismatches are errors.
func TestB08Dtypes(t *testing.T) {
	v := []float64{1, 0, 1}
	h64, err := p3x2(t, tensor.Float64).HiddenProbs(dense(tensor.Float64, []int{1, 3}, v))
	if err != nil {
		t.Fatal(err)
	}
	m32 := p3x2(t, tensor.Float32)
	h32, err := m32.HiddenProbs(dense(tensor.Float32, []int{1, 3}, v))
	if err != nil {
		t.Fatal(err)
	}
	near(t, "p(h|101) f64", floats(h64), []float64{0.5, 0.6224593312018546}, 1e-12)
	near(t, "p(h|101) f32", floats(h32), []float64{0.5, 0.62245935}, 1e-7)
	near(t, "f32 vs f64", floats(h32), floats(h64), 1e-6)
	if !h32.Dtype().Eq(tensor.Float32) {
		t.Errorf("float32 model returned %v", h32.Dtype())
	}
	_, err = m32.HiddenProbs(dense(tensor.Float64, []int{1, 3}, v))
	if err == nil || !strings.Contains(err.Error(), "dtype") {
		t.Errorf("float64 data into a float32 model: error %v, want one naming the dtype", err)
	}
}

// TestB15InputValidation is case B15 (and B19): bad shapes and values give errors naming them.
func TestB15InputValidation(t *testing.T) {
	m := rbm(t, tensor.Float64, 3, 2, make([]float64, 6), make([]float64, 3), make([]float64, 2))
	cases := []struct {
		name string
		x    *tensor.Dense
		want string
	}{
		{"width", dense(tensor.Float64, []int{4, 5}, make([]float64, 20)), "model has 3 visible units, data has 5 columns"},
		{"empty", tensor.New(tensor.WithShape(0, 3), tensor.Of(tensor.Float64)), "empty"},
		{"range", dense(tensor.Float64, []int{1, 3}, []float64{183, -2, 0.5}), "row 0 column 0 is 183"},
		{"NaN", dense(tensor.Float64, []int{2, 3}, []float64{0, 0, 0, 0, math.NaN(), 0}), "row 1 column 1 is NaN"},
		{"Inf", dense(tensor.Float64, []int{1, 3}, []float64{0, math.Inf(1), 0}), "row 0 column 1 is +Inf"},
		{"vector", dense(tensor.Float64, []int{3}, make([]float64, 3)), "matrix"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.HiddenProbs(tc.x)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v; want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := m.FreeEnergy(dense(tensor.Float64, []int{1, 3}, []float64{183, -2, 0.5})); err == nil || !strings.Contains(err.Error(), "Gaussian") {
		t.Errorf("out-of-range data: error %v should suggest rescaling or Gaussian visible units", err)
	}
	for _, sz := range [][2]int{{0, 3}, {3, 0}, {-1, 2}} {
		if _, err := models.NewRBM(sz[0], sz[1], tensor.Float64, rand.NewPCG(1, 1)); err == nil {
			t.Errorf("NewRBM(%d, %d): no error", sz[0], sz[1])
		}
	}
	if _, err := models.NewRBM(3, 2, tensor.Int, rand.NewPCG(1, 1)); err == nil {
		t.Error("NewRBM with Int dtype: no error")
	}
	if _, err := models.NewRBMFromParams(dense(tensor.Float64, []int{3, 2}, make([]float64, 6)), dense(tensor.Float64, []int{2}, make([]float64, 2)), dense(tensor.Float64, []int{2}, make([]float64, 2))); err == nil {
		t.Error("visible bias of the wrong length: no error")
	}
}

// TestInitialisation checks Hinton's guide: W ~ N(0, 0.01²), hidden biases 0, visible biases
// log(p/(1-p)) from the data, clipped; and that the same seed gives the same weights.
func TestInitialisation(t *testing.T) {
	m, err := models.NewRBM(50, 40, tensor.Float64, rand.NewPCG(3, 4))
	if err != nil {
		t.Fatal(err)
	}
	w := floats(m.W)
	s, s2 := 0.0, 0.0
	for _, x := range w {
		s += x
		s2 += x * x
	}
	n := float64(len(w))
	if mean, sd := s/n, math.Sqrt(s2/n); math.Abs(mean) > 4*0.01/math.Sqrt(n) || math.Abs(sd-0.01) > 0.001 {
		t.Errorf("initial weights mean %v sd %v; want N(0, 0.01²)", mean, sd)
	}
	again, _ := models.NewRBM(50, 40, tensor.Float64, rand.NewPCG(3, 4))
	near(t, "same seed", floats(again.W), w, 0)
	data := dense(tensor.Float64, []int{4, 50}, make([]float64, 200))
	d := data.Data().([]float64)
	for r := 0; r < 4; r++ {
		d[r*50+1] = 1 // column 1 always on
		if r == 0 {
			d[2] = 1 // column 2 on in 1 of 4 rows
		}
	}
	if err := m.InitVisibleBiases(data); err != nil {
		t.Fatal(err)
	}
	b := floats(m.B)
	near(t, "visible biases", b[:3], []float64{math.Log(1e-3 / (1 - 1e-3)), math.Log((1 - 1e-3) / 1e-3), math.Log(0.25 / 0.75)}, 1e-12)
	near(t, "hidden biases", floats(m.C), make([]float64, 40), 0)
}

// TestSaveLoad round-trips a model and checks that damaged files give errors, not panics.
func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p3x2.rbm")
	m := p3x2(t, tensor.Float64)
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := models.LoadRBM(path)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "W", floats(got.W), floats(m.W), 0)
	f, err := got.FreeEnergy(dense(tensor.Float64, []int{1, 3}, []float64{1, 0, 1}))
	if err != nil {
		t.Fatal(err)
	}
	near(t, "F(101)", floats(f), []float64{-2.067224}, 1e-6)
	raw, _ := os.ReadFile(path)
	half := filepath.Join(dir, "half")
	os.WriteFile(half, raw[:len(raw)/2], 0o644)
	if _, err := models.LoadRBM(half); err == nil {
		t.Error("truncated file: no error")
	}
	junk := make([]byte, 10<<10)
	r := rand.New(rand.NewPCG(5, 6))
	for i := range junk {
		junk[i] = byte(r.Uint32())
	}
	garbage := filepath.Join(dir, "garbage")
	os.WriteFile(garbage, junk, 0o644)
	if _, err := models.LoadRBM(garbage); err == nil {
		t.Error("random bytes: no error")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// TestB14RepeatedInference is case B14 at the model level: repeated evaluation returns
// bit-identical values and does not leak goroutines.
func TestB14RepeatedInference(t *testing.T) {
	m := p3x2(t, tensor.Float64)
	v := dense(tensor.Float64, []int{1, 3}, []float64{1, 0, 1})
	before := runtime.NumGoroutine()
	var first float64
	for i := 0; i < 200; i++ {
		f, err := m.FreeEnergy(v)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = floats(f)[0]
		} else if floats(f)[0] != first {
			t.Fatalf("call %d gave %v, first gave %v", i, floats(f)[0], first)
		}
	}
	if math.Abs(first+2.067224) > 1e-6 {
		t.Errorf("F(101) = %v", first)
	}
	if after := runtime.NumGoroutine(); after > before+2 {
		t.Errorf("goroutines grew from %d to %d", before, after)
	}
}

// TestPseudoLikelihoodMatchesDefinition compares the fast pseudo-likelihood with its definition
// -Σ_i softplus(F(v) - F(v with v_i → 1 - v_i)) evaluated with the graph free energy, on a model
// with large weights (one beyond the tabulated range) and binary and grey-level rows.
func TestPseudoLikelihoodMatchesDefinition(t *testing.T) {
	const nv, nh = 7, 5
	r := rand.New(rand.NewPCG(11, 12))
	w := make([]float64, nv*nh)
	for i := range w {
		w[i] = 3 * r.NormFloat64()
	}
	w[3] = 700
	w[10] = -650
	b, c := make([]float64, nv), make([]float64, nh)
	for i := range b {
		b[i] = r.NormFloat64()
	}
	for j := range c {
		c[j] = 40 * r.NormFloat64()
	}
	m := rbm(t, tensor.Float64, nv, nh, w, b, c)
	const rows = 6
	x := make([]float64, rows*nv)
	for i := range x {
		if i < 3*nv {
			x[i] = float64(r.IntN(2))
		} else {
			x[i] = r.Float64()
		}
	}
	got, err := m.PseudoLikelihood(dense(tensor.Float64, []int{rows, nv}, x))
	if err != nil {
		t.Fatal(err)
	}
	// Every row and its nv flipped copies, through the graph.
	all := make([]float64, 0, rows*(nv+1)*nv)
	for rr := 0; rr < rows; rr++ {
		row := x[rr*nv : (rr+1)*nv]
		all = append(all, row...)
		for i := 0; i < nv; i++ {
			f := append([]float64(nil), row...)
			f[i] = 1 - f[i]
			all = append(all, f...)
		}
	}
	fe, err := m.FreeEnergy(dense(tensor.Float64, []int{rows * (nv + 1), nv}, all))
	if err != nil {
		t.Fatal(err)
	}
	f := floats(fe)
	want := make([]float64, rows)
	for rr := range want {
		base := f[rr*(nv+1)]
		for i := 1; i <= nv; i++ {
			d := base - f[rr*(nv+1)+i]
			want[rr] -= math.Max(d, 0) + math.Log1p(math.Exp(-math.Abs(d)))
		}
	}
	near(t, "PL", got, want, 1e-9*float64(nv)*40)
}
