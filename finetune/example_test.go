package finetune_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/finetune"
	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
	"github.com/ebm-go/ebm/pretrain"
)

// Example pretrains a small DBN on 3-bit patterns, unrolls it into a classifier and fine-tunes it
// to count the ones in each pattern: the whole DBN pipeline on data that is not MNIST.
func Example() {
	var v []float64
	var labels []int
	for rep := 0; rep < 8; rep++ {
		for s := 0; s < 8; s++ {
			v = append(v, float64(s>>2&1), float64(s>>1&1), float64(s&1))
			labels = append(labels, s>>2&1+s>>1&1+s&1)
		}
	}
	x := tensor.New(tensor.WithShape(64, 3), tensor.WithBacking(v))

	dbn, _ := models.NewDBN([]int{3, 8, 8}, tensor.Float64, rand.NewPCG(1, 1))
	layer := func(seed uint64) pretrain.Layer {
		return pretrain.Layer{Settings: optim.Settings{Epochs: 20, BatchSize: 8,
			Shuffle: rand.NewPCG(seed, 1), Chains: rand.NewPCG(seed, 2), MonitorRows: -1}}
	}
	if _, err := pretrain.Train(context.Background(), dbn, x, pretrain.Settings{
		Layers: []pretrain.Layer{layer(2), layer(3)},
	}); err != nil {
		fmt.Println(err)
		return
	}

	net, _ := finetune.FromDBN(dbn, 4, rand.NewPCG(4, 4))
	res, err := finetune.Train(context.Background(), net, x, labels, finetune.Settings{
		Epochs: 200, BatchSize: 8, LearningRate: optim.Constant(0.5), Momentum: optim.Constant(0.9),
		Validation: x, ValidationLabels: labels, Shuffle: rand.NewPCG(5, 5),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("validation error %.0f%%\n", 100*res.Validation.Error)
	pred, _ := net.Predict(tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 1, 1, 0, 1, 0})))
	fmt.Println("ones in 111 and 010:", pred)
	// Output:
	// validation error 0%
	// ones in 111 and 010: [3 1]
}
