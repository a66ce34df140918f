package graph

import (
	"fmt"
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/ebm-go/ebm/ops"
)

// DBM holds the parameters of a deep Boltzmann machine (Salakhutdinov & Hinton 2009) as nodes of
// one graph: W[l] (n_l, n_{l+1}) for l = 0..L-1 and B[l] (n_l) for l = 0..L, layer 0 the visible
// layer. The energy of layer states x_0..x_L is
//
//	E(x) = -Σ_l b_lᵀx_l - Σ_l x_lᵀ W_l x_{l+1}.
type DBM struct {
	W []*G.Node
	B []*G.Node
}

// Params returns W[0..L-1] then B[0..L].
func (m DBM) Params() G.Nodes {
	out := append(G.Nodes{}, m.W...)
	return append(out, m.B...)
}

func (m DBM) check(x []*G.Node) error {
	if len(m.W) == 0 || len(m.B) != len(m.W)+1 {
		return fmt.Errorf("graph: DBM with %d weight matrices and %d bias vectors; want L ≥ 1 and L+1", len(m.W), len(m.B))
	}
	if len(x) != len(m.B) {
		return fmt.Errorf("graph: %d DBM layer states; want one per layer (%d)", len(x), len(m.B))
	}
	for l, n := range x {
		if n == nil || n.Shape().Dims() != 2 || n.Shape()[1] != m.B[l].Shape()[0] {
			return fmt.Errorf("graph: DBM layer %d states %v; want (batch, %d)", l, n, m.B[l].Shape()[0])
		}
	}
	return nil
}

