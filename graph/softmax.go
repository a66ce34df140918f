package graph

import (
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/ebm-go/ebm/ops"
)

// SoftmaxRBM holds the parameter nodes of an RBM whose visible layer is m softmax (K-way,
// one-of-K) units and whose hidden units are binary (Salakhutdinov, Mnih & Hinton 2007, with every
// unit present). A visible vector is one-hot per unit: v is (batch, m·K) and columns i·K … i·K+K-1
// hold unit i's state, a single 1 at its value. The energy is the Bernoulli RBM's,
//
//	E(v,h) = -bᵀv - cᵀh - vᵀWh,   W (m·K, nh), B (m·K), C (nh),
//
// restricted to one-hot v, so that
//
//	p(h_j = 1 | v)  = σ(c_j + (vW)_j)                          HiddenProbs
//	p(v_i = k | h)  = softmax_k(b_ik + (Wh)_ik)                VisibleProbs (per unit i)
//	F(v)            = -bᵀv - Σ_j softplus(c_j + (vW)_j)         FreeEnergy
//
// and log Z sums over the K^m one-hot configurations only. K must be ≥ 2 and divide W's row count.
type SoftmaxRBM struct {
	RBM
	K int
}

// Check reports whether the parameter nodes are consistent (RBM.Check) and K ≥ 2 divides the
// number of visible columns.
func (p SoftmaxRBM) Check() error {
	if err := p.RBM.Check(); err != nil {
		return err
	}
	if p.K < 2 || p.NumVisible()%p.K != 0 {
		return errors.Errorf("graph: SoftmaxRBM with %d visible columns and K = %d: K must be ≥ 2 and divide the column count", p.NumVisible(), p.K)
	}
	return nil
}

// NumUnits is m, the number of softmax units (visible columns / K).
func (p SoftmaxRBM) NumUnits() int { return p.NumVisible() / p.K }

// HiddenProbs returns p(h_j = 1 | v) = σ(c_j + (vW)_j), shape (batch, nh), for one-hot v (batch, m·K).
func (p SoftmaxRBM) HiddenProbs(v *G.Node) (*G.Node, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	return HiddenProbs(p.RBM, v)
}

// VisibleProbs returns p(v_i = k | h) = softmax_k(b_ik + (Wh)_ik), shape (batch, m·K) laid out as
// v, for h (batch, nh): each group of K columns sums to 1 (ops.Softmax, exact for any logits).
func (p SoftmaxRBM) VisibleProbs(h *G.Node) (*G.Node, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	a, err := VisibleLogits(p.RBM, h)
	if err != nil {
		return nil, err
	}
	return ops.Softmax(a, p.K)
}

// Energy returns E(v,h) = -bᵀv - cᵀh - vᵀWh for each row, shape (batch).
func (p SoftmaxRBM) Energy(v, h *G.Node) (*G.Node, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	return Energy(p.RBM, v, h)
}

// FreeEnergy returns F(v) = -bᵀv - Σ_j softplus(c_j + (vW)_j) for each row of one-hot v (batch,
// m·K), shape (batch), in nats: the Bernoulli RBM's formula, since the hidden units see v the same
// way. Differentiable in W, B and C.
func (p SoftmaxRBM) FreeEnergy(v *G.Node) (*G.Node, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	return FreeEnergy(p.RBM, v)
}

// GibbsStep adds v → h ~ p(h|v) → v' ~ p(v|h), each softmax unit sampled with ops.Categorical, and
// returns v' (batch, m·K, one-hot per unit) and h (batch, nh): stop-gradient samples drawn from src.
func (p SoftmaxRBM) GibbsStep(v *G.Node, src rand.Source) (vNext, h *G.Node, err error) {
	if h, err = p.sampleHidden(v, src); err != nil {
		return nil, nil, err
	}
	pv, err := p.VisibleProbs(h)
	if err != nil {
		return nil, nil, err
	}
	if vNext, err = ops.Categorical(pv, p.K, src); err != nil {
		return nil, nil, err
	}
	return vNext, h, nil
}

// GibbsStepMean is GibbsStep ending in the visible probabilities p(v|h) (a stop-gradient) instead
// of a sample: less noise at the end of a CD chain (Hinton 2010, §3.2); not a Markov-chain step.
func (p SoftmaxRBM) GibbsStepMean(v *G.Node, src rand.Source) (vNext, h *G.Node, err error) {
	if h, err = p.sampleHidden(v, src); err != nil {
		return nil, nil, err
	}
	pv, err := p.VisibleProbs(h)
	if err != nil {
		return nil, nil, err
	}
	if vNext, err = ops.StopGradient(pv); err != nil {
		return nil, nil, err
	}
	return vNext, h, nil
}

func (p SoftmaxRBM) sampleHidden(v *G.Node, src rand.Source) (*G.Node, error) {
	ph, err := p.HiddenProbs(v)
	if err != nil {
		return nil, err
	}
	return ops.Bernoulli(ph, src)
}
