package graph

import (
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/ebm-go/ebm/ops"
)

// CRBM holds the parameter nodes of a conditional RBM (Taylor, Hinton & Roweis 2007): a frame v
// (nv) conditioned on a history u (nu, the n previous frames side by side) through dynamic biases
//
//	b*(u) = b + u·UV  (visible, (batch, nv)),   c*(u) = c + u·UH  (hidden, (batch, nh)),
//
// with W (nv, nh), B (nv), C (nh), UV (nu, nv) autoregressive weights, UH (nu, nh). With
// LogSigma nil the visible units are Bernoulli, E = -b*ᵀv - c*ᵀh - vᵀWh; with LogSigma (nv) they
// are Gaussian, E = Σ_i (v_i - b*_i)²/(2σ_i²) - c*ᵀh - Σ_ij (v_i/σ_i) W_ij h_j.
type CRBM struct {
	W, B, C, UV, UH *G.Node
	LogSigma        *G.Node
}

// Check validates presence, dtypes and shapes.
func (p CRBM) Check() error {
	if err := (RBM{W: p.W, B: p.B, C: p.C}).Check(); err != nil {
		return err
	}
	if p.UV == nil || p.UH == nil {
		return errors.New("graph: CRBM needs UV and UH nodes")
	}
	nv, nh := p.W.Shape()[0], p.W.Shape()[1]
	uv, uh := p.UV.Shape(), p.UH.Shape()
	if uv.Dims() != 2 || uv[1] != nv || uh.Dims() != 2 || uh[1] != nh || uv[0] != uh[0] {
		return errors.Errorf("graph: CRBM UV must be (nu, %d) and UH (nu, %d) with the same nu; have %v and %v", nv, nh, uv, uh)
	}
	if !p.UV.Dtype().Eq(p.W.Dtype()) || !p.UH.Dtype().Eq(p.W.Dtype()) {
		return errors.Errorf("graph: CRBM mixes dtypes: W %v, UV %v, UH %v", p.W.Dtype(), p.UV.Dtype(), p.UH.Dtype())
	}
	if p.LogSigma != nil {
		if s := p.LogSigma.Shape(); s.Dims() != 1 || s[0] != nv || !p.LogSigma.Dtype().Eq(p.W.Dtype()) {
			return errors.Errorf("graph: CRBM LogSigma must be a (%d) vector of %v, has %v %v", nv, p.W.Dtype(), s, p.LogSigma.Dtype())
		}
	}
	return nil
}

// NumCondition is nu, the length of the history vector.
func (p CRBM) NumCondition() int { return p.UV.Shape()[0] }

func (p CRBM) inputs(v, u *G.Node) error {
	if err := p.Check(); err != nil {
		return err
	}
	if err := checkBatch("frame batch v", v, p.W.Shape()[0], p.W); err != nil {
		return err
	}
	if err := checkBatch("history batch u", u, p.NumCondition(), p.W); err != nil {
		return err
	}
	if v.Shape()[0] != u.Shape()[0] {
		return errors.Errorf("graph: %d frames but %d histories", v.Shape()[0], u.Shape()[0])
	}
	return nil
}

// DynamicBiases returns b*(u) (batch, nv) and c*(u) (batch, nh) for histories u (batch, nu).
func (p CRBM) DynamicBiases(u *G.Node) (bStar, cStar *G.Node, err error) {
	uv, err := G.Mul(u, p.UV)
	if err != nil {
		return nil, nil, errors.Wrap(err, "graph: u·UV")
	}
	if bStar, err = addRowVector(uv, p.B); err != nil {
		return nil, nil, err
	}
	uh, err := G.Mul(u, p.UH)
	if err != nil {
		return nil, nil, errors.Wrap(err, "graph: u·UH")
	}
	if cStar, err = addRowVector(uh, p.C); err != nil {
		return nil, nil, err
	}
	return bStar, cStar, nil
}

// scaled returns v/σ for Gaussian units, v otherwise.
func (p CRBM) scaled(v *G.Node) (*G.Node, error) {
	if p.LogSigma == nil {
		return v, nil
	}
	sigma, err := G.Exp(p.LogSigma)
	if err != nil {
		return nil, err
	}
	return G.BroadcastHadamardDiv(v, sigma, nil, []byte{0})
}

