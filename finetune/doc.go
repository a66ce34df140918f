// Package finetune will unroll a pretrained stack of RBMs into a feed-forward Gorgonia graph with a
// softmax output layer and train it with backpropagation (cross-entropy, early stopping), starting
// from copies of the pretrained weights (Hinton & Salakhutdinov 2006).
//
// Status: not implemented yet (tracked by the deep-belief-network issue). The package exists so
// that the library's layout is fixed from the start; it exports nothing.
package finetune
