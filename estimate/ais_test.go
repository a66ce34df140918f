package estimate_test

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ebm-go/ebm/estimate"
	"github.com/ebm-go/ebm/ops"
)

func path(t testing.TB, m *estimate.BernoulliRBM, base []float64) *estimate.BernoulliPath {
	t.Helper()
	p, err := estimate.NewBernoulliPath(m, base)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func runAIS(t testing.TB, p estimate.Path, s estimate.Settings, seed uint64) *estimate.Result {
	t.Helper()
	r, err := estimate.AIS(context.Background(), p, s, rand.NewPCG(seed, 1))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestB25aZeroModel: an all-zero 3×2 RBM annealed from the uniform base model has log Z = 5 ln 2
// and every log-weight exactly 0 (case B25 a), along the full default schedule.
func TestB25aZeroModel(t *testing.T) {
	m := rbm(t, 3, 2, make([]float64, 6), make([]float64, 3), make([]float64, 2))
	r := runAIS(t, path(t, m, nil), estimate.Settings{}, 1)
	if len(r.LogWeights) != estimate.DefaultRuns || r.Distributions != 14501 {
		t.Fatalf("%d runs, %d distributions; want %d, 14501", len(r.LogWeights), r.Distributions, estimate.DefaultRuns)
	}
	for m, w := range r.LogWeights {
		if w != 0 {
			t.Fatalf("log-weight of run %d is %v, want exactly 0", m, w)
		}
	}
	if want := 5 * math.Ln2; math.Abs(r.LogZ-want) > 1e-12 || r.StdErr != 0 || r.EffectiveRuns != 100 {
		t.Errorf("log Z = %.12f ± %v (ESS %v), want %.12f ± 0 (ESS 100)", r.LogZ, r.StdErr, r.EffectiveRuns, want)
	}
	if r.Lower != r.LogZ || r.Upper != r.LogZ {
		t.Errorf("interval [%v, %v] should collapse to %v", r.Lower, r.Upper, r.LogZ)
	}
}

// TestB25bIndependentVisibles: W = 0 with a base model sharing b: every run gets the same
// weight, so log Z = Σ softplus(b) + Σ softplus(c) = 3.364114939 with zero variance (B25 b).
func TestB25bIndependentVisibles(t *testing.T) {
	b, c := []float64{0.1, -0.2, 0.3}, []float64{0, -0.5}
	m := rbm(t, 3, 2, make([]float64, 6), b, c)
	for _, s := range []estimate.Settings{{}, {Runs: 10, Schedule: estimate.LinearSchedule(7)}} {
		r := runAIS(t, path(t, m, b), s, 2)
		want := 0.0
		for _, x := range append(append([]float64(nil), b...), c...) {
			want += ops.Softplus64(x)
		}
		if math.Abs(want-3.364114939) > 1e-9 {
			t.Fatalf("reference Σ softplus = %.10f", want)
		}
		if math.Abs(r.LogZ-want) > 1e-10 || r.StdErr != 0 {
			t.Errorf("%d distributions: log Z = %.12f ± %v, want %.12f ± 0", r.Distributions, r.LogZ, r.StdErr, want)
		}
		for m, w := range r.LogWeights {
			if w != r.LogWeights[0] {
				t.Fatalf("run %d log-weight %v differs from run 0's %v", m, w, r.LogWeights[0])
			}
		}
	}
}

// TestB25cP3x2: 100 runs × 1000 temperatures land within 0.05 of the exact 4.163709367, from
// the uniform base and from a base sharing the model's visible biases, for several seeds.
func TestB25cP3x2(t *testing.T) {
	m := rbm(t, 3, 2, p3x2W, p3x2B, p3x2C)
	for _, base := range [][]float64{nil, p3x2B} {
		for seed := uint64(1); seed <= 5; seed++ {
			r := runAIS(t, path(t, m, base), estimate.Settings{Runs: 100, Schedule: estimate.LinearSchedule(1000)}, seed)
			if math.Abs(r.LogZ-p3x2LogZ) > 0.05 {
				t.Errorf("base %v seed %d: log Z = %.4f ± %.4f, exact %.6f", base, seed, r.LogZ, r.StdErr, p3x2LogZ)
			}
		}
	}
}

// TestB25dBaseRateClip: a column that is always 0 (or always 1) gets a finite base-rate bias,
// logit(1e-3) (or logit(1-1e-3)).
func TestB25dBaseRateClip(t *testing.T) {
	data := dense([]float64{
		0, 1, 1,
		0, 1, 0,
		0, 1, 0,
		0, 1, 1,
	}, 4, 3)
	b, err := estimate.BaseRateBiases(data)
	if err != nil {
		t.Fatal(err)
	}
	lo := math.Log(1e-3 / (1 - 1e-3))
	want := []float64{lo, -lo, 0}
	for i := range want {
		if math.IsInf(b[i], 0) || math.Abs(b[i]-want[i]) > 1e-12 {
			t.Errorf("bias %d = %v, want %v", i, b[i], want[i])
		}
	}
	m := rbm(t, 3, 2, p3x2W, p3x2B, p3x2C)
	p := path(t, m, b)
	if lz := p.LogZBase(); math.IsInf(lz, 0) || math.IsNaN(lz) {
		t.Fatalf("log Z_A = %v", lz)
	}
	r := runAIS(t, p, estimate.Settings{Runs: 100, Schedule: estimate.LinearSchedule(1000)}, 3)
	if math.Abs(r.LogZ-p3x2LogZ) > 0.05 {
		t.Errorf("from a clipped base rate: log Z = %.4f, exact %.6f", r.LogZ, p3x2LogZ)
	}
}

// exactSamples draws n visible vectors from p(v) of a small model by inverting its exact CDF.
func exactSamples(t testing.TB, m *estimate.BernoulliRBM, n int, seed uint64) []float64 {
	t.Helper()
	nv := m.NumVisible()
	states := make([]float64, 0, nv<<nv)
	for s := 0; s < 1<<nv; s++ {
		for i := 0; i < nv; i++ {
			states = append(states, float64(s>>i&1))
		}
	}
	f, err := m.FreeEnergies(dense(states, 1<<nv, nv))
	if err != nil {
		t.Fatal(err)
	}
	logZ, err := estimate.ExactLogZ(m)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 5))
	out := make([]float64, 0, n*nv)
	for k := 0; k < n; k++ {
		u := r.Float64()
		s := 0
		for acc := math.Exp(-f[0] - logZ); acc < u && s < len(f)-1; {
			s++
			acc += math.Exp(-f[s] - logZ)
		}
		out = append(out, states[s*nv:(s+1)*nv]...)
	}
	return out
}

