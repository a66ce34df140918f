package models

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/optim"
)

// analyticDBMGradient is -(⟨x_l x_{l+1}ᵀ⟩_data - ⟨…⟩_model) and -(⟨x_l⟩_data - ⟨x_l⟩_model).
func analyticDBMGradient(n []int, data, model [][]float64, rows, nc int) [][]float64 {
	var out [][]float64
	outer := func(x [][]float64, r int, l int, scale float64, g []float64) {
		for k := 0; k < r; k++ {
			a := x[l][k*n[l] : (k+1)*n[l]]
			b := x[l+1][k*n[l+1] : (k+1)*n[l+1]]
			for i := range a {
				for j := range b {
					g[i*n[l+1]+j] += scale * a[i] * b[j]
				}
			}
		}
	}
	for l := 0; l+1 < len(n); l++ {
		g := make([]float64, n[l]*n[l+1])
		outer(data, rows, l, -1/float64(rows), g)
		outer(model, nc, l, 1/float64(nc), g)
		out = append(out, g)
	}
	for l := range n {
		g := make([]float64, n[l])
		for k := 0; k < rows; k++ {
			for i := range g {
				g[i] -= data[l][k*n[l]+i] / float64(rows)
			}
		}
		for k := 0; k < nc; k++ {
			for i := range g {
				g[i] += model[l][k*n[l]+i] / float64(nc)
			}
		}
		out = append(out, g)
	}
	return out
}

// TestDBMGradientAnalytic: Grad of mean E(v, μ) - mean E(chains) equals the DBM learning rule to
// 1e-12 (float64), for the states Gradient itself produces, on repeated calls (no accumulation).
func TestDBMGradientAnalytic(t *testing.T) {
	d := randomDBM(t, []int{6, 4, 5, 3}, 0.5, 11)
	l := &DBMLearner{DBM: d, Chains: 7, GibbsSteps: 2}
	defer l.Close()
	batch := tensor.New(tensor.WithShape(9, 6), tensor.Of(tensor.Float64))
	r := rand.New(rand.NewPCG(1, 9))
	for i := range floats(batch) {
		floats(batch)[i] = float64(r.IntN(2))
	}
	src := rand.NewPCG(4, 4)
	for call := 0; call < 3; call++ {
		before := l.ChainStates()
		// Recompute the phases the way Gradient does, with a copy of the source state.
		grads, err := l.Gradient(batch, src)
		if err != nil {
			t.Fatal(err)
		}
		p := d.params64()
		mu := p.bottomUp(floats(batch), 9, true)
		it, tol := l.MeanField.defaults()
		p.meanField(mu, 9, it, tol)
		want := analyticDBMGradient(p.n, mu, l.chains, 9, 7)
		for i, g := range grads {
			near(t, "gradient", floats(g), want[i], 1e-12)
		}
		if call > 0 && before == nil {
			t.Fatal("no chains after the first call")
		}
	}
	// The analytic check does not depend on the data: arbitrary states in [0,1].
	mu := make([][]float64, 4)
	ch := make([][]float64, 4)
	for i, n := range d.Sizes() {
		mu[i] = make([]float64, 9*n)
		ch[i] = make([]float64, 7*n)
		for j := range mu[i] {
			mu[i][j] = r.Float64()
		}
		for j := range ch[i] {
			ch[i][j] = float64(r.IntN(2))
		}
	}
	grads, err := l.gradient(mu, ch, 9, 7)
	if err != nil {
		t.Fatal(err)
	}
	want := analyticDBMGradient(d.Sizes(), mu, ch, 9, 7)
	for i, g := range grads {
		near(t, "gradient", floats(g), want[i], 1e-12)
	}
}

// TestDBMFitTiny: PCD training with optim.Fit raises the exact log-likelihood of a tiny DBM on a
// small data set, and is reproducible bit for bit.
func TestDBMFitTiny(t *testing.T) {
	data := tensor.New(tensor.WithShape(40, 6), tensor.Of(tensor.Float64))
	pats := [][]float64{{1, 1, 1, 0, 0, 0}, {0, 0, 0, 1, 1, 1}}
	r := rand.New(rand.NewPCG(2, 2))
	for i := 0; i < 40; i++ {
		copy(floats(data)[i*6:], pats[r.IntN(2)])
	}
	ll := func(d *DBM) float64 {
		logZ, err := d.ExactLogZ()
		if err != nil {
			t.Fatal(err)
		}
		_, lp, err := d.ExactPosterior(data)
		if err != nil {
			t.Fatal(err)
		}
		var s float64
		for _, v := range lp {
			s += v - logZ
		}
		return s / float64(len(lp))
	}
	train := func() *DBM {
		d, _ := NewDBM([]int{6, 4, 3}, tensor.Float64, rand.NewPCG(1, 1))
		l := &DBMLearner{DBM: d, Chains: 50, GibbsSteps: 5}
		defer l.Close()
		_, err := optim.Fit(context.Background(), l, data, optim.Settings{
			Epochs: 60, BatchSize: 10, LearningRate: optim.Constant(0.01), Momentum: optim.HintonMomentum(),
			Shuffle: rand.NewPCG(1, 2), Chains: rand.NewPCG(1, 3),
		})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d0, _ := NewDBM([]int{6, 4, 3}, tensor.Float64, rand.NewPCG(1, 1))
	before := ll(d0)
	d1, d2 := train(), train()
	after := ll(d1)
	if !(after > before+1.5) || math.IsNaN(after) {
		t.Errorf("log-likelihood %v before training, %v after: expected a clear rise", before, after)
	}
	for l := range d1.W {
		near(t, "reproducible W", floats(d1.W[l]), floats(d2.W[l]), 0)
	}
	t.Logf("mean log p(v): %.4f → %.4f (the data's entropy is ≈ log 2 = %.4f)", before, after, math.Log(2))
}
