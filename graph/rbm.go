package graph

import (
	"fmt"
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/ops"
)

// RBM holds the parameter nodes of a Bernoulli–Bernoulli restricted Boltzmann machine with energy
//
//	E(v,h) = -bᵀv - cᵀh - vᵀWh
//
// W is a (nv, nh) matrix, B the visible biases (nv) and C the hidden biases (nh), all of one dtype
// (Float32 or Float64) and all in the same graph. The builders below never change the nodes' values.
//
// The builders use the fused ops of package ops: ops.Affine for c + vW (a gather over the
// non-zero entries of v: binary states and MNIST-like data cost a fraction of a dense product),
// ops.AffineT for b + hWᵀ, ops.SoftplusSum for the hidden part of the free energy (with its own
// gradient) and ops.SigmoidBernoulli for the sampling steps.
type RBM struct {
	W, B, C *G.Node

	// Unfused builds every piece from Gorgonia's generic ops instead (MatMul, BroadcastAdd,
	// Sum, and ops.Sigmoid, ops.Softplus, ops.Bernoulli): several times slower, for
	// cross-checking. Values and gradients agree with the fused graph to rounding (c + vW bit
	// for bit in the default pure-Go build), and a Gibbs step draws the same samples from the
	// same seed.
	Unfused bool
}

// Check reports whether the parameter nodes are present, in one graph, of one float dtype and of
// consistent shapes. Every builder calls it, so a malformed RBM gives an error, never a panic.
func (p RBM) Check() error {
	if p.W == nil || p.B == nil || p.C == nil {
		return errors.New("graph: RBM needs W, B and C nodes (one is nil)")
	}
	if p.W.Graph() != p.B.Graph() || p.W.Graph() != p.C.Graph() {
		return errors.New("graph: RBM parameters W, B, C live in different graphs")
	}
	if err := floatDtype("W", p.W); err != nil {
		return err
	}
	if !p.B.Dtype().Eq(p.W.Dtype()) || !p.C.Dtype().Eq(p.W.Dtype()) {
		return errors.Errorf("graph: RBM parameters mix dtypes: W %v, B %v, C %v", p.W.Dtype(), p.B.Dtype(), p.C.Dtype())
	}
	ws, bs, cs := p.W.Shape(), p.B.Shape(), p.C.Shape()
	if ws.Dims() != 2 {
		return errors.Errorf("graph: RBM W must be a (nv, nh) matrix, has shape %v", ws)
	}
	if bs.Dims() != 1 || bs[0] != ws[0] {
		return errors.Errorf("graph: RBM B must be a vector of %d visible biases, has shape %v", ws[0], bs)
	}
	if cs.Dims() != 1 || cs[0] != ws[1] {
		return errors.Errorf("graph: RBM C must be a vector of %d hidden biases, has shape %v", ws[1], cs)
	}
	return nil
}

// NumVisible is the number of visible units (rows of W).
func (p RBM) NumVisible() int { return p.W.Shape()[0] }

// NumHidden is the number of hidden units (columns of W).
func (p RBM) NumHidden() int { return p.W.Shape()[1] }

func floatDtype(name string, n *G.Node) error {
	if n == nil {
		return errors.Errorf("graph: %s is nil", name)
	}
	switch n.Dtype() {
	case tensor.Float32, tensor.Float64:
		return nil
	}
	return errors.Errorf("graph: %s has dtype %v; want Float32 or Float64", name, n.Dtype())
}

// checkBatch verifies that x is a (batch, n) matrix of the parameters' dtype in their graph.
func checkBatch(name string, x *G.Node, n int, like *G.Node) error {
	if x == nil {
		return errors.Errorf("graph: %s is nil", name)
	}
	if x.Graph() != like.Graph() {
		return errors.Errorf("graph: %s is in a different graph from the model parameters", name)
	}
	if !x.Dtype().Eq(like.Dtype()) {
		return errors.Errorf("graph: %s has dtype %v but the model is %v", name, x.Dtype(), like.Dtype())
	}
	s := x.Shape()
	if s.Dims() != 2 {
		return errors.Errorf("graph: %s must be a (batch, %d) matrix, has shape %v", name, n, s)
	}
	if s[1] != n {
		return errors.Errorf("graph: %s has %d columns, the model has %d units on that side", name, s[1], n)
	}
	if s[0] < 1 {
		return errors.Errorf("graph: %s has an empty batch", name)
	}
	return nil
}

