// Package finetune turns a pretrained stack of RBMs into a classifier and trains it with
// backpropagation: the supervised half of Hinton & Salakhutdinov (2006), "Reducing the
// dimensionality of data with neural networks", Science 313, 504-507.
//
// FromDBN unrolls a models.DBN into a Network: one sigmoid layer per RBM, initialised with copies
// of its weights W and hidden biases C (the visible biases are not used), plus a softmax output
// layer with small seeded random weights. Before training, the network's top hidden layer equals
// the DBN's up-pass bit for bit (both use graph.HiddenProbs); with a Gaussian visible layer
// (models.NewGaussianDBN) its 1/σ is folded into the first weights and the match is to rounding.
// Train can drop units (Settings.Dropout, Srivastava et al. 2014). The Network owns its tensors,
// so fine-tuning never changes the DBN.
//
// Train builds a new Gorgonia graph, x (batch, n_0) → σ layers → logits → cost
//
//	-(1/batch) Σ_n log softmax(logits_n)_{y_n}  +  (λ/2) Σ_layers ||W||²
//
// (a stable log-softmax: the row maximum is subtracted before exponentiating, so logits of any
// size give a finite cost), differentiates it with Grad and runs minibatch descent with a Gorgonia
// solver (SGD with momentum or Adam; the weight decay is part of the cost, since Gorgonia's solvers
// mishandle L2). Validation rows (the last ⌊N/6⌋ training rows by default: MNIST's last 10,000)
// are evaluated after every epoch with a separate inference graph; the network ends with the
// parameters of its best validation epoch (early stopping, optionally cutting training short with
// Patience). Evaluate gives the test error.
//
//	net, _ := finetune.FromDBN(dbn, 10, rand.NewPCG(1, 5))
//	res, err := finetune.Train(ctx, net, train, labels, finetune.Settings{
//		Epochs: 50, LearningRate: optim.Constant(0.1), Momentum: optim.Constant(0.9),
//		WeightDecay: 1e-5, Shuffle: rand.NewPCG(1, 6),
//	})
//	test, _ := net.Evaluate(testImages, testLabels) // test.Error, test.CrossEntropy
//
// Nothing here is specific to MNIST: any (N, n_0) Float32 or Float64 data with integer labels in
// [0, K) works, and NewRandom builds the same architecture from random weights (the baseline
// without pretraining). Every random draw comes from a math/rand/v2 Source passed in.
//
// FromDBM builds the DBM classifier of Salakhutdinov & Hinton (2009, Fig. 3): inputs [v, q(h2)] from
// mean-field, first-layer weights [W1; W2ᵀ]. Autoencoder unrolls a pretrained stack into an
// encoder-decoder fine-tuned on cross-entropy (Hinton & Salakhutdinov 2006).
package finetune
