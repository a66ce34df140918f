package estimate_test

import (
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/estimate"
	"github.com/ebm-go/ebm/ops"
)

// P3x2 is the shared fixture of ../shared/cases/README.md.
var (
	p3x2W = []float64{1, -1, 0.5, 0.5, -1, 2}
	p3x2B = []float64{0.1, -0.2, 0.3}
	p3x2C = []float64{0, -0.5}
)

const p3x2LogZ = 4.163709367

func dense(data []float64, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), data...)))
}

func rbm(t testing.TB, nv, nh int, w, b, c []float64) *estimate.BernoulliRBM {
	t.Helper()
	m, err := estimate.NewBernoulliRBM(dense(w, nv, nh), dense(b, nv), dense(c, nh))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

type params struct {
	nv, nh  int
	w, b, c []float64
}

func randomParams(nv, nh int, wStd, bMean, bStd float64, seed uint64) params {
	r := rand.New(rand.NewPCG(seed, 99))
	p := params{nv: nv, nh: nh, w: make([]float64, nv*nh), b: make([]float64, nv), c: make([]float64, nh)}
	for i := range p.w {
		p.w[i] = wStd * r.NormFloat64()
	}
	for i := range p.b {
		p.b[i] = bMean + bStd*r.NormFloat64()
	}
	for i := range p.c {
		p.c[i] = bStd * r.NormFloat64()
	}
	return p
}

func (p params) model(t testing.TB) *estimate.BernoulliRBM { return rbm(t, p.nv, p.nh, p.w, p.b, p.c) }

// transpose swaps the roles of the layers: the same joint distribution, hence the same log Z.
func (p params) transpose() params {
	w := make([]float64, len(p.w))
	for i := 0; i < p.nv; i++ {
		for j := 0; j < p.nh; j++ {
			w[j*p.nv+i] = p.w[i*p.nh+j]
		}
	}
	return params{nv: p.nh, nh: p.nv, w: w, b: p.c, c: p.b}
}

// bruteLogZ sums exp(-E(v,h)) over all joint states directly: an independent reference.
func bruteLogZ(p params) float64 {
	var terms []float64
	for v := 0; v < 1<<p.nv; v++ {
		for h := 0; h < 1<<p.nh; h++ {
			e := 0.0
			for i := 0; i < p.nv; i++ {
				if v>>i&1 == 0 {
					continue
				}
				e += p.b[i]
				for j := 0; j < p.nh; j++ {
					if h>>j&1 == 1 {
						e += p.w[i*p.nh+j]
					}
				}
			}
			for j := 0; j < p.nh; j++ {
				if h>>j&1 == 1 {
					e += p.c[j]
				}
			}
			terms = append(terms, e)
		}
	}
	return logSumExp(terms)
}

// hiddenSumLogZ enumerates the hidden layer state by state, summing the visible layer out with
// softplus: the textbook formula, with none of ExactLogZ's tricks.
func hiddenSumLogZ(p params) float64 {
	terms := make([]float64, 1<<p.nh)
	for h := range terms {
		t := 0.0
		for j := 0; j < p.nh; j++ {
			if h>>j&1 == 1 {
				t += p.c[j]
			}
		}
		for i := 0; i < p.nv; i++ {
			x := p.b[i]
			for j := 0; j < p.nh; j++ {
				if h>>j&1 == 1 {
					x += p.w[i*p.nh+j]
				}
			}
			t += ops.Softplus64(x)
		}
		terms[h] = t
	}
	return logSumExp(terms)
}

func logSumExp(x []float64) float64 {
	top := math.Inf(-1)
	for _, v := range x {
		top = max(top, v)
	}
	s := 0.0
	for _, v := range x {
		s += math.Exp(v - top)
	}
	return top + math.Log(s)
}

func TestExactLogZP3x2(t *testing.T) {
	p := params{3, 2, p3x2W, p3x2B, p3x2C}
	for name, q := range map[string]params{"hidden enumerated": p, "visible enumerated": p.transpose()} {
		z, err := estimate.ExactLogZ(q.model(t))
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(z-p3x2LogZ) > 1e-9 {
			t.Errorf("%s: log Z = %.10f, want %.10f", name, z, p3x2LogZ)
		}
	}
}

// TestExactLogZAgainstReferences compares the Gray-code / product / multiplicative-update
// enumerator with direct sums, over shapes that exercise one and several chunks, either layer
// enumerated, and weights large enough (std 40, 300) to force the exp-per-unit path.
func TestExactLogZAgainstReferences(t *testing.T) {
	for _, tc := range []struct {
		nv, nh int
		wStd   float64
	}{{5, 7, 1}, {7, 5, 2}, {6, 6, 40}, {4, 5, 300}, {8, 8, 0.5}} {
		p := randomParams(tc.nv, tc.nh, tc.wStd, -0.5, 1, uint64(tc.nv*100+tc.nh))
		want := bruteLogZ(p)
		z, err := estimate.ExactLogZ(p.model(t))
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(z-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("%d×%d, W std %v: log Z = %.12f, brute force %.12f", tc.nv, tc.nh, tc.wStd, z, want)
		}
	}
	// Several chunks (2^14 hidden states, 16 chunks of 2^10) against the textbook formula.
	for _, tc := range []struct {
		nv, nh int
		wStd   float64
	}{{200, 14, 0.3}, {60, 13, 20}, {30, 13, 100}} {
		p := randomParams(tc.nv, tc.nh, tc.wStd, -1, 1, 7)
		want := hiddenSumLogZ(p)
		for name, q := range map[string]params{"hidden": p, "visible (transposed)": p.transpose()} {
			z, err := estimate.ExactLogZ(q.model(t))
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(z-want) > 1e-11*math.Abs(want) {
				t.Errorf("%d×%d W std %v, %s enumerated: log Z = %.12f, reference %.12f (diff %.3g)", tc.nv, tc.nh, tc.wStd, name, z, want, z-want)
			}
		}
	}
}

// TestExactLogZDeterministic checks that the result does not depend on the number of goroutines.
func TestExactLogZDeterministic(t *testing.T) {
	m := randomParams(100, 14, 0.5, -1, 1, 3).model(t)
	old := runtime.GOMAXPROCS(1)
	z1, err1 := estimate.ExactLogZ(m)
	runtime.GOMAXPROCS(3)
	z3, err3 := estimate.ExactLogZ(m)
	runtime.GOMAXPROCS(old)
	if err1 != nil || err3 != nil || z1 != z3 {
		t.Errorf("GOMAXPROCS 1: %v (%v); 3: %v (%v)", z1, err1, z3, err3)
	}
}

func TestExactLogZRefusesLargeModels(t *testing.T) {
	nv, nh := 784, estimate.MaxExactUnits+1
	m := rbm(t, nv, nh, make([]float64, nv*nh), make([]float64, nv), make([]float64, nh))
	_, err := estimate.ExactLogZ(m)
	if err == nil {
		t.Fatal("no error for a 784×27 model")
	}
	for _, want := range []string{"2^27", "AIS"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, _, err := estimate.ExactLogLikelihood(m, dense(make([]float64, nv), 1, nv)); err == nil {
		t.Error("ExactLogLikelihood: no error for a 784×27 model")
	}
}

// TestExactLogLikelihoodP3x2 checks log p(101) = -2.096485 and F(v) for all 8 states.
func TestExactLogLikelihoodP3x2(t *testing.T) {
	m := rbm(t, 3, 2, p3x2W, p3x2B, p3x2C)
	states := []float64{0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 1, 1, 1}
	wantF := []float64{-1.167224, -2.314675, -1.467224, -2.701005, -1.614675, -2.067224, -1.914675, -2.487339}
	f, err := m.FreeEnergies(dense(states, 8, 3))
	if err != nil {
		t.Fatal(err)
	}
	for i := range wantF {
		if math.Abs(f[i]-wantF[i]) > 1e-6 {
			t.Errorf("F(state %d) = %.6f, want %.6f", i, f[i], wantF[i])
		}
	}
	ll, logZ, err := estimate.ExactLogLikelihood(m, dense([]float64{1, 0, 1}, 1, 3))
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(ll - -2.096485) > 1e-6 || math.Abs(logZ-p3x2LogZ) > 1e-9 {
		t.Errorf("log p(101) = %.6f, log Z = %.10f; want -2.096485, %.10f", ll, logZ, p3x2LogZ)
	}
	// The mean over all 8 states weighted equally is the mean of -F - log Z.
	ll, _, err = estimate.ExactLogLikelihood(m, dense(states, 8, 3))
	if err != nil {
		t.Fatal(err)
	}
	want := 0.0
	for _, v := range wantF {
		want += (-v - p3x2LogZ) / 8
	}
	if math.Abs(ll-want) > 1e-6 {
		t.Errorf("mean log-likelihood %.6f, want %.6f", ll, want)
	}
}

func TestBadInput(t *testing.T) {
	w, b, c := dense(p3x2W, 3, 2), dense(p3x2B, 3), dense(p3x2C, 2)
	for name, f := range map[string]func() error{
		"nil W":   func() error { _, err := estimate.NewBernoulliRBM(nil, b, c); return err },
		"B shape": func() error { _, err := estimate.NewBernoulliRBM(w, dense(p3x2C, 2), c); return err },
		"C shape": func() error { _, err := estimate.NewBernoulliRBM(w, b, b); return err },
		"NaN weight": func() error {
			_, err := estimate.NewBernoulliRBM(dense([]float64{1, math.NaN(), 0, 0, 0, 0}, 3, 2), b, c)
			return err
		},
		"int dtype": func() error {
			_, err := estimate.NewBernoulliRBM(tensor.New(tensor.WithShape(3, 2), tensor.Of(tensor.Int)), b, c)
			return err
		},
		"data column": func() error {
			_, err := rbm(t, 3, 2, p3x2W, p3x2B, p3x2C).FreeEnergies(dense([]float64{1, 0}, 1, 2))
			return err
		},
		"data range": func() error {
			_, err := rbm(t, 3, 2, p3x2W, p3x2B, p3x2C).FreeEnergies(dense([]float64{1, 0, 2}, 1, 3))
			return err
		},
		"data NaN": func() error {
			_, err := rbm(t, 3, 2, p3x2W, p3x2B, p3x2C).FreeEnergies(dense([]float64{1, 0, math.NaN()}, 1, 3))
			return err
		},
		"base-rate 1-D": func() error { _, err := estimate.BaseRateBiases(dense(p3x2B, 3)); return err },
		"base-rate range": func() error {
			_, err := estimate.BaseRateBiases(dense([]float64{0.5, -1}, 1, 2))
			return err
		},
		"nil model": func() error { _, err := estimate.ExactLogZ(nil); return err },
	} {
		if err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