// HiddenLogits returns c*(u) + (v/σ)W, shape (batch, nh).
func (p CRBM) HiddenLogits(v, u *G.Node) (*G.Node, error) {
	if err := p.inputs(v, u); err != nil {
		return nil, err
	}
	_, cStar, err := p.DynamicBiases(u)
	if err != nil {
		return nil, err
	}
	s, err := p.scaled(v)
	if err != nil {
		return nil, err
	}
	sw, err := G.Mul(s, p.W)
	if err != nil {
		return nil, err
	}
	return G.Add(sw, cStar)
}

// HiddenProbs returns p(h=1 | v, u), shape (batch, nh).
func (p CRBM) HiddenProbs(v, u *G.Node) (*G.Node, error) {
	a, err := p.HiddenLogits(v, u)
	if err != nil {
		return nil, err
	}
	return ops.Sigmoid(a)
}

// VisibleMean returns E[v | h, u]: σ(b* + hWᵀ) for Bernoulli units, b* + σ⊙(hWᵀ) for Gaussian
// ones; shape (batch, nv).
func (p CRBM) VisibleMean(h, u *G.Node) (*G.Node, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	if err := checkBatch("hidden batch h", h, p.W.Shape()[1], p.W); err != nil {
		return nil, err
	}
	bStar, _, err := p.DynamicBiases(u)
	if err != nil {
		return nil, err
	}
	wt, err := G.Transpose(p.W)
	if err != nil {
		return nil, err
	}
	hw, err := G.Mul(h, wt)
	if err != nil {
		return nil, err
	}
	if p.LogSigma == nil {
		a, err := G.Add(hw, bStar)
		if err != nil {
			return nil, err
		}
		return ops.Sigmoid(a)
	}
	sigma, err := G.Exp(p.LogSigma)
	if err != nil {
		return nil, err
	}
	shw, err := G.BroadcastHadamardProd(hw, sigma, nil, []byte{0})
	if err != nil {
		return nil, err
	}
	return G.Add(shw, bStar)
}

// FreeEnergy returns F(v | u), shape (batch), in nats: -b*ᵀv - Σ_j softplus(c*_j + (vW)_j) for
// Bernoulli units; Σ_i (v_i-b*_i)²/(2σ_i²) - Σ_j softplus(c*_j + ((v/σ)W)_j) for Gaussian ones.
func (p CRBM) FreeEnergy(v, u *G.Node) (*G.Node, error) {
	a, err := p.HiddenLogits(v, u)
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
	bStar, _, err := p.DynamicBiases(u)
	if err != nil {
		return nil, err
	}
	if p.LogSigma == nil {
		vb, err := G.HadamardProd(v, bStar)
		if err != nil {
			return nil, err
		}
		lin, err := rowSum(vb)
		if err != nil {
			return nil, err
		}
		s, err := G.Add(lin, hidden)
		if err != nil {
			return nil, err
		}
		return G.Neg(s)
	}
	diff, err := G.Sub(v, bStar)
	if err != nil {
		return nil, err
	}
	sq, err := G.Square(diff)
	if err != nil {
		return nil, err
	}
	m2, err := Scale(p.LogSigma, -2)
	if err != nil {
		return nil, err
	}
	inv, err := G.Exp(m2)
	if err != nil {
		return nil, err
	}
	w, err := G.BroadcastHadamardProd(sq, inv, nil, []byte{0})
	if err != nil {
		return nil, err
	}
	quad, err := rowSum(w)
	if err != nil {
		return nil, err
	}
	half, err := Scale(quad, 0.5)
	if err != nil {
		return nil, err
	}
	return G.Sub(half, hidden)
}

// GibbsStep adds v → h ~ p(h|v,u) → v' ~ p(v|h,u) with u held fixed and returns v' (batch, nv),
// a stop-gradient sample (Bernoulli or Gaussian) drawn from src. With mean set, v' is E[v'|h,u]
// instead (a stop-gradient), the noise-free reconstruction.
func (p CRBM) GibbsStep(v, u *G.Node, src rand.Source, mean bool) (*G.Node, error) {
	ph, err := p.HiddenProbs(v, u)
	if err != nil {
		return nil, err
	}
	h, err := ops.Bernoulli(ph, src)
	if err != nil {
		return nil, err
	}
	m, err := p.VisibleMean(h, u)
	if err != nil {
		return nil, err
	}
	if mean {
		return ops.StopGradient(m)
	}
	if p.LogSigma == nil {
		return ops.Bernoulli(m, src)
	}
	sigma, err := G.Exp(p.LogSigma)
	if err != nil {
		return nil, err
	}
	return ops.Gaussian(m, sigma, src)
}
