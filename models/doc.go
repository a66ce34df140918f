// Package models holds energy-based models as values: parameters in gorgonia.org/tensor dense
// tensors, seeded initialisation, inference (features, reconstructions, Gibbs sampling), exact
// evaluation of small models, and save/load.
//
// RBM is a Bernoulli–Bernoulli restricted Boltzmann machine (E(v,h) = -bᵀv - cᵀh - vᵀWh) of dtype
// Float32 or Float64 with W (nv, nh), B (nv), C (nh). It satisfies optim.Model, so
//
//	m, _ := models.NewRBM(784, 500, tensor.Float32, rand.NewPCG(1, 1)) // W ~ N(0, 0.01²), biases 0
//	_ = m.InitVisibleBiases(train)                                      // b = log(p/(1-p)), Hinton 2010
//	_, err := optim.Train(ctx, m, train, optim.Settings{Epochs: 10, Shuffle: ..., Chains: ...})
//
// trains it in place. Data are (N, nv) matrices of the model's dtype with values in [0,1]; any
// other shape, dtype, a NaN or a value outside [0,1] gives an error naming the row, column and
// value. Every random draw comes from a math/rand/v2 Source the caller passes in.
//
// Exact methods (ExactLogZ, LogLikelihood, PseudoLikelihood) compute in float64 whatever the
// model's dtype; ExactLogZ enumerates the smaller layer (up to MaxExactUnits units).
//
// Beyond the RBM: GaussianRBM (Gaussian visible units), GaussianHiddenRBM (linear code units, the top
// of a deep autoencoder), SoftmaxRBM and CFRBM (K-way visible units), CRBM, BM (fully connected),
// DBN (a stack of RBMs) and DBM (a deep Boltzmann machine, Salakhutdinov & Hinton 2009: MeanField,
// DBMLearner for joint PCD training through optim.Fit, AIS log Z and LowerBound on log p(v)).
package models
