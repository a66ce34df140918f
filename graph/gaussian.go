package graph

import (
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/ebm-go/ebm/ops"
)

// GaussianRBM holds the parameter nodes of a Gaussian–Bernoulli RBM with energy
//
//	E(v,h) = Σ_i (v_i - b_i)²/(2σ_i²) - cᵀh - Σ_ij (v_i/σ_i) W_ij h_j
//
// (real-valued visible units, binary hidden units; Hinton & Salakhutdinov 2006, with the σ
// scaling of Cho, Ilin & Raiko 2011). W is (nv, nh), B (nv), C (nh) and LogSigma (nv) holds
// log σ_i, so σ = exp(LogSigma) stays positive whatever value a learning step gives it. All
// nodes share a graph and a float dtype.
type GaussianRBM struct {
	W, B, C, LogSigma *G.Node
}

// rbm returns the bipartite part, for the shape checks shared with RBM.
func (p GaussianRBM) rbm() RBM { return RBM{W: p.W, B: p.B, C: p.C} }

// Check reports whether the nodes are present and consistent (as RBM.Check, plus LogSigma (nv)).
func (p GaussianRBM) Check() error {
	if err := p.rbm().Check(); err != nil {
		return err
	}
	if p.LogSigma == nil {
		return errors.New("graph: GaussianRBM needs a LogSigma node")
	}
	if s := p.LogSigma.Shape(); s.Dims() != 1 || s[0] != p.W.Shape()[0] || !p.LogSigma.Dtype().Eq(p.W.Dtype()) {
		return errors.Errorf("graph: LogSigma must be a vector of %d %v values, has shape %v dtype %v", p.W.Shape()[0], p.W.Dtype(), s, p.LogSigma.Dtype())
	}
	return nil
}

// Sigma returns σ = exp(LogSigma), shape (nv).
func (p GaussianRBM) Sigma() (*G.Node, error) { return G.Exp(p.LogSigma) }

// HiddenLogits returns c + (v/σ)W, shape (batch, nh), for real-valued v (batch, nv).
func (p GaussianRBM) HiddenLogits(v *G.Node) (*G.Node, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	if err := checkBatch("visible batch v", v, p.W.Shape()[0], p.W); err != nil {
		return nil, err
	}
	sigma, err := p.Sigma()
	if err != nil {
		return nil, err
	}
	scaled, err := G.BroadcastHadamardDiv(v, sigma, nil, []byte{0})
	if err != nil {
		return nil, errors.Wrap(err, "graph: v/σ")
	}
	return HiddenLogits(p.rbm(), scaled)
}

// HiddenProbs returns p(h_j = 1 | v) = σ(c_j + Σ_i v_i W_ij / σ_i), shape (batch, nh).
func (p GaussianRBM) HiddenProbs(v *G.Node) (*G.Node, error) {
	a, err := p.HiddenLogits(v)
	if err != nil {
		return nil, err
	}
	return ops.Sigmoid(a)
}

// VisibleMean returns E[v|h] = b + σ ⊙ (hWᵀ), shape (batch, nv): p(v_i|h) = N(b_i + σ_i(Wh)_i, σ_i²).
func (p GaussianRBM) VisibleMean(h *G.Node) (*G.Node, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	if err := checkBatch("hidden batch h", h, p.W.Shape()[1], p.W); err != nil {
		return nil, err
	}
	wt, err := G.Transpose(p.W)
	if err != nil {
		return nil, err
	}
	hw, err := G.Mul(h, wt)
	if err != nil {
		return nil, errors.Wrap(err, "graph: hWᵀ")
	}
	sigma, err := p.Sigma()
	if err != nil {
		return nil, err
	}
	scaled, err := G.BroadcastHadamardProd(hw, sigma, nil, []byte{0})
	if err != nil {
		return nil, err
	}
	return addRowVector(scaled, p.B)
}

// FreeEnergy returns F(v) = Σ_i (v_i - b_i)²/(2σ_i²) - Σ_j softplus(c_j + Σ_i v_i W_ij/σ_i) for
// each row of v (batch, nv), shape (batch), in nats (the negative log of the unnormalised
// density). Differentiable in W, B, C and LogSigma.
func (p GaussianRBM) FreeEnergy(v *G.Node) (*G.Node, error) {
	a, err := p.HiddenLogits(v)
	if err != nil {
		return nil, err
	}
	sp, err := ops.Softplus(a)
	if err != nil {
		return nil, err
	}
	hidden, err := rowSum(sp)
	if err != nil {
		return nil, err
	}
	diff, err := G.BroadcastSub(v, p.B, nil, []byte{0})
	if err != nil {
		return nil, errors.Wrap(err, "graph: v - b")
	}
	sq, err := G.Square(diff)
	if err != nil {
		return nil, err
	}
	// 1/(2σ²) = exp(-2 log σ)/2.
	m2, err := Scale(p.LogSigma, -2)
	if err != nil {
		return nil, err
	}
	inv, err := G.Exp(m2)
	if err != nil {
		return nil, err
	}
	weighted, err := G.BroadcastHadamardProd(sq, inv, nil, []byte{0})
	if err != nil {
		return nil, err
	}
	quad, err := rowSum(weighted)
	if err != nil {
		return nil, err
	}
	half, err := Scale(quad, 0.5)
	if err != nil {
		return nil, err
	}
	return G.Sub(half, hidden)
}

// GibbsStep adds v → h ~ p(h|v) → v' ~ N(b + σ⊙(hWᵀ), σ²) and returns v' (batch, nv) and h
// (batch, nh), both stop-gradient samples drawn from src.
func (p GaussianRBM) GibbsStep(v *G.Node, src rand.Source) (vNext, h *G.Node, err error) {
	ph, err := p.HiddenProbs(v)
	if err != nil {
		return nil, nil, err
	}
	if h, err = ops.Bernoulli(ph, src); err != nil {
		return nil, nil, err
	}
	mean, err := p.VisibleMean(h)
	if err != nil {
		return nil, nil, err
	}
	sigma, err := p.Sigma()
	if err != nil {
		return nil, nil, err
	}
	if vNext, err = ops.Gaussian(mean, sigma, src); err != nil {
		return nil, nil, err
	}
	return vNext, h, nil
}

// GibbsStepMean is GibbsStep returning the visible mean E[v'|h] (a stop-gradient) instead of a
// sample: the usual CD reconstruction for Gaussian units.
func (p GaussianRBM) GibbsStepMean(v *G.Node, src rand.Source) (vNext, h *G.Node, err error) {
	ph, err := p.HiddenProbs(v)
	if err != nil {
		return nil, nil, err
	}
	if h, err = ops.Bernoulli(ph, src); err != nil {
		return nil, nil, err
	}
	mean, err := p.VisibleMean(h)
	if err != nil {
		return nil, nil, err
	}
	if vNext, err = ops.StopGradient(mean); err != nil {
		return nil, nil, err
	}
	return vNext, h, nil
}
