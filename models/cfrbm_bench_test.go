package models

import (
	"context"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/optim"
)

// benchRatings returns a (users, items) rating matrix with about density·items ratings per user.
func benchRatings(users, items int, density float64, seed uint64) *tensor.Dense {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float64, users*items)
	for i := range x {
		if r.Float64() < density {
			x[i] = float64(1 + r.IntN(5))
		}
	}
	return tensor.New(tensor.WithShape(users, items), tensor.WithBacking(x))
}

// One epoch of CD-1 with optim.Fit at MovieLens 100K's size (943 users, 1682 items, 80,000
// ratings), 100 hidden units, 10 users per minibatch.
func BenchmarkCFRBMEpoch(b *testing.B) {
	x := benchRatings(943, 1682, 80000.0/(943*1682), 1)
	m, err := NewCFRBM(1682, 5, 100, rand.NewPCG(1, 2))
	if err != nil {
		b.Fatal(err)
	}
	l := &CFLearner{Model: m, T: 1}
	s := optim.Settings{Epochs: 1, BatchSize: 10, LearningRate: optim.Constant(0.01), Shuffle: rand.NewPCG(1, 3), Chains: rand.NewPCG(1, 4)}
	b.ResetTimer()
	for range b.N {
		if _, err := optim.Fit(context.Background(), l, x, s); err != nil {
			b.Fatal(err)
		}
	}
}
