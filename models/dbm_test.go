package models

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"gorgonia.org/tensor"
)

// b26DBM is case B26's 3-2-1 DBM without biases.
func b26DBM(t *testing.T, dt tensor.Dtype) *DBM {
	t.Helper()
	d, err := NewDBMFromParams(
		[]*tensor.Dense{
			denseOf(dt, []float64{1, -1, 0.5, 0.5, -1, 1}, 3, 2),
			denseOf(dt, []float64{2, -2}, 2, 1),
		},
		[]*tensor.Dense{
			denseOf(dt, make([]float64, 3), 3),
			denseOf(dt, make([]float64, 2), 2),
			denseOf(dt, make([]float64, 1), 1),
		})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func near(t *testing.T, what string, got []float64, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values %v, want %d", what, len(got), got, len(want))
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol {
			t.Errorf("%s[%d] = %.7f, want %.7f (±%g)", what, i, got[i], want[i], tol)
		}
	}
}

// TestB26MeanFieldFixedPoint: mean-field from 0.5 converges to the published fixed point with zero
// residual; the default start (doubled bottom-up pass) reaches the same point.
func TestB26MeanFieldFixedPoint(t *testing.T) {
	d := b26DBM(t, tensor.Float64)
	v := denseOf(tensor.Float64, []float64{1, 1, 0}, 1, 3)
	half := []*tensor.Dense{denseOf(tensor.Float64, []float64{0.5, 0.5}, 1, 2), denseOf(tensor.Float64, []float64{0.5}, 1, 1)}
	for _, init := range [][]*tensor.Dense{half, nil} {
		mu, it, err := d.MeanField(v, MeanFieldSettings{Init: init, MaxIterations: 200, Tolerance: 1e-14})
		if err != nil {
			t.Fatal(err)
		}
		if it >= 200 {
			t.Errorf("mean-field did not converge in %d sweeps", it)
		}
		near(t, "μ1", floats(mu[0]), []float64{0.960706, 0.100057}, 5e-7)
		near(t, "μ2", floats(mu[1]), []float64{0.848296}, 5e-7)
		// Residual of the fixed-point equations μ1 = σ(vW1 + W2μ2), μ2 = σ(μ1W2).
		m1, m2 := floats(mu[0]), floats(mu[1])[0]
		r := []float64{
			m1[0] - sigm(1.5+2*m2), m1[1] - sigm(-0.5-2*m2), m2 - sigm(2*m1[0]-2*m1[1]),
		}
		near(t, "residual", r, []float64{0, 0, 0}, 1e-13)
	}
	// Few sweeps: the tolerance and iteration cap are honoured.
	_, it, err := d.MeanField(v, MeanFieldSettings{Init: half, MaxIterations: 3})
	if err != nil || it != 3 {
		t.Errorf("MaxIterations 3: %d sweeps, %v", it, err)
	}
}

func sigm(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// TestB26ExactMarginals: enumeration gives the exact posterior marginals, which differ from
// mean-field's.
func TestB26ExactMarginals(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		d := b26DBM(t, dt)
		v := denseOf(dt, []float64{1, 1, 0}, 1, 3)
		marg, logp, err := d.ExactPosterior(v)
		if err != nil {
			t.Fatal(err)
		}
		tol := 5e-7
		near(t, "p(h1|v)", floats(marg[0]), []float64{0.941197, 0.133965}, tol)
		near(t, "p(h2|v)", floats(marg[1]), []float64{0.807392}, tol)
		mu, _, _ := d.MeanField(v, MeanFieldSettings{})
		if math.Abs(floats(mu[1])[0]-floats(marg[1])[0]) < 0.01 {
			t.Errorf("mean-field μ2 %v equals the exact marginal %v: expected them to differ", floats(mu[1]), floats(marg[1]))
		}
		// log p*(v) by hand: Σ over the 8 hidden states of exp(vW1h1 + h1W2h2).
		var z float64
		for s := 0; s < 8; s++ {
			h1a, h1b, h2 := float64(s&1), float64(s>>1&1), float64(s>>2&1)
			z += math.Exp(1.5*h1a - 0.5*h1b + 2*h1a*h2 - 2*h1b*h2)
		}
		near(t, "log p*(v)", logp, []float64{math.Log(z)}, 1e-6)
	}
}