// addRowVector returns x + 1 rᵀ: the vector r (n) added to every row of x (batch, n).
func addRowVector(x, r *G.Node) (*G.Node, error) {
	return G.BroadcastAdd(x, r, nil, []byte{0})
}

// HiddenLogits returns the hidden pre-activations c + vW, shape (batch, nh), for v of shape (batch, nv).
func HiddenLogits(p RBM, v *G.Node) (*G.Node, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	if err := checkBatch("visible batch v", v, p.NumVisible(), p.W); err != nil {
		return nil, err
	}
	if !p.Unfused {
		a, err := ops.Affine(v, p.W, p.C)
		return a, errors.Wrap(err, "graph: c + vW")
	}
	vw, err := G.Mul(v, p.W)
	if err != nil {
		return nil, errors.Wrap(err, "graph: vW")
	}
	return addRowVector(vw, p.C)
}

// VisibleLogits returns the visible pre-activations b + hWᵀ, shape (batch, nv), for h of shape (batch, nh).
func VisibleLogits(p RBM, h *G.Node) (*G.Node, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	if err := checkBatch("hidden batch h", h, p.NumHidden(), p.W); err != nil {
		return nil, err
	}
	if !p.Unfused {
		a, err := ops.AffineT(h, p.W, p.B)
		return a, errors.Wrap(err, "graph: b + hWᵀ")
	}
	wt, err := G.Transpose(p.W)
	if err != nil {
		return nil, errors.Wrap(err, "graph: Wᵀ")
	}
	hw, err := G.Mul(h, wt)
	if err != nil {
		return nil, errors.Wrap(err, "graph: hWᵀ")
	}
	return addRowVector(hw, p.B)
}

// HiddenProbs returns p(h_j = 1 | v) = σ(c_j + (vW)_j), shape (batch, nh).
func HiddenProbs(p RBM, v *G.Node) (*G.Node, error) {
	a, err := HiddenLogits(p, v)
	if err != nil {
		return nil, err
	}
	return ops.Sigmoid(a)
}

// VisibleProbs returns p(v_i = 1 | h) = σ(b_i + (Wh)_i), shape (batch, nv).
func VisibleProbs(p RBM, h *G.Node) (*G.Node, error) {
	a, err := VisibleLogits(p, h)
	if err != nil {
		return nil, err
	}
	return ops.Sigmoid(a)
}

// Energy returns E(v,h) = -bᵀv - cᵀh - vᵀWh for each row, shape (batch), for v (batch, nv) and
// h (batch, nh) of the model's dtype.
func Energy(p RBM, v, h *G.Node) (*G.Node, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	if err := checkBatch("visible batch v", v, p.NumVisible(), p.W); err != nil {
		return nil, err
	}
	if err := checkBatch("hidden batch h", h, p.NumHidden(), p.W); err != nil {
		return nil, err
	}
	if v.Shape()[0] != h.Shape()[0] {
		return nil, errors.Errorf("graph: v has %d rows but h has %d", v.Shape()[0], h.Shape()[0])
	}
	vb, err := G.Mul(v, p.B)
	if err != nil {
		return nil, errors.Wrap(err, "graph: vb")
	}
	hc, err := G.Mul(h, p.C)
	if err != nil {
		return nil, errors.Wrap(err, "graph: hc")
	}
	vw, err := G.Mul(v, p.W)
	if err != nil {
		return nil, errors.Wrap(err, "graph: vW")
	}
	vwh, err := G.HadamardProd(vw, h)
	if err != nil {
		return nil, errors.Wrap(err, "graph: vW⊙h")
	}
	inter, err := rowSum(vwh)
	if err != nil {
		return nil, err
	}
	s, err := G.Add(vb, hc)
	if err != nil {
		return nil, err
	}
	if s, err = G.Add(s, inter); err != nil {
		return nil, err
	}
	return G.Neg(s)
}

