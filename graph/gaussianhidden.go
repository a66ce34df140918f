package graph

import (
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/ops"
)

// GaussianHiddenRBM holds the parameter nodes of an RBM with binary visible units and real-valued
// (linear, unit-variance Gaussian) hidden units, energy
//
//	E(v,h) = -bᵀv - cᵀh - vᵀWh + ½‖h‖²,   v ∈ {0,1}^nv, h ∈ ℝ^nh,
//
// the top ("code") layer of the deep autoencoder of Hinton & Salakhutdinov (2006), "Reducing the
// dimensionality of data with neural networks", Science 313, 504-507: its hidden states given the
// visible ones are the linear code c + vW plus unit Gaussian noise. W is (nv, nh), B (nv), C (nh),
// all of one float dtype in one graph. Then
//
//	p(h | v)       = N(c + vW, I)                          (HiddenMean: c + vW, (batch, nh))
//	p(v_i = 1 | h) = σ(b_i + (hWᵀ)_i)                      (VisibleProbs, (batch, nv))
//	F(v)           = -bᵀv - ½‖c + vW‖² - (nh/2)·log 2π     (FreeEnergy, (batch), nats)
//
// where F(v) = -log ∫ exp(-E(v,h)) dh exactly; the partition function Σ_v exp(-F(v)) is finite
// for any W because v is binary.
type GaussianHiddenRBM struct {
	W, B, C *G.Node
}

// rbm returns the bipartite part, for the shape checks and the affine maps shared with RBM.
func (p GaussianHiddenRBM) rbm() RBM { return RBM{W: p.W, B: p.B, C: p.C} }

// Check reports whether the nodes are present, in one graph, of one float dtype and of consistent
// shapes (as RBM.Check).
func (p GaussianHiddenRBM) Check() error { return p.rbm().Check() }

// HiddenMean returns E[h | v] = c + vW, shape (batch, nh), for v (batch, nv).
func (p GaussianHiddenRBM) HiddenMean(v *G.Node) (*G.Node, error) { return HiddenLogits(p.rbm(), v) }

// VisibleLogits returns b + hWᵀ, shape (batch, nv), for real-valued h (batch, nh).
func (p GaussianHiddenRBM) VisibleLogits(h *G.Node) (*G.Node, error) {
	return VisibleLogits(p.rbm(), h)
}

// VisibleProbs returns p(v = 1 | h) = σ(b + hWᵀ), shape (batch, nv), for real-valued h (batch, nh).
func (p GaussianHiddenRBM) VisibleProbs(h *G.Node) (*G.Node, error) {
	return VisibleProbs(p.rbm(), h)
}

// Energy returns E(v,h) = -bᵀv - cᵀh - vᵀWh + ½‖h‖² for each row pair of v (batch, nv) and
// h (batch, nh), shape (batch).
func (p GaussianHiddenRBM) Energy(v, h *G.Node) (*G.Node, error) {
	e, err := Energy(p.rbm(), v, h)
	if err != nil {
		return nil, err
	}
	sq, err := G.Square(h)
	if err != nil {
		return nil, err
	}
	ssq, err := rowSum(sq)
	if err != nil {
		return nil, err
	}
	half, err := Scale(ssq, 0.5)
	if err != nil {
		return nil, err
	}
	return G.Add(e, half)
}

// FreeEnergy returns F(v) = -bᵀv - ½‖c + vW‖² - (nh/2)·log 2π for each row of v (batch, nv),
// shape (batch), in nats: -log ∫ exp(-E(v,h)) dh. Differentiable in W, B and C; its gradient is
// ∂F/∂W = -vᵀ E[h|v], ∂F/∂c = -E[h|v], ∂F/∂b = -v, so the CD cost mean F(v0) - mean F(vk) gives
// the CD rule of Hinton & Salakhutdinov's code for the linear code layer.
func (p GaussianHiddenRBM) FreeEnergy(v *G.Node) (*G.Node, error) {
	a, err := p.HiddenMean(v)
	if err != nil {
		return nil, err
	}
	sq, err := G.Square(a)
	if err != nil {
		return nil, err
	}
	ssq, err := rowSum(sq)
	if err != nil {
		return nil, err
	}
	// -½‖a‖² - (nh/2)·log 2π: one scale, one constant shift (the constant makes F the exact
	// -log of the integral over h; it has no gradient).
	hidden, err := Scale(ssq, -0.5)
	if err != nil {
		return nil, err
	}
	shift := -0.5 * float64(p.W.Shape()[1]) * math.Log(2*math.Pi)
	var k *G.Node
	if p.W.Dtype().Eq(tensor.Float32) {
		k = G.NewConstant(float32(shift))
	} else {
		k = G.NewConstant(shift)
	}
	if hidden, err = G.Add(hidden, k); err != nil {
		return nil, errors.Wrap(err, "graph: -(nh/2)·log 2π")
	}
	vb, err := G.Mul(v, p.B)
	if err != nil {
		return nil, errors.Wrap(err, "graph: vb")
	}
	return G.Sub(hidden, vb)
}

// unitSigma returns a scalar constant 1 of the model's dtype, the standard deviation of p(h|v).
func (p GaussianHiddenRBM) unitSigma() *G.Node {
	if p.W.Dtype().Eq(tensor.Float32) {
		return G.NewConstant(float32(1))
	}
	return G.NewConstant(1.0)
}

// SampleHidden adds h ~ N(c + vW, I), shape (batch, nh), a stop-gradient sample drawn from src.
func (p GaussianHiddenRBM) SampleHidden(v *G.Node, src rand.Source) (*G.Node, error) {
	mean, err := p.HiddenMean(v)
	if err != nil {
		return nil, err
	}
	return ops.Gaussian(mean, p.unitSigma(), src)
}

// GibbsStep adds v → h ~ N(c + vW, I) → v' ~ Bernoulli(σ(b + hWᵀ)) and returns v' (batch, nv) and
// h (batch, nh), both stop-gradient samples drawn from src.
func (p GaussianHiddenRBM) GibbsStep(v *G.Node, src rand.Source) (vNext, h *G.Node, err error) {
	if h, err = p.SampleHidden(v, src); err != nil {
		return nil, nil, err
	}
	a, err := p.VisibleLogits(h)
	if err != nil {
		return nil, nil, err
	}
	if vNext, err = ops.SigmoidBernoulli(a, src); err != nil {
		return nil, nil, err
	}
	return vNext, h, nil
}

// GibbsStepMean is GibbsStep ending in the visible probabilities σ(b + hWᵀ) (a stop-gradient)
// instead of a sample: the reconstruction of Hinton & Salakhutdinov's code for the code layer
// (sampled linear hidden states, visible probabilities).
func (p GaussianHiddenRBM) GibbsStepMean(v *G.Node, src rand.Source) (vNext, h *G.Node, err error) {
	if h, err = p.SampleHidden(v, src); err != nil {
		return nil, nil, err
	}
	a, err := p.VisibleLogits(h)
	if err != nil {
		return nil, nil, err
	}
	if vNext, err = ops.StopSigmoid(a); err != nil {
		return nil, nil, err
	}
	return vNext, h, nil
}

// ReconstructionLogits returns b + (c + vW)Wᵀ (batch, nv): the logits of the mean-field
// reconstruction p(v' = 1 | h = E[h|v]).
func (p GaussianHiddenRBM) ReconstructionLogits(v *G.Node) (*G.Node, error) {
	m, err := p.HiddenMean(v)
	if err != nil {
		return nil, err
	}
	return p.VisibleLogits(m)
}