// TestReverseAISP3x2 starts reverse AIS from exact samples of P3x2, where it estimates 1/Z
// without bias; the RAISE log-likelihoods must match the exact ones of the start rows.
func TestReverseAISP3x2(t *testing.T) {
	m := rbm(t, 3, 2, p3x2W, p3x2B, p3x2C)
	starts := exactSamples(t, m, 100, 1)
	f, err := m.FreeEnergies(dense(starts, 100, 3))
	if err != nil {
		t.Fatal(err)
	}
	exactLL := 0.0
	for _, v := range f {
		exactLL += (-v - p3x2LogZ) / 100
	}
	for seed := uint64(1); seed <= 3; seed++ {
		r, err := estimate.ReverseAIS(context.Background(), path(t, m, nil), dense(starts, 100, 3), estimate.Settings{Schedule: estimate.LinearSchedule(1000)}, rand.NewPCG(seed, 2))
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(r.LogZ-p3x2LogZ) > 0.05 || !(r.Lower <= r.LogZ && r.LogZ <= r.Upper) {
			t.Errorf("seed %d: reverse log Z = %.4f [%.4f, %.4f], exact %.6f", seed, r.LogZ, r.Lower, r.Upper, p3x2LogZ)
		}
		if math.Abs(r.MeanLogLikelihood-exactLL) > 0.05 {
			t.Errorf("seed %d: RAISE mean log-likelihood %.4f, exact %.4f", seed, r.MeanLogLikelihood, exactLL)
		}
		if len(r.LogLikelihood) != 100 {
			t.Errorf("%d per-row log-likelihoods", len(r.LogLikelihood))
		}
	}
	// Ten chains from each of 20 rows: every row's RAISE log-likelihood matches its exact one.
	r, err := estimate.ReverseAIS(context.Background(), path(t, m, nil), dense(starts[:20*3], 20, 3), estimate.Settings{Runs: 200, Schedule: estimate.LinearSchedule(1000)}, rand.NewPCG(4, 2))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.LogLikelihood) != 20 || len(r.LogWeights) != 200 {
		t.Fatalf("%d rows, %d runs", len(r.LogLikelihood), len(r.LogWeights))
	}
	for n, ll := range r.LogLikelihood {
		if want := -f[n] - p3x2LogZ; math.Abs(ll-want) > 0.05 {
			t.Errorf("row %d: RAISE log-likelihood %.4f, exact %.4f", n, ll, want)
		}
	}
}