// rowSum sums a (batch, n) matrix along its columns, giving (batch).
func rowSum(x *G.Node) (*G.Node, error) {
	s, err := G.Sum(x, 1)
	if err != nil {
		return nil, errors.Wrap(err, "graph: row sum")
	}
	return s, nil
}

// FreeEnergy returns the Bernoulli–Bernoulli RBM free energy for each row of v (batch, nv):
//
//	F(v) = -log Σ_h exp(-E(v,h)) = -bᵀv - Σ_j softplus(c_j + (vW)_j),
//
// shape (batch), in nats. Softplus is computed exactly (ops.Softplus), so F stays finite and
// accurate for pre-activations of any size, in float32 too. The fused form (p.Unfused false) is
// built from ops.Affine, ops.SoftplusSum and ops.MatVec; the unfused one from Gorgonia's Mul and
// BroadcastAdd with ops.Softplus.
func FreeEnergy(p RBM, v *G.Node) (*G.Node, error) {
	a, err := HiddenLogits(p, v)
	if err != nil {
		return nil, err
	}
	var hidden *G.Node
	if p.Unfused {
		sp, err := ops.Softplus(a)
		if err != nil {
			return nil, err
		}
		if hidden, err = rowSum(sp); err != nil {
			return nil, err
		}
	} else if hidden, err = ops.SoftplusSum(a); err != nil {
		return nil, err
	}
	var vb *G.Node
	if p.Unfused {
		vb, err = G.Mul(v, p.B)
	} else {
		vb, err = ops.MatVec(v, p.B)
	}
	if err != nil {
		return nil, errors.Wrap(err, "graph: vb")
	}
	s, err := G.Add(vb, hidden)
	if err != nil {
		return nil, err
	}
	return G.Neg(s)
}

// GibbsStep adds one step of block Gibbs sampling, v → h ~ p(h|v) → v' ~ p(v|h), and returns the
// sampled visible states v' (batch, nv) and hidden states h (batch, nh). Both are samples from
// ops.SigmoidBernoulli (ops.Bernoulli of the probabilities when p.Unfused; the draws are the
// same): constants for Grad, freshly drawn from src each time the machine runs.
func GibbsStep(p RBM, v *G.Node, src rand.Source) (vNext, h *G.Node, err error) {
	if h, err = sampleHidden(p, v, src); err != nil {
		return nil, nil, err
	}
	if p.Unfused {
		pv, err := VisibleProbs(p, h)
		if err != nil {
			return nil, nil, err
		}
		vNext, err = ops.Bernoulli(pv, src)
		return vNext, h, err
	}
	av, err := VisibleLogits(p, h)
	if err != nil {
		return nil, nil, err
	}
	if vNext, err = ops.SigmoidBernoulli(av, src); err != nil {
		return nil, nil, err
	}
	return vNext, h, nil
}

// sampleHidden adds h ~ p(h|v).
func sampleHidden(p RBM, v *G.Node, src rand.Source) (*G.Node, error) {
	if p.Unfused {
		ph, err := HiddenProbs(p, v)
		if err != nil {
			return nil, err
		}
		return ops.Bernoulli(ph, src)
	}
	a, err := HiddenLogits(p, v)
	if err != nil {
		return nil, err
	}
	return ops.SigmoidBernoulli(a, src)
}

// GibbsStepMean is GibbsStep whose visible half returns the probabilities p(v'=1|h) instead of a
// sample: v → h ~ p(h|v) → v' = p(v=1|h), computed by ops.StopSigmoid (ops.StopGradient of
// VisibleProbs when p.Unfused) so Grad treats it as a constant. Ending a CD chain this way reduces sampling noise (Hinton 2010, §3.2); it is not a
// Markov-chain step and must not feed persistent chains.
func GibbsStepMean(p RBM, v *G.Node, src rand.Source) (vNext, h *G.Node, err error) {
	if h, err = sampleHidden(p, v, src); err != nil {
		return nil, nil, err
	}
	if !p.Unfused {
		av, err := VisibleLogits(p, h)
		if err != nil {
			return nil, nil, err
		}
		vNext, err = ops.StopSigmoid(av)
		return vNext, h, err
	}
	pv, err := VisibleProbs(p, h)
	if err != nil {
		return nil, nil, err
	}
	if vNext, err = ops.StopGradient(pv); err != nil {
		return nil, nil, err
	}
	return vNext, h, nil
}

