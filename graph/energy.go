package graph

import (
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
)

// EnergyModel is an energy-based model over visible vectors whose parameters are nodes of one graph.
// It is all a trainer needs: a differentiable free energy and a Markov chain that samples from
// p(v) ∝ exp(-F(v)). A researcher's new model implements it (usually in a dozen lines on top of
// the builders of this package); models.RBM returns one from Bind.
type EnergyModel interface {
	// Params are the parameter nodes to train, each an input node with a value bound.
	Params() G.Nodes
	// FreeEnergy adds F(v) = -log Σ_h exp(-E(v,h)) for a (batch, nv) node v and returns it,
	// shape (batch), in nats. It must be differentiable in the parameters.
	FreeEnergy(v *G.Node) (*G.Node, error)
	// GibbsStep adds one transition of a Markov chain that leaves p(v) ∝ exp(-F(v)) invariant,
	// (batch, nv) → (batch, nv), drawing every random number from src. Its output must be a
	// constant for Grad (build it from ops.Bernoulli, ops.Gaussian or ops.StopGradient).
	GibbsStep(v *G.Node, src rand.Source) (*G.Node, error)
}

// Reconstructor is implemented by energies over binary visible units that can reconstruct a
// batch through their hidden layer; trainers report reconstruction cross-entropy for those.
type Reconstructor interface {
	// ReconstructionLogits returns the logits a of p(v' = 1 | h = E[h|v]) for a (batch, nv) batch
	// v, shape (batch, nv): the mean-field (deterministic) reconstruction.
	ReconstructionLogits(v *G.Node) (*G.Node, error)
}

// MeanStepper is implemented by energies whose Gibbs step can end in the visible probabilities
// p(v|h) instead of a sample (see GibbsStepMean); trainers use it for CD with
// VisibleProbabilities set.
type MeanStepper interface {
	// GibbsStepMean is GibbsStep returning E[v'|h] (a stop-gradient) instead of a sample of v'.
	GibbsStepMean(v *G.Node, src rand.Source) (*G.Node, error)
}
