package finetune_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/finetune"
	"github.com/ebm-go/ebm/optim"
)

// benchStep times one fine-tuning minibatch (forward, backward, SGD step) of a float32 network of
// the given sizes with batch 100: multiply by 500 for an epoch of MNIST's 50,000 training images.
func benchStep(b *testing.B, sizes []int) {
	net, err := finetune.NewRandom(sizes, 10, tensor.Float32, rand.NewPCG(1, 1))
	if err != nil {
		b.Fatal(err)
	}
	x, y := randomData(100, sizes[0], 10, tensor.Float32, 2)
	b.ResetTimer()
	if _, err := finetune.Train(context.Background(), net, x, y, finetune.Settings{
		Epochs: b.N, BatchSize: 100, LearningRate: optim.Constant(0.01), Momentum: optim.Constant(0.9),
		WeightDecay: 1e-5, ValidationRows: -1, Shuffle: rand.NewPCG(3, 3),
	}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkStep784x500x500 is the -quick network of examples/dbn-mnist.
func BenchmarkStep784x500x500(b *testing.B) { benchStep(b, []int{784, 500, 500}) }

// BenchmarkStep784x500x500x2000 is the network of Hinton & Salakhutdinov (2006).
func BenchmarkStep784x500x500x2000(b *testing.B) { benchStep(b, []int{784, 500, 500, 2000}) }
