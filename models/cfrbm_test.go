package models

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/optim"
)

// tinyCFRBM returns a CFRBM with 3 items, K = 3, 2 hidden units and parameters of order 1, so that
// every term matters.
func tinyCFRBM(t *testing.T) *CFRBM {
	t.Helper()
	m, err := NewCFRBM(3, 3, 2, rand.NewPCG(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, p := range []*tensor.Dense{m.W, m.B, m.C} {
		for i := range p.Float64s() {
			p.Float64s()[i] = r.NormFloat64()
		}
	}
	return m
}

// cfEnergy is E(V,h) from the definition, with V given as ratings 1..K per item (0: absent).
func cfEnergy(m *CFRBM, ratings []int, h []float64) float64 {
	k, nh := m.NumRatings(), m.NumHidden()
	w, b, c := m.W.Float64s(), m.B.Float64s(), m.C.Float64s()
	e := 0.0
	for j := range nh {
		e -= c[j] * h[j]
	}
	for i, r := range ratings {
		for kk := range k {
			v := 0.0
			if r == kk+1 {
				v = 1
			}
			e -= b[i*k+kk] * v
			for j := range nh {
				e -= w[(i*k+kk)*nh+j] * v * h[j]
			}
		}
	}
	return e
}

// hiddenStates enumerates {0,1}^nh.
func hiddenStates(nh int) [][]float64 {
	var out [][]float64
	for s := range 1 << nh {
		h := make([]float64, nh)
		for j := range nh {
			h[j] = float64(s >> j & 1)
		}
		out = append(out, h)
	}
	return out
}

// ratingStates enumerates every assignment of ratings 1..k to the items in set (others 0).
func ratingStates(items, k int, set []int) [][]int {
	out := [][]int{make([]int, items)}
	for _, i := range set {
		var next [][]int
		for _, s := range out {
			for r := 1; r <= k; r++ {
				c := append([]int(nil), s...)
				c[i] = r
				next = append(next, c)
			}
		}
		out = next
	}
	return out
}

func ratingRow(ratings []int) *tensor.Dense {
	x := make([]float64, len(ratings))
	for i, r := range ratings {
		x[i] = float64(r)
	}
	return tensor.New(tensor.WithShape(1, len(ratings)), tensor.WithBacking(x))
}

func logSumExp(xs []float64) float64 {
	m := math.Inf(-1)
	for _, x := range xs {
		m = math.Max(m, x)
	}
	s := 0.0
	for _, x := range xs {
		s += math.Exp(x - m)
	}
	return m + math.Log(s)
}

// Softmax visible units, checked by enumeration on a tiny model (3 items, K = 3, 2 hidden units,
// one user who rated items 0 and 2): the free energy, p(h|V), p(v_i|h), and the exact and mean-field
// predictive distributions of the unrated item.
func TestCFRBMExactByEnumeration(t *testing.T) {
	m := tinyCFRBM(t)
	user := []int{2, 0, 3}
	hs := hiddenStates(2)
	// F(V) = -log Σ_h exp(-E(V,h)).
	var negE []float64
	for _, h := range hs {
		negE = append(negE, -cfEnergy(m, user, h))
	}
	f, err := m.FreeEnergy(ratingRow(user))
	if err != nil {
		t.Fatal(err)
	}
	if want := -logSumExp(negE); math.Abs(f[0]-want) > 1e-12 {
		t.Errorf("FreeEnergy = %v, want %v", f[0], want)
	}
	// p(h_j = 1 | V).
	ph, err := m.HiddenProbs(ratingRow(user))
	if err != nil {
		t.Fatal(err)
	}
	z := logSumExp(negE)
	for j := range 2 {
		want := 0.0
		for s, h := range hs {
			want += h[j] * math.Exp(negE[s]-z)
		}
		if got := ph.Float64s()[j]; math.Abs(got-want) > 1e-12 {
			t.Errorf("p(h_%d=1|V) = %v, want %v", j, got, want)
		}
	}
	// p(v_i = k | h): enumerate all 27 rating vectors of the three items with h fixed.
	all := ratingStates(3, 3, []int{0, 1, 2})
	for _, h := range hs {
		var le []float64
		for _, v := range all {
			le = append(le, -cfEnergy(m, v, h))
		}
		zh := logSumExp(le)
		for i := range 3 {
			got, err := m.VisibleProbs(h, i)
			if err != nil {
				t.Fatal(err)
			}
			for k := range 3 {
				want := 0.0
				for s, v := range all {
					if v[i] == k+1 {
						want += math.Exp(le[s] - zh)
					}
				}
				if math.Abs(got[k]-want) > 1e-12 {
					t.Errorf("h=%v: p(v_%d=%d|h) = %v, want %v", h, i, k+1, got[k], want)
				}
			}
		}
	}
	// Exact predictive distribution of item 1: p(v_1 = k | V) ∝ Σ_h exp(-E(V ∪ {v_1 = k}, h)).
	var lk []float64
	for k := 1; k <= 3; k++ {
		with := append([]int(nil), user...)
		with[1] = k
		var le []float64
		for _, h := range hs {
			le = append(le, -cfEnergy(m, with, h))
		}
		lk = append(lk, logSumExp(le))
	}
	zq := logSumExp(lk)
	wantExact, wantMean := 0.0, 0.0
	meanField, err := m.VisibleProbs(ph.Float64s(), 1)
	if err != nil {
		t.Fatal(err)
	}
	// The query item's own rating in the matrix must be left out: same answer with item 1 rated.
	for _, row := range [][]int{user, {2, 1, 3}, {2, 3, 3}} {
		exact, err := m.RatingProbs(ratingRow(row), 0, 1, true)
		if err != nil {
			t.Fatal(err)
		}
		mf, err := m.RatingProbs(ratingRow(row), 0, 1, false)
		if err != nil {
			t.Fatal(err)
		}
		for k := range 3 {
			if want := math.Exp(lk[k] - zq); math.Abs(exact[k]-want) > 1e-12 {
				t.Errorf("row %v: exact p(v_1=%d|V) = %v, want %v", row, k+1, exact[k], want)
			}
			if math.Abs(mf[k]-meanField[k]) > 1e-15 {
				t.Errorf("row %v: mean-field p(v_1=%d|V) = %v, want softmax(b + W p(h|V)) = %v", row, k+1, mf[k], meanField[k])
			}
		}
	}
	for k := range 3 {
		wantExact += float64(k+1) * math.Exp(lk[k]-zq)
		wantMean += float64(k+1) * meanField[k]
	}
	x := ratingRow(user)
	pe, err := m.PredictExact(x, []int{0}, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	pm, err := m.Predict(x, []int{0}, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(pe[0]-wantExact) > 1e-12 || math.Abs(pm[0]-wantMean) > 1e-12 {
		t.Errorf("PredictExact = %v (want %v), Predict = %v (want %v)", pe[0], wantExact, pm[0], wantMean)
	}
	if math.Abs(pe[0]-pm[0]) < 1e-6 {
		t.Errorf("mean-field and exact predictions coincide (%v): the test model is too weak to tell them apart", pe[0])
	}
}

// expectedCDStats returns the exact expectation of the negative statistics of CD-T started at
// the ratings of user (items set), by enumerating every path h0 → V1 → h1 → … → V_T: for each item
// n of set and rating k, E[v_nk p(h|V_T)] (nh values) and E[v_nk], and E[p(h|V_T)]. With probs,
// the last step uses P_T = p(V|h_{T-1}) instead of a sample V_T.
func expectedCDStats(m *CFRBM, user []int, set []int, steps int, probs bool) (w [][]float64, b []float64, c []float64) {
	k, nh := m.NumRatings(), m.NumHidden()
	w = make([][]float64, len(set)*k)
	for i := range w {
		w[i] = make([]float64, nh)
	}
	b, c = make([]float64, len(set)*k), make([]float64, nh)
	hs := hiddenStates(nh)
	vsAll := ratingStates(len(user), k, set)
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	wf, cf := m.W.Float64s(), m.C.Float64s()
	hiddenP := func(a []float64) []float64 {
		p := make([]float64, nh)
		for j := range nh {
			p[j] = sig(a[j])
		}
		return p
	}
	inputOf := func(v []int) []float64 {
		a := append([]float64(nil), cf...)
		for _, i := range set {
			for j := range nh {
				a[j] += wf[((i*k)+v[i]-1)*nh+j]
			}
		}
		return a
	}
	probH := func(p []float64, h []float64) float64 {
		q := 1.0
		for j := range nh {
			if h[j] == 1 {
				q *= p[j]
			} else {
				q *= 1 - p[j]
			}
		}
		return q
	}
	visP := func(h []float64) [][]float64 { // per item of set: p(v_i = · | h)
		out := make([][]float64, len(set))
		for n, i := range set {
			p, _ := m.VisibleProbs(h, i)
			out[n] = p
		}
		return out
	}
	var walk func(ph []float64, weight float64, step int)
	walk = func(ph []float64, weight float64, step int) {
		for _, h := range hs {
			wh := weight * probH(ph, h)
			pv := visP(h)
			if step == steps && probs {
				a := append([]float64(nil), cf...)
				for n, i := range set {
					for r := range k {
						for j := range nh {
							a[j] += pv[n][r] * wf[(i*k+r)*nh+j]
						}
					}
				}
				pT := hiddenP(a)
				for n := range set {
					for r := range k {
						b[n*k+r] += wh * pv[n][r]
						for j := range nh {
							w[n*k+r][j] += wh * pv[n][r] * pT[j]
						}
					}
				}
				for j := range nh {
					c[j] += wh * pT[j]
				}
				continue
			}
			for _, v := range vsAll {
				pvv := wh
				for n, i := range set {
					pvv *= pv[n][v[i]-1]
				}
				pT := hiddenP(inputOf(v))
				if step < steps {
					walk(pT, pvv, step+1)
					continue
				}
				for n, i := range set {
					b[n*k+v[i]-1] += pvv
					for j := range nh {
						w[n*k+v[i]-1][j] += pvv * pT[j]
					}
				}
				for j := range nh {
					c[j] += pvv * pT[j]
				}
			}
		}
	}
	walk(hiddenP(inputOf(user)), 1, 1)
	return w, b, c
}

// The CD-T gradient is unbiased for its expectation, computed exactly by enumerating every path of
// the chain on the tiny model: the mean of 20,000 seeded single-user estimates is within 4.5
// standard errors of it for every entry, for T = 1 and 2, with samples and with visible
// probabilities at the last step. This checks the softmax sampling (ops.CategoricalIndex on
// ops.Softmax64), the hidden sampling and the statistics.
func TestCFLearnerGradientExpectation(t *testing.T) {
	m := tinyCFRBM(t)
	user := []int{2, 0, 3}
	set := []int{0, 2}
	k, nh := 3, 2
	x := ratingRow(user)
	const n = 20000
	if testing.Short() {
		t.Skip("statistical test: 80,000 gradient estimates")
	}
	for _, c := range []struct {
		steps int
		probs bool
	}{{1, false}, {2, false}, {1, true}, {2, true}} {
		ew, eb, ec := expectedCDStats(m, user, set, c.steps, c.probs)
		// Data statistics: v_ik p(h|V) at the data.
		ph, _ := m.HiddenProbs(x)
		l := &CFLearner{Model: m, T: c.steps, VisibleProbabilities: c.probs}
		src := rand.NewPCG(uint64(c.steps), 7)
		sum := make([]float64, 3*k*nh+3*k+nh)
		sq := make([]float64, len(sum))
		for range n {
			g, err := l.Gradient(x, src)
			if err != nil {
				t.Fatal(err)
			}
			var flat []float64
			for _, gi := range g {
				flat = append(flat, gi.Float64s()...)
			}
			for i, v := range flat {
				sum[i] += v
				sq[i] += v * v
			}
		}
		// Expected gradient: -(data - E[model]).
		want := make([]float64, len(sum))
		for ni, i := range set {
			r := user[i] - 1
			for j := range nh {
				want[(i*k+r)*nh+j] -= ph.Float64s()[j]
			}
			want[3*k*nh+i*k+r] -= 1
			for kk := range k {
				for j := range nh {
					want[(i*k+kk)*nh+j] += ew[ni*k+kk][j]
				}
				want[3*k*nh+i*k+kk] += eb[ni*k+kk]
			}
		}
		for j := range nh {
			want[3*k*nh+3*k+j] += ec[j] - ph.Float64s()[j]
		}
		for i := range sum {
			mean := sum[i] / n
			se := math.Sqrt(math.Max(sq[i]/n-mean*mean, 0) / n)
			if math.Abs(mean-want[i]) > 4.5*se+1e-12 {
				t.Errorf("T=%d probs=%v: gradient entry %d: mean %v, exact expectation %v (se %.2g)", c.steps, c.probs, i, mean, want[i], se)
			}
		}
		// The unrated item 1 gets no gradient at all.
		g, _ := l.Gradient(x, src)
		for kk := range k {
			for j := range nh {
				if v := g[0].Float64s()[(1*k+kk)*nh+j]; v != 0 {
					t.Fatalf("unrated item has W gradient %v", v)
				}
			}
		}
	}
}

// Same seeds give bit-identical parameters after training; another chain seed gives others.
func TestCFLearnerReproducible(t *testing.T) {
	x := benchRatings(60, 30, 0.3, 3)
	train := func(chain uint64) []float64 {
		m, err := NewCFRBM(30, 5, 8, rand.NewPCG(1, 1))
		if err != nil {
			t.Fatal(err)
		}
		if err := m.InitVisibleBiases(x); err != nil {
			t.Fatal(err)
		}
		l := &CFLearner{Model: m, T: 2}
		_, err = optim.Fit(context.Background(), l, x, optim.Settings{
			Epochs: 3, BatchSize: 7, LearningRate: optim.Constant(0.05), Momentum: optim.Constant(0.9), WeightDecay: 0.001,
			Shuffle: rand.NewPCG(2, 2), Chains: rand.NewPCG(chain, 3),
		})
		if err != nil {
			t.Fatal(err)
		}
		return append(append(append([]float64(nil), m.W.Float64s()...), m.B.Float64s()...), m.C.Float64s()...)
	}
	a, b, c := train(1), train(1), train(2)
	same := func(x, y []float64) bool {
		for i := range x {
			if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Error("same seeds, different parameters")
	}
	if same(a, c) {
		t.Error("different chain seeds, same parameters")
	}
}

// Weight decay reaches W only: Params exposes B as a vector aliasing the model's B.
func TestCFLearnerParams(t *testing.T) {
	m, _ := NewCFRBM(4, 3, 2, rand.NewPCG(1, 1))
	l := &CFLearner{Model: m}
	p := l.Params()
	if len(p) != 3 || p[0] != m.W || p[2] != m.C || p[1].Shape().Dims() != 1 || p[1].Shape()[0] != 12 {
		t.Fatalf("Params = %v", p)
	}
	p[1].Float64s()[5] = 7
	if m.B.Float64s()[5] != 7 {
		t.Error("B vector does not alias the model's B")
	}
	if q := l.Params(); q[1] != p[1] {
		t.Error("Params returned a new B view on the second call")
	}
}

// InitVisibleBiases: B[i,k] = log((n_ik + g_k)/(n_i + 1)).
func TestCFRBMInitVisibleBiases(t *testing.T) {
	m, _ := NewCFRBM(3, 2, 2, rand.NewPCG(1, 1))
	x := tensor.New(tensor.WithShape(3, 3), tensor.WithBacking([]float64{
		1, 2, 0,
		1, 0, 0,
		2, 1, 0,
	}))
	if err := m.InitVisibleBiases(x); err != nil {
		t.Fatal(err)
	}
	g := []float64{3.0 / 5, 2.0 / 5}
	want := []float64{
		math.Log((2 + g[0]) / 4), math.Log((1 + g[1]) / 4),
		math.Log((1 + g[0]) / 3), math.Log((1 + g[1]) / 3),
		math.Log(g[0]), math.Log(g[1]),
	}
	for i, w := range want {
		if math.Abs(m.B.Float64s()[i]-w) > 1e-15 {
			t.Errorf("B = %v, want %v", m.B.Float64s(), want)
			break
		}
	}
	if err := m.InitVisibleBiases(tensor.New(tensor.WithShape(1, 3), tensor.Of(tensor.Float64))); err == nil {
		t.Error("no ratings: no error")
	}
}

// Bad ratings, shapes, ids and settings give errors naming the problem, never panics.
func TestCFRBMErrors(t *testing.T) {
	m, err := NewCFRBM(3, 5, 2, rand.NewPCG(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		items, k, nh int
		src          rand.Source
	}{{0, 5, 2, rand.NewPCG(1, 1)}, {3, 1, 2, rand.NewPCG(1, 1)}, {3, 5, 0, rand.NewPCG(1, 1)}, {3, 5, 2, nil}} {
		if _, err := NewCFRBM(c.items, c.k, c.nh, c.src); err == nil {
			t.Errorf("NewCFRBM(%d, %d, %d, %v): no error", c.items, c.k, c.nh, c.src)
		}
	}
	row := func(v ...float64) *tensor.Dense {
		return tensor.New(tensor.WithShape(1, len(v)), tensor.WithBacking(v))
	}
	for _, c := range []struct {
		x    *tensor.Dense
		want string
	}{
		{row(1, 6, 0), "row 0 column 1 is 6"},
		{row(1, 2.5, 0), "column 1 is 2.5"},
		{row(-1, 2, 0), "column 0 is -1"},
		{row(math.NaN(), 2, 0), "finite"},
		{row(1, 2), "3 visible units"},
		{tensor.New(tensor.WithShape(1, 3), tensor.WithBacking([]float32{1, 2, 3})), "dtype"},
		{nil, "nil"},
	} {
		errs := []error{m.CheckRatings(c.x)}
		_, e := m.FreeEnergy(c.x)
		errs = append(errs, e)
		_, e = m.HiddenProbs(c.x)
		errs = append(errs, e)
		_, e = m.Predict(c.x, []int{0}, []int{2})
		errs = append(errs, e)
		_, e = (&CFLearner{Model: m}).Gradient(c.x, rand.NewPCG(1, 1))
		errs = append(errs, e)
		for n, err := range errs {
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("case %q, call %d: err = %v", c.want, n, err)
			}
		}
	}
	x := row(1, 2, 0)
	for _, q := range []struct {
		users, items []int
		want         string
	}{
		{[]int{1}, []int{0}, "user 1"},
		{[]int{-1}, []int{0}, "user -1"},
		{[]int{0}, []int{3}, "item 3"},
		{[]int{0, 0}, []int{0}, "2 users but 1 items"},
	} {
		for _, f := range []func(*tensor.Dense, []int, []int) ([]float64, error){m.Predict, m.PredictExact} {
			if _, err := f(x, q.users, q.items); err == nil || !strings.Contains(err.Error(), q.want) {
				t.Errorf("queries %v %v: err = %v, want %q", q.users, q.items, err, q.want)
			}
		}
	}
	if _, err := m.VisibleProbs([]float64{1}, 0); err == nil {
		t.Error("VisibleProbs with 1 hidden value for 2 units: no error")
	}
	if _, err := m.VisibleProbs([]float64{1, 0}, 3); err == nil {
		t.Error("VisibleProbs of item 3 of 3: no error")
	}
	if _, err := (&CFLearner{Model: m, T: -1}).Gradient(x, rand.NewPCG(1, 1)); err == nil {
		t.Error("T = -1: no error")
	}
	if _, err := (&CFLearner{Model: m}).Gradient(x, nil); err == nil {
		t.Error("nil source: no error")
	}
	if _, err := (&CFLearner{}).Gradient(x, rand.NewPCG(1, 1)); err == nil {
		t.Error("no model: no error")
	}
	if _, err := optim.Fit(context.Background(), &CFLearner{}, x, optim.Settings{Epochs: 1, Shuffle: rand.NewPCG(1, 1), Chains: rand.NewPCG(1, 1)}); err == nil {
		t.Error("optim.Fit of a CFLearner without a model: no error")
	}
	if _, err := optim.Fit(context.Background(), &CFLearner{Model: m}, row(1, 7, 0), optim.Settings{Epochs: 1, Shuffle: rand.NewPCG(1, 1), Chains: rand.NewPCG(1, 1)}); err == nil || !strings.Contains(err.Error(), "column 1 is 7") {
		t.Errorf("optim.Fit with a rating of 7: %v", err)
	}
	bad := &CFRBM{W: m.W, B: tensor.New(tensor.WithShape(3, 4), tensor.Of(tensor.Float64)), C: m.C}
	if _, err := bad.Predict(x, []int{0}, []int{0}); err == nil || !strings.Contains(err.Error(), "B must be") {
		t.Errorf("inconsistent B: %v", err)
	}
	m.W.Float64s()[3] = math.Inf(1)
	if err := m.Check(); err == nil || !strings.Contains(err.Error(), "W[3]") {
		t.Errorf("Check with W[3] = Inf: %v", err)
	}
}
