// Package graph builds the pieces of energy-based models as Gorgonia expression graphs: energies,
// free energies, conditionals, block-Gibbs steps and the contrastive-divergence cost.
//
// The builders are stateless: they take parameter nodes (see RBM) and data nodes and add nodes
// to the parameters' graph. Shapes use the notation (batch, nv) for a batch of visible vectors,
// (batch, nh) for hidden vectors; dtypes are Float32 or Float64, never mixed. Every builder
// checks shapes, dtypes and graphs and returns an error, never panics, on a mismatch.
//
// For a Bernoulli–Bernoulli RBM with E(v,h) = -bᵀv - cᵀh - vᵀWh:
//
//	HiddenProbs(p, v)    p(h=1|v) = σ(c + vW)                  (batch, nh)
//	VisibleProbs(p, h)   p(v=1|h) = σ(b + hWᵀ)                 (batch, nv)
//	Energy(p, v, h)      E(v,h)                                (batch)
//	FreeEnergy(p, v)     F(v) = -bᵀv - Σ_j softplus(c + vW)_j  (batch)
//	GibbsStep(p, v, src) v → h ~ p(h|v) → v' ~ p(v|h)
//	Chain(step, v0, k)   k steps of any Step
//	CDCost(F, v0, vk)    mean F(v0) - mean F(vk)               scalar
//
// Samples come from ops.Bernoulli, a stop-gradient, so G.Grad(CDCost(...), params...) is exactly
// the CD-k gradient of Hinton (2002): ∂/∂W = -(⟨v p(h|v)ᵀ⟩_data - ⟨v p(h|v)ᵀ⟩_model), and the
// PCD gradient of Tieleman (2008) when vk comes from persistent chains. Softplus and the sigmoid
// are the exact ops of package ops, so free energies stay finite and accurate for pre-activations
// of any size.
//
// A new model is a type implementing EnergyModel: its free energy as a graph plus a Gibbs step,
// usually a few lines on top of these builders. Package optim trains any EnergyModel.
package graph
