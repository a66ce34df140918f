// Package pretrain will hold greedy layer-wise pretraining of deep belief networks (Hinton,
// Osindero & Teh 2006) and of deep Boltzmann machines with doubled weights (Salakhutdinov &
// Hinton 2009), built on models and optim.
//
// Status: not implemented yet (tracked by the deep-belief-network issue). The package exists so
// that the library's layout, graph/ ops/ models/ optim/ pretrain/ finetune/ examples/, is fixed
// from the start; it exports nothing.
package pretrain