// TestAISMatchesExact anneals a 40×12 RBM with strong random couplings from its base-rate model
// (estimated from exact samples) with 10 seeds: each estimate lies within 0.3 nats of the exact
// log Z, the exact value falls inside ±3σ for at least 9 of them, and forward and reverse AIS
// (started from exact samples) agree with the exact value.
func TestAISMatchesExact(t *testing.T) {
	p := randomParams(40, 12, 0.6, -1, 0.5, 11)
	m := p.model(t)
	exact, err := estimate.ExactLogZ(m)
	if err != nil {
		t.Fatal(err)
	}
	// Base rates from 500 exact samples: sample h ~ p(h) by enumeration is cheap (2^12), then v|h.
	data := sampleViaHidden(t, p, exact, 500, 4)
	base, err := estimate.BaseRateBiases(dense(data, 500, p.nv))
	if err != nil {
		t.Fatal(err)
	}
	ap := path(t, m, base)
	s := estimate.Settings{Runs: 100, Schedule: estimate.LinearSchedule(1000)}
	inside := 0
	for seed := uint64(1); seed <= 10; seed++ {
		r := runAIS(t, ap, s, seed)
		t.Logf("seed %d: %.4f ± %.4f [%.4f, %.4f] exact %.4f ESS %.1f", seed, r.LogZ, r.StdErr, r.Lower, r.Upper, exact, r.EffectiveRuns)
		if math.Abs(r.LogZ-exact) > 0.3 {
			t.Errorf("seed %d: AIS log Z %.4f ± %.4f, exact %.4f", seed, r.LogZ, r.StdErr, exact)
		}
		if r.Lower <= exact && exact <= r.Upper {
			inside++
		}
	}
	if inside < 9 {
		t.Errorf("exact log Z inside the ±3σ interval for %d of 10 seeds, want ≥ 9", inside)
	}
	rr, err := estimate.ReverseAIS(context.Background(), ap, dense(data[:100*p.nv], 100, p.nv), estimate.Settings{Schedule: s.Schedule}, rand.NewPCG(9, 9))
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(rr.LogZ-exact) > 0.3 {
		t.Errorf("reverse AIS log Z %.4f ± %.4f, exact %.4f", rr.LogZ, rr.StdErr, exact)
	}
}

// sampleViaHidden draws n exact samples of v: h from p(h) by enumerating the hidden layer, then
// v from p(v|h).
func sampleViaHidden(t testing.TB, p params, logZ float64, n int, seed uint64) []float64 {
	t.Helper()
	lp := make([]float64, 1<<p.nh) // log p(h)
	for h := range lp {
		s := 0.0
		for j := 0; j < p.nh; j++ {
			if h>>j&1 == 1 {
				s += p.c[j]
			}
		}
		for i := 0; i < p.nv; i++ {
			s += ops.Softplus64(visibleLogit(p, i, h))
		}
		lp[h] = s - logZ
	}
	r := rand.New(rand.NewPCG(seed, 6))
	out := make([]float64, 0, n*p.nv)
	for k := 0; k < n; k++ {
		u, h := r.Float64(), 0
		for acc := math.Exp(lp[0]); acc < u && h < len(lp)-1; {
			h++
			acc += math.Exp(lp[h])
		}
		for i := 0; i < p.nv; i++ {
			x := 0.0
			if r.Float64() < ops.Sigmoid64(visibleLogit(p, i, h)) {
				x = 1
			}
			out = append(out, x)
		}
	}
	return out
}

func visibleLogit(p params, i, h int) float64 {
	x := p.b[i]
	for j := 0; j < p.nh; j++ {
		if h>>j&1 == 1 {
			x += p.w[i*p.nh+j]
		}
	}
	return x
}

// TestAISReproducible: the same seed gives bit-identical log-weights whatever the number of
// workers; another seed gives different ones.
func TestAISReproducible(t *testing.T) {
	m := randomParams(20, 8, 0.5, -1, 0.5, 2).model(t)
	p := path(t, m, nil)
	s := estimate.Settings{Runs: 7, Schedule: estimate.LinearSchedule(200), Workers: 1}
	a := runAIS(t, p, s, 5)
	s.Workers = 3
	b := runAIS(t, p, s, 5)
	c := runAIS(t, p, s, 6)
	for m := range a.LogWeights {
		if a.LogWeights[m] != b.LogWeights[m] {
			t.Fatalf("run %d: %v with 1 worker, %v with 3", m, a.LogWeights[m], b.LogWeights[m])
		}
	}
	if a.LogWeights[0] == c.LogWeights[0] {
		t.Error("seeds 5 and 6 gave the same first log-weight")
	}
}

