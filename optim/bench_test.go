package optim_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
)

// benchmarkCD1Step times one CD-1 minibatch update (chain, gradient, parameter update) of a
// 784×500 RBM on a batch of 100 MNIST-like rows (13% ones).
//
//	go test -run '^$' -bench CD1Step -benchmem ./optim/
func benchmarkCD1Step(b *testing.B, dt tensor.Dtype) {
	m, err := models.NewRBM(784, 500, dt, rand.NewPCG(1, 1))
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(2, 2))
	x := make([]float64, 100*784)
	for i := range x {
		if r.Float64() < 0.13 {
			x[i] = 1
		}
	}
	data := dense(dt, []int{100, 784}, x)
	tr, err := optim.NewTrainer(m, 100, optim.Settings{
		Epochs: 1, BatchSize: 100, LearningRate: optim.Constant(0.01), Momentum: optim.Constant(0.5),
		Shuffle: rand.NewPCG(3, 3), Chains: rand.NewPCG(4, 4), MonitorRows: -1,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tr.Epochs(ctx, data, 1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCD1Step784x500Float32(b *testing.B) { benchmarkCD1Step(b, tensor.Float32) }
func BenchmarkCD1Step784x500Float64(b *testing.B) { benchmarkCD1Step(b, tensor.Float64) }
