package models

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/optim"
)

// lowRank generates ratings 1..5 from a known rank-2 model: user factors p_u and item factors q_i
// ~ N(0, I₂), score s = 3 + scale·p_u·q_i, and p(r | s) ∝ exp(-(r - s)²/(2σ²)) over r = 1..5 (a
// discretised Gaussian). Each user rates each item with probability density; a fifth of the
// ratings, drawn at random, are held out. It returns the training matrix, the held-out queries and
// ratings, and the Bayes-optimal predictions E[r | s] of the held-out ratings.
func lowRank(users, items int, density, scale, sigma float64, seed uint64) (train *tensor.Dense, qu, qi []int, truth, oracle, floor []float64) {
	r := rand.New(rand.NewPCG(seed, 11))
	p := make([][2]float64, users)
	q := make([][2]float64, items)
	for u := range p {
		p[u] = [2]float64{r.NormFloat64(), r.NormFloat64()}
	}
	for i := range q {
		q[i] = [2]float64{r.NormFloat64(), r.NormFloat64()}
	}
	x := make([]float64, users*items)
	probs := make([]float64, 5)
	for u := range users {
		for i := range items {
			if r.Float64() >= density {
				continue
			}
			s := 3 + scale*(p[u][0]*q[i][0]+p[u][1]*q[i][1])
			z, mean := 0.0, 0.0
			for k := range 5 {
				d := float64(k+1) - s
				probs[k] = math.Exp(-d * d / (2 * sigma * sigma))
				z += probs[k]
			}
			for k := range 5 {
				mean += float64(k+1) * probs[k] / z
			}
			u01, c, rating := r.Float64()*z, 0.0, 5
			for k := range 5 {
				c += probs[k]
				if u01 < c {
					rating = k + 1
					break
				}
			}
			if r.Float64() < 0.2 {
				qu, qi = append(qu, u), append(qi, i)
				truth, oracle = append(truth, float64(rating)), append(oracle, mean)
				continue
			}
			x[u*items+i] = float64(rating)
		}
	}
	// floor: E[r|ŝ] with ŝ from user factors fitted by least squares to (r - 3)/scale ≈ p·q_i, given
	// the true item factors q_i: what a learner that knew the items' structure would reach.
	for n, u := range qu {
		var a00, a01, a11, b0, b1 float64
		for i := range items {
			if v := x[u*items+i]; v != 0 {
				y := (v - 3) / scale
				a00 += q[i][0] * q[i][0]
				a01 += q[i][0] * q[i][1]
				a11 += q[i][1] * q[i][1]
				b0 += q[i][0] * y
				b1 += q[i][1] * y
			}
		}
		a00 += 1e-9
		a11 += 1e-9
		det := a00*a11 - a01*a01
		p0, p1 := (a11*b0-a01*b1)/det, (a00*b1-a01*b0)/det
		s := 3 + scale*(p0*q[qi[n]][0]+p1*q[qi[n]][1])
		z, mean := 0.0, 0.0
		for k := range 5 {
			d := float64(k+1) - s
			probs[k] = math.Exp(-d * d / (2 * sigma * sigma))
			z += probs[k]
		}
		for k := range 5 {
			mean += float64(k+1) * probs[k] / z
		}
		floor = append(floor, mean)
	}
	return tensor.New(tensor.WithShape(users, items), tensor.WithBacking(x)), qu, qi, truth, oracle, floor
}

func rmseOf(pred, truth []float64) float64 {
	s := 0.0
	for i := range pred {
		s += (pred[i] - truth[i]) * (pred[i] - truth[i])
	}
	return math.Sqrt(s / float64(len(pred)))
}

// itemMeans predicts each query by its item's mean training rating (the global mean if none).
func itemMeans(x *tensor.Dense, qi []int) []float64 {
	users, items := x.Shape()[0], x.Shape()[1]
	sum, n := make([]float64, items), make([]float64, items)
	all, alln := 0.0, 0.0
	for u := range users {
		for i := range items {
			if v := x.Float64s()[u*items+i]; v != 0 {
				sum[i] += v
				n[i]++
				all += v
				alln++
			}
		}
	}
	out := make([]float64, len(qi))
	for q, i := range qi {
		out[q] = all / alln
		if n[i] > 0 {
			out[q] = sum[i] / n[i]
		}
	}
	return out
}

// A CF-RBM trained on ratings generated from a known rank-2 model (800 users, 60 items, 70% of
// the ratings observed, σ = 0.5) recovers its structure: the held-out RMSE comes within 15% of the
// noise level (0.462, the RMSE of the Bayes-optimal predictor E[r|s], which knows both users' and
// items' true factors), within 3% of a least-squares fit of the users' factors given the true item
// factors (0.517: estimating a user from ~34 ratings costs that much), and under half the item-mean
// baseline's (1.17). Measured: 0.523 (mean-field), 0.521 (exact).
func TestCFRBMRecoversLowRank(t *testing.T) {
	x, qu, qi, truth, oracle, floor := lowRank(800, 60, 0.7, 1, 0.5, 1)
	m, err := NewCFRBM(60, 5, 20, rand.NewPCG(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.InitVisibleBiases(x); err != nil {
		t.Fatal(err)
	}
	l := &CFLearner{Model: m, T: 1}
	const epochs = 40
	_, err = optim.Fit(context.Background(), l, x, optim.Settings{
		Epochs: epochs, BatchSize: 10, LearningRate: optim.Constant(0.05), Momentum: optim.Constant(0.5),
		WeightDecay: 0.001, Shuffle: rand.NewPCG(1, 3), Chains: rand.NewPCG(1, 4),
		OnEpoch: func(r optim.EpochRecord) error {
			l.T = []int{1, 3, 5}[min(r.Epoch*3/epochs, 2)]
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mf, err := m.Predict(x, qu, qi)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := m.PredictExact(x, qu, qi)
	if err != nil {
		t.Fatal(err)
	}
	noise, known, item := rmseOf(oracle, truth), rmseOf(floor, truth), rmseOf(itemMeans(x, qi), truth)
	got, gotExact := rmseOf(mf, truth), rmseOf(ex, truth)
	t.Logf("%d held-out ratings: noise level (Bayes-optimal RMSE) %.4f; least squares given the true item factors %.4f; item mean %.4f; CF-RBM mean-field %.4f, exact %.4f",
		len(truth), noise, known, item, got, gotExact)
	if got > 1.15*noise || gotExact > 1.15*noise {
		t.Errorf("CF-RBM RMSE %.4f (mean-field) / %.4f (exact), want within 15%% of the noise level %.4f", got, gotExact, noise)
	}
	if got > 1.03*known {
		t.Errorf("CF-RBM RMSE %.4f, want within 3%% of a least-squares fit given the true item factors (%.4f)", got, known)
	}
	if got > item/2 {
		t.Errorf("CF-RBM RMSE %.4f, want under half the item-mean baseline's %.4f", got, item)
	}
}