// TestB26BottomUp: the plain and the doubled bottom-up pass.
func TestB26BottomUp(t *testing.T) {
	d := b26DBM(t, tensor.Float64)
	v := denseOf(tensor.Float64, []float64{1, 1, 0}, 1, 3)
	plain, err := d.BottomUp(v, false)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "σ(vW1)", floats(plain[0]), []float64{0.817574, 0.377541}, 5e-7)
	dbl, err := d.BottomUp(v, true)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "σ(2vW1)", floats(dbl[0]), []float64{0.952574, 0.268941}, 5e-7)
	// The top layer is never doubled: μ2 = σ(μ1 W2).
	m := floats(dbl[0])
	near(t, "top", floats(dbl[1]), []float64{sigm(2*m[0] - 2*m[1])}, 1e-15)
	// Inside mean-field the bottom-up input is not doubled: one sweep from the doubled start
	// gives σ(vW1 + W2μ2) with μ2 from that start.
	mu, _, err := d.MeanField(v, MeanFieldSettings{MaxIterations: 1})
	if err != nil {
		t.Fatal(err)
	}
	m2 := floats(dbl[1])[0]
	want1 := []float64{sigm(1.5 + 2*m2), sigm(-0.5 - 2*m2)}
	near(t, "one sweep μ1", floats(mu[0]), want1, 1e-15)
}

// TestB26ExactLogZ: log Z by brute force over all 64 states, by ExactLogZ (odd layer enumerated,
// even layers summed out) and the published value.
func TestB26ExactLogZ(t *testing.T) {
	d := b26DBM(t, tensor.Float64)
	var z float64
	x := [][]float64{make([]float64, 3), make([]float64, 2), make([]float64, 1)}
	p := d.params64()
	for s := 0; s < 64; s++ {
		bit := 0
		for l := range x {
			for j := range x[l] {
				x[l][j] = float64(s >> bit & 1)
				bit++
			}
		}
		z += math.Exp(-p.energy(x, 0))
	}
	got, err := d.ExactLogZ()
	if err != nil {
		t.Fatal(err)
	}
	near(t, "log Z", []float64{got, math.Log(z)}, []float64{5.159384, 5.159384}, 5e-7)
	if math.Abs(got-math.Log(z)) > 1e-12 {
		t.Errorf("ExactLogZ %v differs from brute force %v", got, math.Log(z))
	}
}

// randomDBM returns a small DBM with weights and biases of scale s.
func randomDBM(t *testing.T, sizes []int, s float64, seed uint64) *DBM {
	t.Helper()
	d, err := NewDBM(sizes, tensor.Float64, rand.NewPCG(seed, 1))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 2))
	for _, w := range d.W {
		x := floats(w)
		for i := range x {
			x[i] = s * r.NormFloat64()
		}
	}
	for _, b := range d.B {
		x := floats(b)
		for i := range x {
			x[i] = 0.5 * s * r.NormFloat64()
		}
	}
	return d
}

// TestDBMExactAndBound: on random 3-layer DBMs, brute-force log Z equals ExactLogZ; the mean-field
// lower bound is below the exact log p(v) for every row; mean-field is a fixed point.
func TestDBMExactAndBound(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		d := randomDBM(t, []int{4, 3, 2, 3}, 1, seed)
		p := d.params64()
		var total int
		for _, n := range p.n {
			total += n
		}
		x := make([][]float64, len(p.n))
		for l := range x {
			x[l] = make([]float64, p.n[l])
		}
		var es []float64
		m := math.Inf(-1)
		for s := 0; s < 1<<total; s++ {
			bit := 0
			for l := range x {
				for j := range x[l] {
					x[l][j] = float64(s >> bit & 1)
					bit++
				}
			}
			e := -p.energy(x, 0)
			es = append(es, e)
			m = max(m, e)
		}
		var z float64
		for _, e := range es {
			z += math.Exp(e - m)
		}
		brute := m + math.Log(z)
		logZ, err := d.ExactLogZ()
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(logZ-brute) > 1e-11 {
			t.Fatalf("seed %d: ExactLogZ %v, brute force %v", seed, logZ, brute)
		}
		v := tensor.New(tensor.WithShape(16, 4), tensor.Of(tensor.Float64))
		vs := floats(v)
		for i := range vs {
			vs[i] = float64(i >> (i % 4) & 1) // every 4-bit pattern, row i has bits of i
		}
		for r := 0; r < 16; r++ {
			for j := 0; j < 4; j++ {
				vs[r*4+j] = float64(r >> j & 1)
			}
		}
		_, logp, err := d.ExactPosterior(v)
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		for _, lp := range logp {
			sum += math.Exp(lp - logZ)
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Errorf("seed %d: Σ_v p(v) = %v, want 1", seed, sum)
		}
		lb, err := d.LowerBound(v, logZ, MeanFieldSettings{Tolerance: 1e-12, MaxIterations: 500})
		if err != nil {
			t.Fatal(err)
		}
		for r := range lb {
			if lb[r] > logp[r]-logZ+1e-12 {
				t.Errorf("seed %d row %d: lower bound %v above log p(v) %v", seed, r, lb[r], logp[r]-logZ)
			}
			if lb[r] < logp[r]-logZ-5 {
				t.Errorf("seed %d row %d: lower bound %v implausibly loose (log p(v) %v)", seed, r, lb[r], logp[r]-logZ)
			}
		}
	}
}