// DBMEnergy returns E(x) (batch) for the layer states x[l] (batch, n_l), l = 0..L: binary
// states, or mean-field probabilities for the mean-field energy E(v, μ) (linear in each layer).
func DBMEnergy(m DBM, x []*G.Node) (*G.Node, error) {
	if err := m.check(x); err != nil {
		return nil, err
	}
	var neg *G.Node // -E
	add := func(t *G.Node) error {
		if neg == nil {
			neg = t
			return nil
		}
		var err error
		neg, err = G.Add(neg, t)
		return err
	}
	for l, b := range m.B {
		t, err := G.Mul(x[l], b)
		if err != nil {
			return nil, errors.Wrapf(err, "graph: DBM bias term of layer %d", l)
		}
		if err := add(t); err != nil {
			return nil, err
		}
	}
	for l, w := range m.W {
		a, err := G.Mul(x[l], w)
		if err != nil {
			return nil, errors.Wrapf(err, "graph: DBM pair term of layers %d-%d", l, l+1)
		}
		p, err := G.HadamardProd(a, x[l+1])
		if err != nil {
			return nil, err
		}
		s, err := G.Sum(p, 1)
		if err != nil {
			return nil, err
		}
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return G.Neg(neg)
}

// DBMCost returns mean_n E(data_n) - mean_n E(model_n), a scalar whose gradient with respect to
// the DBM's parameters is the DBM learning rule of Salakhutdinov & Hinton (2009), negated:
//
//	∂/∂W_l = -(⟨x_l x_{l+1}ᵀ⟩_data - ⟨x_l x_{l+1}ᵀ⟩_model),   ∂/∂b_l = -(⟨x_l⟩_data - ⟨x_l⟩_model).
//
// data holds the positive phase, the visible batch and its mean-field posteriors μ_1..μ_L; model
// holds the negative phase, the persistent chains' states. Every state passes through
// ops.StopGradient, so the cost is differentiated only through the parameters; the two phases
// may have different batch sizes. The mean energies are computed from the phases' sufficient
// statistics, mean E = -Σ_l b_l·mean_n x_l - Σ_l Σ_ij W_l,ij (x_lᵀx_{l+1})_ij / N, which equals
// the mean of DBMEnergy and costs one product per layer pair instead of a product forward and
// another backward.
func DBMCost(m DBM, data, model []*G.Node) (*G.Node, error) {
	ed, err := meanDBMEnergy(m, data)
	if err != nil {
		return nil, errors.Wrap(err, "graph: positive phase")
	}
	ek, err := meanDBMEnergy(m, model)
	if err != nil {
		return nil, errors.Wrap(err, "graph: negative phase")
	}
	return G.Sub(ed, ek)
}

// meanDBMEnergy returns mean_n E(x_n) from the statistics of the stop-gradient states x.
func meanDBMEnergy(m DBM, x []*G.Node) (*G.Node, error) {
	if err := m.check(x); err != nil {
		return nil, err
	}
	s := make([]*G.Node, len(x))
	for i, n := range x {
		var err error
		if s[i], err = ops.StopGradient(n); err != nil {
			return nil, err
		}
	}
	rows := float64(x[0].Shape()[0])
	var neg *G.Node
	add := func(t *G.Node) error {
		if neg == nil {
			neg = t
			return nil
		}
		var err error
		neg, err = G.Add(neg, t)
		return err
	}
	for l, b := range m.B {
		mean, err := G.Mean(s[l], 0)
		if err != nil {
			return nil, err
		}
		t, err := G.Mul(mean, b)
		if err != nil {
			return nil, errors.Wrapf(err, "graph: DBM bias term of layer %d", l)
		}
		if err := add(t); err != nil {
			return nil, err
		}
	}
	for l, w := range m.W {
		xt, err := G.Transpose(s[l])
		if err != nil {
			return nil, err
		}
		stat, err := G.Mul(xt, s[l+1])
		if err != nil {
			return nil, errors.Wrapf(err, "graph: DBM statistics of layers %d-%d", l, l+1)
		}
		if stat, err = Scale(stat, 1/rows); err != nil {
			return nil, err
		}
		p, err := G.HadamardProd(w, stat)
		if err != nil {
			return nil, err
		}
		t, err := G.Sum(p)
		if err != nil {
			return nil, err
		}
		if err := add(t); err != nil {
			return nil, err
		}
	}
	return G.Neg(neg)
}

// ReplicatedRBM is the RBM used to pretrain one layer of a DBM (Salakhutdinov & Hinton 2009, §3.1):
// an RBM whose visible units come in Up tied copies and whose hidden units come in Down copies, so
// that the bottom-up input is Up·vW and the top-down input is the sum of Down independent hidden
// samples times Wᵀ. Up = Down = 1 is a plain RBM. Greedy DBM pretraining uses Up 2, Down 1 for the
// first layer (the doubled bottom-up weights stand in for the top-down input h1 will get from h2),
// Up 1, Down 2 for the top layer, and 2, 2 in between.
//
// With the visible copies all clamped to v the free energy is
//
//	F(v) = -Up·bᵀv - Down·Σ_j softplus(c_j + Up·(vW)_j).
//
// GibbsStep draws the Down hidden copies independently from σ(c + Up·vW) and one visible vector
// from σ(b + (Σ_k h_k)Wᵀ), used for all visible copies (the tied-copy approximation of
// Salakhutdinov's code; exact when Up = 1).
type ReplicatedRBM struct {
	RBM
	Up, Down int
}

func (p ReplicatedRBM) scaled() (RBM, error) {
	if p.Up < 1 || p.Down < 1 {
		return RBM{}, fmt.Errorf("graph: replicated RBM with %d visible and %d hidden copies; want ≥ 1 each", p.Up, p.Down)
	}
	q := p.RBM
	q.Unfused = true
	if p.Up == 1 {
		return q, nil
	}
	w, err := Scale(p.W, float64(p.Up))
	if err != nil {
		return RBM{}, err
	}
	q.W = w
	return q, nil
}

// UpLogits returns c + Up·vW (batch, nh).
func (p ReplicatedRBM) UpLogits(v *G.Node) (*G.Node, error) {
	q, err := p.scaled()
	if err != nil {
		return nil, err
	}
	return HiddenLogits(q, v)
}

// FreeEnergy returns F(v) (batch) for v (batch, nv).
func (p ReplicatedRBM) FreeEnergy(v *G.Node) (*G.Node, error) {
	a, err := p.UpLogits(v)
	if err != nil {
		return nil, err
	}
	sp, err := ops.Softplus(a)
	if err != nil {
		return nil, err
	}
	hidden, err := G.Sum(sp, 1)
	if err != nil {
		return nil, err
	}
	vb, err := G.Mul(v, p.B)
	if err != nil {
		return nil, errors.Wrap(err, "graph: vb")
	}
	if p.Down != 1 {
		if hidden, err = Scale(hidden, float64(p.Down)); err != nil {
			return nil, err
		}
	}
	if p.Up != 1 {
		if vb, err = Scale(vb, float64(p.Up)); err != nil {
			return nil, err
		}
	}
	s, err := G.Add(vb, hidden)
	if err != nil {
		return nil, err
	}
	return G.Neg(s)
}

// downLogits samples the Down hidden copies given v and returns b + (Σ_k h_k)Wᵀ.
func (p ReplicatedRBM) downLogits(v *G.Node, src rand.Source) (*G.Node, error) {
	a, err := p.UpLogits(v)
	if err != nil {
		return nil, err
	}
	ph, err := ops.Sigmoid(a)
	if err != nil {
		return nil, err
	}
	var sum *G.Node
	for k := 0; k < p.Down; k++ {
		h, err := ops.Bernoulli(ph, src)
		if err != nil {
			return nil, err
		}
		if sum == nil {
			sum = h
		} else if sum, err = G.Add(sum, h); err != nil {
			return nil, err
		}
	}
	q := p.RBM
	q.Unfused = true
	return VisibleLogits(q, sum)
}

// GibbsStep returns v' (batch, nv) after h_k ~ σ(c + Up·vW) (k = 1..Down), v' ~ σ(b + Σ_k h_k Wᵀ);
// every draw comes from src.
func (p ReplicatedRBM) GibbsStep(v *G.Node, src rand.Source) (*G.Node, error) {
	a, err := p.downLogits(v, src)
	if err != nil {
		return nil, err
	}
	pv, err := ops.Sigmoid(a)
	if err != nil {
		return nil, err
	}
	return ops.Bernoulli(pv, src)
}

// GibbsStepMean is GibbsStep ending in the probabilities σ(b + Σ_k h_k Wᵀ), a stop-gradient.
func (p ReplicatedRBM) GibbsStepMean(v *G.Node, src rand.Source) (*G.Node, error) {
	a, err := p.downLogits(v, src)
	if err != nil {
		return nil, err
	}
	return ops.StopSigmoid(a)
}
