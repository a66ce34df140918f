// Package pretrain trains a deep belief network greedily, one layer at a time (Hinton, Osindero &
// Teh 2006, "A fast learning algorithm for deep belief nets", Neural Computation 18, 1527-1554).
//
// Layer 0 of a models.DBN is trained as an RBM on the data with optim.Train (CD-k or PCD-k); its
// hidden probabilities p(h_1 = 1 | v) then become the training data of layer 1, and so on up the
// stack. Each layer has its own settings (a Layer wrapping optim.Settings: epochs, learning rate,
// momentum, weight decay, estimator, random sources), so
//
//	d, _ := models.NewDBN([]int{784, 500, 500, 2000}, tensor.Float32, rand.NewPCG(1, 1))
//	layer := func(seed uint64) pretrain.Layer {
//		return pretrain.Layer{Settings: optim.Settings{Epochs: 10, LearningRate: optim.Constant(0.1),
//			Momentum: optim.HintonMomentum(), WeightDecay: 2e-4,
//			Shuffle: rand.NewPCG(seed, 1), Chains: rand.NewPCG(seed, 2)}}
//	}
//	records, err := pretrain.Train(ctx, d, train, pretrain.Settings{
//		Layers: []pretrain.Layer{layer(1), layer(2), layer(3)},
//	})
//
// trains d in place. Layer.SampleInput trains a layer on binary samples of its input probabilities
// instead of the probabilities themselves (drawn from Settings.Input). A count of Layers other
// than the DBN's layer count is an error, as is anything optim.Train rejects (naming the layer).
// Settings.OnEpoch reports progress per layer and epoch; cancelling the context stops training
// between minibatches, leaving the layers trained so far in place.
//
// The trained stack is handed to package finetune for supervised fine-tuning.
//
// TrainDBM pretrains a models.DBM greedily with the doubled-weight trick (Salakhutdinov & Hinton
// 2009): the first RBM sees two tied copies of its visible layer going up, the last two copies of
// its hidden layer going down; TrainAutoencoder pretrains a deep autoencoder's stack ending in a
// Gaussian-hidden code layer (Hinton & Salakhutdinov 2006).
package pretrain