// TestDBMAsRBMEnergy: the even/odd RBM has the DBM's energy on every joint state.
func TestDBMAsRBMEnergy(t *testing.T) {
	d := randomDBM(t, []int{3, 2, 2, 2}, 1, 7)
	r, err := d.AsRBM()
	if err != nil {
		t.Fatal(err)
	}
	if r.NumVisible() != 5 || r.NumHidden() != 4 {
		t.Fatalf("AsRBM shape %d×%d, want 5×4 (layers 0,2 | 1,3)", r.NumVisible(), r.NumHidden())
	}
	p := d.params64()
	w, b, c := floats(r.W), floats(r.B), floats(r.C)
	x := [][]float64{make([]float64, 3), make([]float64, 2), make([]float64, 2), make([]float64, 2)}
	for s := 0; s < 1<<9; s++ {
		bit := 0
		for l := range x {
			for j := range x[l] {
				x[l][j] = float64(s >> bit & 1)
				bit++
			}
		}
		ev := append(append([]float64(nil), x[0]...), x[2]...)
		oh := append(append([]float64(nil), x[1]...), x[3]...)
		e := 0.0
		for i, vi := range ev {
			e -= b[i] * vi
			for j, hj := range oh {
				e -= vi * w[i*4+j] * hj
			}
		}
		for j, hj := range oh {
			e -= c[j] * hj
		}
		if math.Abs(e-p.energy(x, 0)) > 1e-12 {
			t.Fatalf("state %d: RBM energy %v, DBM energy %v", s, e, p.energy(x, 0))
		}
	}
}

// TestDBMSampleStationary: long Gibbs chains of a tiny DBM reproduce the exact visible marginals.
func TestDBMSampleStationary(t *testing.T) {
	d := b26DBM(t, tensor.Float64)
	floats(d.B[0])[0] = 0.3
	logZ, _ := d.ExactLogZ()
	vAll := tensor.New(tensor.WithShape(8, 3), tensor.Of(tensor.Float64))
	for r := 0; r < 8; r++ {
		for j := 0; j < 3; j++ {
			floats(vAll)[r*3+j] = float64(r >> j & 1)
		}
	}
	_, logp, _ := d.ExactPosterior(vAll)
	want := make([]float64, 3)
	for r, lp := range logp {
		for j := 0; j < 3; j++ {
			want[j] += math.Exp(lp-logZ) * float64(r>>j&1)
		}
	}
	src := rand.NewPCG(3, 4)
	x, err := d.RandomStates(2000, src)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float64, 3)
	const sweeps = 20
	for k := 0; k < sweeps; k++ {
		if x, err = d.Sample(x, 1, src); err != nil {
			t.Fatal(err)
		}
		if k < 5 {
			continue
		}
		for i, v := range floats(x[0]) {
			got[i%3] += v / (2000 * (sweeps - 5))
		}
	}
	near(t, "p(v_i = 1)", got, want, 0.015)
}

func TestDBMErrors(t *testing.T) {
	if _, err := NewDBM([]int{3}, tensor.Float64, rand.NewPCG(1, 1)); err == nil {
		t.Error("one layer size: no error")
	}
	if _, err := NewDBM([]int{3, 0}, tensor.Float64, rand.NewPCG(1, 1)); err == nil {
		t.Error("zero units: no error")
	}
	d := b26DBM(t, tensor.Float64)
	bad := denseOf(tensor.Float64, []float64{1, 2, 0}, 1, 3)
	if _, _, err := d.MeanField(bad, MeanFieldSettings{}); err == nil {
		t.Error("value 2 in data: no error")
	}
	wrong := denseOf(tensor.Float64, []float64{1, 1}, 1, 2)
	if _, _, err := d.MeanField(wrong, MeanFieldSettings{}); err == nil {
		t.Error("2 columns for 3 visible units: no error")
	}
	d.W[1] = denseOf(tensor.Float64, []float64{1, 2, 3}, 3, 1)
	if err := d.Check(); err == nil {
		t.Error("mis-shaped W[1]: no error")
	}
}

func TestDBMSaveLoad(t *testing.T) {
	d := randomDBM(t, []int{4, 3, 2}, 1, 5)
	path := filepath.Join(t.TempDir(), "m.dbm")
	if err := d.Save(path); err != nil {
		t.Fatal(err)
	}
	e, err := LoadDBM(path)
	if err != nil {
		t.Fatal(err)
	}
	for l := range d.W {
		near(t, "W", floats(e.W[l]), floats(d.W[l]), 0)
	}
	for l := range d.B {
		near(t, "B", floats(e.B[l]), floats(d.B[l]), 0)
	}
	if _, err := LoadDBN(path); err == nil {
		t.Error("LoadDBN of a DBM file: no error")
	}
}