// Step is one transition of a Markov chain on visible states, added to a graph: it takes a
// (batch, nv) node and returns the next state, same shape and dtype. A Step must leave the model's
// distribution p(v) invariant and must not pass gradients (build it from ops.Bernoulli,
// ops.Gaussian or ops.StopGradient).
type Step func(v *G.Node) (*G.Node, error)

// Chain applies step k times starting from v0 and returns v_k. k must be at least 1.
func Chain(step Step, v0 *G.Node, k int) (*G.Node, error) {
	if k < 1 {
		return nil, errors.Errorf("graph: chain length k = %d; want k ≥ 1", k)
	}
	if step == nil {
		return nil, errors.New("graph: nil chain step")
	}
	v := v0
	for i := 0; i < k; i++ {
		next, err := step(v)
		if err != nil {
			return nil, errors.Wrapf(err, "graph: chain step %d of %d", i+1, k)
		}
		v = next
	}
	return v, nil
}

// RBMStep returns the block-Gibbs Step of p drawing from src.
func RBMStep(p RBM, src rand.Source) Step {
	return func(v *G.Node) (*G.Node, error) {
		next, _, err := GibbsStep(p, v, src)
		return next, err
	}
}

// FreeEnergyFunc builds F(v) (batch) for a visible batch v (batch, nv).
type FreeEnergyFunc func(v *G.Node) (*G.Node, error)

// CDCost returns the contrastive-divergence cost
//
//	mean_n F(v0_n) - mean_n F(vk_n)
//
// (a scalar). Its gradient with respect to the parameters is the CD-k (or, with persistent chains,
// PCD) estimate of the negative log-likelihood gradient, provided vk is a stop-gradient sample
// (Hinton 2002; Tieleman 2008). v0 and vk may have different batch sizes (PCD with a chain count
// other than the minibatch size).
func CDCost(fe FreeEnergyFunc, v0, vk *G.Node) (*G.Node, error) {
	if fe == nil {
		return nil, errors.New("graph: nil free-energy function")
	}
	f0, err := fe(v0)
	if err != nil {
		return nil, errors.Wrap(err, "graph: F(v0)")
	}
	fk, err := fe(vk)
	if err != nil {
		return nil, errors.Wrap(err, "graph: F(vk)")
	}
	if err := checkFreeEnergyShape(f0, v0); err != nil {
		return nil, err
	}
	if err := checkFreeEnergyShape(fk, vk); err != nil {
		return nil, err
	}
	m0, err := G.Mean(f0)
	if err != nil {
		return nil, err
	}
	mk, err := G.Mean(fk)
	if err != nil {
		return nil, err
	}
	return G.Sub(m0, mk)
}

func checkFreeEnergyShape(f, v *G.Node) error {
	s := f.Shape()
	rows := v.Shape()[0]
	if s.TotalSize() != rows || (s.Dims() > 1 && !(s.Dims() == 2 && (s[1] == 1 || s[0] == 1))) {
		return fmt.Errorf("graph: free energy must have one value per row (%d), has shape %v", rows, s)
	}
	return nil
}

// Scale returns c·x, with the constant c converted to x's dtype (Float32 or Float64).
func Scale(x *G.Node, c float64) (*G.Node, error) {
	if err := floatDtype("x", x); err != nil {
		return nil, err
	}
	var k *G.Node
	if x.Dtype().Eq(tensor.Float32) {
		k = G.NewConstant(float32(c))
	} else {
		k = G.NewConstant(c)
	}
	return G.Mul(x, k)
}
