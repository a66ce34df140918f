package models_test

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
)

// randomBM returns a fully connected BM with couplings and biases drawn from N(0, sd²).
func randomBM(t testing.TB, nv, nh int, sd float64, seed uint64) *models.BM {
	t.Helper()
	n := nv + nh
	r := rand.New(rand.NewPCG(seed, 99))
	w := make([]float64, n*n)
	b := make([]float64, n)
	for i := 0; i < n; i++ {
		b[i] = sd * r.NormFloat64()
		for j := i + 1; j < n; j++ {
			w[i*n+j] = sd * r.NormFloat64()
			w[j*n+i] = w[i*n+j]
		}
	}
	m, err := models.NewBMFromCouplings(nv, w, b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestBMGraphEnergy checks the graph energy -½sᵀWs - bᵀs against plain Go, and that its gradient
// with respect to the free parameter U is -s_i s_j on the upper triangle and 0 elsewhere.
func TestBMGraphEnergy(t *testing.T) {
	m := randomBM(t, 3, 2, 1, 1)
	states := dense(tensor.Float64, []int{32, 5}, allStates(5))
	want, err := m.Energies(states)
	if err != nil {
		t.Fatal(err)
	}
	g := G.NewGraph()
	b, err := m.Bind(g)
	if err != nil {
		t.Fatal(err)
	}
	s := G.NewMatrix(g, tensor.Float64, G.WithShape(32, 5), G.WithName("s"), G.WithValue(states))
	e, err := b.Energy(s)
	if err != nil {
		t.Fatal(err)
	}
	// Gradient of the energy of one state, s = 10110.
	one := G.NewMatrix(g, tensor.Float64, G.WithShape(1, 5), G.WithName("one"), G.WithValue(dense(tensor.Float64, []int{1, 5}, []float64{1, 0, 1, 1, 0})))
	e1, err := b.Energy(one)
	if err != nil {
		t.Fatal(err)
	}
	cost := G.Must(G.Sum(e1))
	grads, err := G.Grad(cost, b.U, b.B)
	if err != nil {
		t.Fatal(err)
	}
	var ev, gu, gb G.Value
	G.Read(e, &ev)
	G.Read(grads[0], &gu)
	G.Read(grads[1], &gb)
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	near(t, "graph energy", ev.Data().([]float64), want, 1e-12)
	st := []float64{1, 0, 1, 1, 0}
	wantU := make([]float64, 25)
	for i := 0; i < 5; i++ {
		for j := i + 1; j < 5; j++ {
			wantU[i*5+j] = -st[i] * st[j]
		}
	}
	near(t, "dE/dU", gu.Data().([]float64), wantU, 1e-12)
	near(t, "dE/db", gb.Data().([]float64), []float64{-1, 0, -1, -1, 0}, 1e-12)
}

// TestBMBipartiteEqualsRBM checks that a BM with the bipartite mask is the RBM with the same
// parameters: equal free energies (to 1e-12) and log Z.
func TestBMBipartiteEqualsRBM(t *testing.T) {
	rbmW := []float64{1, -1, 0.5, 0.5, -1, 2}
	b, c := []float64{0.1, -0.2, 0.3}, []float64{0, -0.5}
	n := 5
	w := make([]float64, n*n)
	for i := 0; i < 3; i++ {
		for j := 0; j < 2; j++ {
			w[i*n+3+j] = rbmW[i*2+j]
			w[(3+j)*n+i] = rbmW[i*2+j]
		}
	}
	m, err := models.NewBMFromCouplings(3, w, append(append([]float64(nil), b...), c...))
	if err != nil {
		t.Fatal(err)
	}
	// Add random lateral couplings, then mask them away.
	u := m.U.Data().([]float64)
	u[0*n+1], u[3*n+4] = 7, -3
	if err := m.SetMask(models.BipartiteMask(3, 2)); err != nil {
		t.Fatal(err)
	}
	v := dense(tensor.Float64, []int{8, 3}, allStates(3))
	got, err := m.FreeEnergy(v)
	if err != nil {
		t.Fatal(err)
	}
	want, err := p3x2(t, tensor.Float64).FreeEnergy(v)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "F", got, floats(want), 1e-12)
	logZ, err := m.ExactLogZ()
	if err != nil {
		t.Fatal(err)
	}
	near(t, "log Z", []float64{logZ}, []float64{4.163709367}, 1e-9)
}

// TestBMValidation checks that asymmetric couplings, self-couplings and bad states are errors.
func TestBMValidation(t *testing.T) {
	if _, err := models.NewBMFromCouplings(2, []float64{0, 1, 2, 0}, []float64{0, 0}); err == nil || !strings.Contains(err.Error(), "symmetric") {
		t.Errorf("asymmetric couplings: %v", err)
	}
	if _, err := models.NewBMFromCouplings(2, []float64{1, 0, 0, 0}, []float64{0, 0}); err == nil || !strings.Contains(err.Error(), "self") {
		t.Errorf("self-coupling: %v", err)
	}
	m := randomBM(t, 2, 1, 1, 3)
	if err := m.Gibbs(dense(tensor.Float64, []int{1, 3}, []float64{0, 0.5, 1}), 1, 1, nil, rand.NewPCG(1, 1)); err == nil {
		t.Error("non-binary state: no error")
	}
	if err := m.Gibbs(dense(tensor.Float64, []int{1, 3}, []float64{0, 1, 1}), 1, math.Inf(1), nil, rand.NewPCG(1, 1)); err == nil {
		t.Error("β = +Inf: no error")
	}
	big, err := models.NewBM(30, 0, rand.NewPCG(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := big.ExactLogZ(); err == nil || !strings.Contains(err.Error(), "30 units") {
		t.Errorf("30-unit exact log Z: %v; want an error naming the size", err)
	}
}

// TestB27Annealing is case B27: (a) an all-zero model gets a finite schedule and uniform samples;
// (b) one unit with bias 1 has p(s=1) = σ(β) and annealing to β = 10 ends in s = 1; (c)
// schedules reaching T = 0, β = +Inf, NaN or nothing are validation errors.
func TestB27Annealing(t *testing.T) {
	zero, err := models.NewBMFromCouplings(3, make([]float64, 9), make([]float64, 3))
	if err != nil {
		t.Fatal(err)
	}
	sched := zero.DefaultSchedule(50)
	betas, err := sched.Betas()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range betas {
		if !(b > 0) || math.IsInf(b, 0) {
			t.Fatalf("default schedule of the zero model has β = %v", b)
		}
	}
	const chains = 16000
	states := dense(tensor.Float64, []int{chains, 3}, make([]float64, 3*chains))
	if err := zero.Gibbs(states, 3, 1, nil, rand.NewPCG(4, 4)); err != nil {
		t.Fatal(err)
	}
	counts := make([]float64, 8)
	x := states.Data().([]float64)
	for r := 0; r < chains; r++ {
		counts[int(4*x[3*r]+2*x[3*r+1]+x[3*r+2])]++
	}
	if chi := chiSquare(counts, uniform(8)); chi > 24.32 { // 7 dof, p = 0.001
		t.Errorf("zero model: chi-square %v against uniform over 8 states (counts %v)", chi, counts)
	}

	one, err := models.NewBMFromCouplings(1, []float64{0}, []float64{1})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ beta, want float64 }{{0.1, 0.524979}, {1, 0.731059}, {10, 0.999955}} {
		const n = 200000
		s := dense(tensor.Float64, []int{n, 1}, make([]float64, n))
		if err := one.Gibbs(s, 1, tc.beta, nil, rand.NewPCG(5, uint64(tc.beta*10))); err != nil {
			t.Fatal(err)
		}
		p := mean(floatsOf(s))
		if se := math.Sqrt(tc.want * (1 - tc.want) / n); math.Abs(p-tc.want) > 4*se+1e-12 {
			t.Errorf("β = %v: p(s=1) = %v, want %v (4 s.e. = %v)", tc.beta, p, tc.want, 4*se)
		}
	}
	const runs = 20000
	s := dense(tensor.Float64, []int{runs, 1}, make([]float64, runs))
	best, energy, err := one.Anneal(s, models.GeometricSchedule{TStart: 10, TEnd: 0.1, Steps: 20}, nil, rand.NewPCG(6, 6))
	if err != nil {
		t.Fatal(err)
	}
	on := 0
	for r, v := range best.Data().([]float64) {
		if v == 1 && energy[r] == -1 {
			on++
		}
	}
	if frac := float64(on) / runs; frac < 0.9999 {
		t.Errorf("annealing to β = 10 ended in s = 1 in %v of runs; want ≥ 0.9999", frac)
	}

	for name, sc := range map[string]models.AnnealSchedule{
		"T=0":       models.Temperatures{1, 0.5, 0},
		"empty":     models.Temperatures{},
		"NaN":       models.Temperatures{1, math.NaN()},
		"Inf":       models.Temperatures{math.Inf(1)},
		"geomT0":    models.GeometricSchedule{TStart: 1, TEnd: 0, Steps: 10},
		"linear<0":  models.LinearSchedule{TStart: 1, TEnd: -1, Steps: 10},
		"no steps":  models.GeometricSchedule{TStart: 1, TEnd: 0.1},
		"linearNaN": models.LinearSchedule{TStart: math.NaN(), TEnd: 1, Steps: 3},
	} {
		if _, _, err := one.Anneal(dense(tensor.Float64, []int{1, 1}, []float64{0}), sc, nil, rand.NewPCG(1, 1)); err == nil {
			t.Errorf("%s schedule: no error", name)
		}
	}
}

func uniform(k int) []float64 {
	p := make([]float64, k)
	for i := range p {
		p[i] = 1 / float64(k)
	}
	return p
}

func floatsOf(x *tensor.Dense) []float64 { return x.Data().([]float64) }

func mean(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// chiSquare returns Σ (O - E)² / E for observed counts and expected probabilities.
func chiSquare(counts, p []float64) float64 {
	total := 0.0
	for _, c := range counts {
		total += c
	}
	chi := 0.0
	for i, c := range counts {
		e := total * p[i]
		chi += (c - e) * (c - e) / e
	}
	return chi
}

// TestBMGibbsMatchesBoltzmann checks with a chi-square test that Gibbs samples of a 5-unit BM
// follow the exact Boltzmann distribution p(s) = exp(-E(s))/Z.
func TestBMGibbsMatchesBoltzmann(t *testing.T) {
	m := randomBM(t, 5, 0, 0.8, 7)
	all := dense(tensor.Float64, []int{32, 5}, allStates(5))
	e, err := m.Energies(all)
	if err != nil {
		t.Fatal(err)
	}
	logZ, err := m.ExactLogZ()
	if err != nil {
		t.Fatal(err)
	}
	p := make([]float64, 32)
	for i := range p {
		p[i] = math.Exp(-e[i] - logZ)
	}
	const chains = 20000
	start := make([]float64, 5*chains)
	r := rand.New(rand.NewPCG(8, 8))
	for i := range start {
		start[i] = float64(r.IntN(2))
	}
	s := dense(tensor.Float64, []int{chains, 5}, start)
	if err := m.Gibbs(s, 20, 1, nil, rand.NewPCG(9, 9)); err != nil {
		t.Fatal(err)
	}
	counts := make([]float64, 32)
	x := s.Data().([]float64)
	for c := 0; c < chains; c++ {
		k := 0
		for i := 0; i < 5; i++ {
			k = 2*k + int(x[5*c+i])
		}
		counts[k]++
	}
	if chi := chiSquare(counts, p); chi > 61.10 { // 31 dof, p = 0.001
		t.Errorf("chi-square %v over 32 states exceeds the 0.001 critical value 61.10", chi)
	}
}

// TestBMAnnealingFindsGroundState anneals random 20-unit instances (couplings N(0,1)) from random
// starts (1,000 sweeps of the default geometric schedule) and checks against exhaustive search that ≥ 99% of seeded runs reach the ground state.
func TestBMAnnealingFindsGroundState(t *testing.T) {
	instances, runs := 10, 20
	if testing.Short() {
		instances = 2
	}
	hits, total := 0, 0
	for k := 0; k < instances; k++ {
		m := randomBM(t, 20, 0, 1, uint64(100+k))
		_, ground, err := m.GroundState()
		if err != nil {
			t.Fatal(err)
		}
		start := make([]float64, 20*runs)
		r := rand.New(rand.NewPCG(uint64(k), 1))
		for i := range start {
			start[i] = float64(r.IntN(2))
		}
		_, energy, err := m.Anneal(dense(tensor.Float64, []int{runs, 20}, start), m.DefaultSchedule(1000), nil, rand.NewPCG(uint64(k), 2))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range energy {
			if e < ground-1e-9 {
				t.Fatalf("annealing found energy %v below the exhaustive ground state %v", e, ground)
			}
			if math.Abs(e-ground) < 1e-9 {
				hits++
			}
			total++
		}
	}
	t.Logf("ground state reached in %d of %d runs", hits, total)
	if frac := float64(hits) / float64(total); frac < 0.99 {
		t.Errorf("annealing reached the ground state in %d of %d runs (%.3f); want ≥ 0.99", hits, total, frac)
	}
}

// barsAndStripes2x2 returns the 6 distinct 2×2 bars-and-stripes images.
func barsAndStripes2x2() []float64 {
	return []float64{
		0, 0, 0, 0,
		1, 1, 1, 1,
		1, 1, 0, 0,
		0, 0, 1, 1,
		1, 0, 1, 0,
		0, 1, 0, 1,
	}
}

// TestBMLearnsBarsAndStripes trains a BM with 4 visible and 3 hidden units on 2×2
// bars-and-stripes with exact expectations and checks that the exact KL(data‖model) =
// -log 6 - mean log p(v) falls below 0.1 nats (from ≈ 1.0 nats at initialisation).
func TestBMLearnsBarsAndStripes(t *testing.T) {
	m, err := models.NewBM(4, 3, rand.NewPCG(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	data := dense(tensor.Float64, []int{6, 4}, barsAndStripes2x2())
	kl := func() float64 {
		ll, err := m.LogLikelihood(data)
		if err != nil {
			t.Fatal(err)
		}
		return -math.Log(6) - mean(ll)
	}
	before := kl()
	_, err = optim.Fit(context.Background(), &models.BMLearner{BM: m, Exact: true}, data, optim.Settings{
		Epochs: 400, BatchSize: 6, LearningRate: optim.Constant(0.5), Momentum: optim.Constant(0.5),
		Shuffle: rand.NewPCG(2, 2), Chains: rand.NewPCG(3, 3),
	})
	if err != nil {
		t.Fatal(err)
	}
	after := kl()
	t.Logf("KL(data‖model): %.4f → %.4f nats", before, after)
	if after > 0.1 {
		t.Errorf("KL(data‖model) = %.4f after training; want < 0.1", after)
	}
	// The persistent-Gibbs estimator also learns (more slowly): KL must at least halve.
	m2, _ := models.NewBM(4, 3, rand.NewPCG(1, 1))
	m = m2
	before = kl()
	_, err = optim.Fit(context.Background(), &models.BMLearner{BM: m2, Chains: 200, Sweeps: 2}, data, optim.Settings{
		Epochs: 300, BatchSize: 6, LearningRate: optim.Constant(0.2), Momentum: optim.Constant(0.5),
		Shuffle: rand.NewPCG(2, 2), Chains: rand.NewPCG(3, 3),
	})
	if err != nil {
		t.Fatal(err)
	}
	if after := kl(); after > before/2 {
		t.Errorf("persistent Gibbs learning: KL %.4f → %.4f; want at least halved", before, after)
	} else {
		t.Logf("persistent Gibbs: KL %.4f → %.4f nats", before, after)
	}
}