func TestAISValidation(t *testing.T) {
	m := rbm(t, 3, 2, p3x2W, p3x2B, p3x2C)
	p := path(t, m, nil)
	ctx := context.Background()
	src := rand.NewPCG(1, 1)
	for name, tc := range map[string]struct {
		s    estimate.Settings
		want string
	}{
		"empty schedule":  {estimate.Settings{Schedule: []float64{}}, "empty"},
		"one value":       {estimate.Settings{Schedule: []float64{0}}, "at least"},
		"non-increasing":  {estimate.Settings{Schedule: []float64{0, 0.5, 0.5, 1}}, "increasing"},
		"decreasing":      {estimate.Settings{Schedule: []float64{0, 0.6, 0.4, 1}}, "increasing"},
		"NaN":             {estimate.Settings{Schedule: []float64{0, math.NaN(), 1}}, "increasing"},
		"start not 0":     {estimate.Settings{Schedule: []float64{0.1, 1}}, "start at 0"},
		"end not 1":       {estimate.Settings{Schedule: []float64{0, 0.9}}, "end at 1"},
		"one run":         {estimate.Settings{Runs: 1}, "at least 2"},
		"negative runs":   {estimate.Settings{Runs: -3}, "at least 2"},
		"negative worker": {estimate.Settings{Workers: -1}, "Workers"},
	} {
		_, err := estimate.AIS(ctx, p, tc.s, src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", name, err, tc.want)
		}
	}
	if estimate.LinearSchedule(0) != nil {
		t.Error("LinearSchedule(0) is not nil")
	}
	if _, err := estimate.AIS(ctx, nil, estimate.Settings{}, src); err == nil {
		t.Error("nil path: no error")
	}
	if _, err := estimate.AIS(ctx, p, estimate.Settings{}, nil); err == nil {
		t.Error("nil source: no error")
	}
	if _, err := estimate.NewBernoulliPath(m, []float64{0, 0}); err == nil {
		t.Error("base of the wrong length: no error")
	}
	if _, err := estimate.NewBernoulliPath(m, []float64{0, math.Inf(-1), 0}); err == nil {
		t.Error("infinite base bias: no error")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := estimate.AIS(cancelled, p, estimate.Settings{Runs: 2}, src); err == nil {
		t.Error("cancelled context: no error")
	}
	short := estimate.Settings{Schedule: estimate.LinearSchedule(10)}
	for name, tc := range map[string]struct {
		rows []float64
		n    int
		s    estimate.Settings
	}{
		"grey start": {[]float64{1, 0, 0.5, 0, 0, 0}, 2, short},
		"one row":    {[]float64{1, 0, 1}, 1, short},
		"runs":       {[]float64{1, 0, 1, 0, 0, 0}, 2, estimate.Settings{Runs: 5, Schedule: short.Schedule}},
		"neg runs":   {[]float64{1, 0, 1, 0, 0, 0}, 2, estimate.Settings{Runs: -2, Schedule: short.Schedule}},
		"schedule":   {[]float64{1, 0, 1, 0, 0, 0}, 2, estimate.Settings{Schedule: []float64{0, 1, 1}}},
	} {
		if _, err := estimate.ReverseAIS(ctx, p, dense(tc.rows, tc.n, 3), tc.s, src); err == nil {
			t.Errorf("reverse AIS, %s: no error", name)
		}
	}
	if _, err := estimate.ReverseAIS(ctx, p, dense([]float64{1, 0, 1, 0}, 2, 2), short, src); err == nil {
		t.Error("reverse AIS, 2 columns: no error")
	}
	if r, err := estimate.ReverseAIS(ctx, p, dense([]float64{1, 0, 1}, 1, 3), estimate.Settings{Runs: 4, Schedule: short.Schedule}, src); err != nil || len(r.LogLikelihood) != 1 || r.MeanLogLikelihoodStdErr != 0 {
		t.Errorf("reverse AIS, 4 runs from one row: %v, %+v", err, r)
	}
}

func TestDefaultSchedule(t *testing.T) {
	s := estimate.DefaultSchedule()
	if err := estimate.CheckSchedule(s); err != nil {
		t.Fatal(err)
	}
	if len(s) != 14501 || s[500] != 0.5 || s[4500] != 0.9 || math.Abs(s[1]-1e-3) > 1e-15 || math.Abs(s[14500]-s[14499]-1e-5) > 1e-12 {
		t.Errorf("len %d, s[500] %v, s[4500] %v, s[1] %v", len(s), s[500], s[4500], s[1])
	}
}
