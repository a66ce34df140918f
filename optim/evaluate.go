package optim

import (
	"fmt"
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/graph"
	"github.com/ebm-go/ebm/ops"
)

// Metrics are per-row monitoring values of a model on a data set, means over its rows.
type Metrics struct {
	// FreeEnergy is the mean free energy F(v) per row, nats.
	FreeEnergy float64 `json:"free_energy"`
	// PseudoLikelihood is the mean one-bit pseudo-likelihood estimate per row, nats: for each row one
	// bit i is drawn uniformly and nv·log p(v_i | v_-i) is recorded, an unbiased estimate of the
	// row's total (all-bit) log pseudo-likelihood Σ_i log p(v_i | v_-i) (the estimator of
	// scikit-learn's BernoulliRBM.score_samples). Divide by nv for a per-bit figure.
	PseudoLikelihood float64 `json:"pseudo_likelihood"`
	// ExactPseudoLikelihood is the mean exact all-bit pseudo-likelihood Σ_i log p(v_i|v_-i) per
	// row, nats, for models that implement ExactPseudoLikelihooder (omitted otherwise).
	ExactPseudoLikelihood float64 `json:"pseudo_likelihood_exact,omitempty"`
	// ReconCrossEntropy is the mean reconstruction cross-entropy per row, nats:
	// Σ_i -[v_i log σ(a_i) + (1-v_i) log σ(-a_i)] for the mean-field reconstruction logits a.
	// Zero (and omitted from JSON) when the model is not a Reconstructor.
	ReconCrossEntropy float64 `json:"recon_cross_entropy,omitempty"`
	// Rows is how many rows were evaluated.
	Rows int `json:"rows"`
}

// ExactPseudoLikelihooder is implemented by models that compute the exact all-bit
// pseudo-likelihood Σ_i log p(v_i | v_-i) of each row of x (N, nv) themselves, in nats per row
// (e.g. models.RBM, in O(nv·nh) per row). Evaluators report it beside the one-bit estimate.
type ExactPseudoLikelihooder interface {
	PseudoLikelihood(x *tensor.Dense) ([]float64, error)
}

// Evaluator computes monitoring values of a Model on data in batches of a fixed size with a
// compiled inference graph of its own (it never touches a training machine's gradients). The
// model's parameters are read at each call, so an Evaluator follows a model during training.
// An Evaluator is not safe for concurrent use; Close releases it.
type Evaluator struct {
	nv, batch    int
	dt           tensor.Dtype
	v, vflip     *G.Node
	vIn, vflipIn *tensor.Dense
	f, fflip, ce G.Value
	exact        ExactPseudoLikelihooder
	hasCE        bool
	vm           G.VM
}

// NewEvaluator compiles the inference graph of m for batches of the given size (≥ 1).
func NewEvaluator(m Model, batch int) (*Evaluator, error) {
	if m == nil {
		return nil, errors.New("optim: nil model")
	}
	if batch < 1 {
		return nil, fmt.Errorf("optim: evaluator batch size %d; want ≥ 1", batch)
	}
	e := &Evaluator{nv: m.NumVisible(), batch: batch, dt: m.Dtype()}
	e.exact, _ = m.(ExactPseudoLikelihooder)
	if e.nv < 1 {
		return nil, fmt.Errorf("optim: model has %d visible units; want ≥ 1", e.nv)
	}
	g := G.NewGraph()
	b, err := m.Bind(g)
	if err != nil {
		return nil, errors.Wrap(err, "optim: binding model for evaluation")
	}
	e.vIn = tensor.New(tensor.WithShape(batch, e.nv), tensor.Of(e.dt))
	e.vflipIn = tensor.New(tensor.WithShape(batch, e.nv), tensor.Of(e.dt))
	e.v = G.NewMatrix(g, e.dt, G.WithShape(batch, e.nv), G.WithName("eval.v"), G.WithValue(e.vIn))
	e.vflip = G.NewMatrix(g, e.dt, G.WithShape(batch, e.nv), G.WithName("eval.vflip"), G.WithValue(e.vflipIn))
	f, err := b.FreeEnergy(e.v)
	if err != nil {
		return nil, errors.Wrap(err, "optim: F(v)")
	}
	ff, err := b.FreeEnergy(e.vflip)
	if err != nil {
		return nil, errors.Wrap(err, "optim: F(v with one bit flipped)")
	}
	roots := G.Nodes{G.Read(f, &e.f), G.Read(ff, &e.fflip)}
	if r, ok := b.(graph.Reconstructor); ok {
		a, err := r.ReconstructionLogits(e.v)
		if err != nil {
			return nil, errors.Wrap(err, "optim: reconstruction logits")
		}
		ce, err := crossEntropyRows(e.v, a)
		if err != nil {
			return nil, err
		}
		roots = append(roots, G.Read(ce, &e.ce))
		e.hasCE = true
	}
	e.vm = G.NewTapeMachine(g.SubgraphRoots(roots...))
	return e, nil
}

// crossEntropyRows returns Σ_i softplus(a_i) - v_i a_i per row: the Bernoulli cross-entropy
// -[v log σ(a) + (1-v) log σ(-a)], exact for saturated logits (case B02).
func crossEntropyRows(v, a *G.Node) (*G.Node, error) {
	sp, err := ops.Softplus(a)
	if err != nil {
		return nil, err
	}
	va, err := G.HadamardProd(v, a)
	if err != nil {
		return nil, err
	}
	d, err := G.Sub(sp, va)
	if err != nil {
		return nil, err
	}
	return G.Sum(d, 1)
}

// Close releases the compiled machine.
func (e *Evaluator) Close() {
	if e != nil && e.vm != nil {
		e.vm.Close()
		e.vm = nil
	}
}

// RowValues holds per-row values computed by Evaluator.Rows.
type RowValues struct {
	FreeEnergy            []float64 // F(v), nats
	PseudoLikelihood      []float64 // one-bit estimate nv·log p(v_i|v_-i), nats
	ExactPseudoLikelihood []float64 // Σ_i log p(v_i|v_-i), nats; nil unless the model computes it
	ReconCrossEntropy     []float64 // nil unless the model is a Reconstructor
}

// Rows evaluates every row of x (N, nv), which must have the model's dtype, drawing the flipped
// bit of each row from src. The flip of a value x_i is 1 - x_i.
func (e *Evaluator) Rows(x *tensor.Dense, src rand.Source) (RowValues, error) {
	var out RowValues
	if e == nil || e.vm == nil {
		return out, errors.New("optim: evaluator is closed")
	}
	if src == nil {
		return out, errors.New("optim: nil rand.Source for the pseudo-likelihood bits")
	}
	if err := datasets.CheckMatrix("evaluation data", x, e.nv, e.dt); err != nil {
		return out, err
	}
	rng := rand.New(src)
	n := x.Shape()[0]
	out.FreeEnergy = make([]float64, n)
	out.PseudoLikelihood = make([]float64, n)
	if e.hasCE {
		out.ReconCrossEntropy = make([]float64, n)
	}
	idx := make([]int, e.batch)
	flips := make([]int, e.batch)
	for start := 0; start < n; start += e.batch {
		rows := min(e.batch, n-start)
		for r := range idx {
			// Pad a short last batch by repeating its first row; padded results are ignored.
			if r < rows {
				idx[r] = start + r
			} else {
				idx[r] = start
			}
			flips[r] = rng.IntN(e.nv)
		}
		copyRows(e.vIn, x, idx)
		copyRows(e.vflipIn, x, idx)
		flipBits(e.vflipIn, flips)
		if err := e.vm.RunAll(); err != nil {
			e.vm.Reset()
			return out, errors.Wrap(err, "optim: evaluation run")
		}
		f, ff := valueFloats(e.f), valueFloats(e.fflip)
		var ce []float64
		if e.hasCE {
			ce = valueFloats(e.ce)
		}
		for r := 0; r < rows; r++ {
			out.FreeEnergy[start+r] = f[r]
			out.PseudoLikelihood[start+r] = -float64(e.nv) * ops.Softplus64(f[r]-ff[r])
			if e.hasCE {
				out.ReconCrossEntropy[start+r] = ce[r]
			}
		}
		e.vm.Reset()
	}
	if e.exact != nil {
		var err error
		if out.ExactPseudoLikelihood, err = e.exact.PseudoLikelihood(x); err != nil {
			return out, errors.Wrap(err, "optim: exact pseudo-likelihood")
		}
	}
	return out, nil
}

// Metrics evaluates x and returns the means over its rows.
func (e *Evaluator) Metrics(x *tensor.Dense, src rand.Source) (Metrics, error) {
	rv, err := e.Rows(x, src)
	if err != nil {
		return Metrics{}, err
	}
	return Metrics{
		FreeEnergy:            mean(rv.FreeEnergy),
		PseudoLikelihood:      mean(rv.PseudoLikelihood),
		ExactPseudoLikelihood: mean(rv.ExactPseudoLikelihood),
		ReconCrossEntropy:     mean(rv.ReconCrossEntropy),
		Rows:                  len(rv.FreeEnergy),
	}, nil
}

func mean(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// flipBits replaces entry (r, flips[r]) of x by 1 - x.
func flipBits(x *tensor.Dense, flips []int) {
	n := x.Shape()[1]
	switch d := x.Data().(type) {
	case []float64:
		for r, i := range flips {
			d[r*n+i] = 1 - d[r*n+i]
		}
	case []float32:
		for r, i := range flips {
			d[r*n+i] = 1 - d[r*n+i]
		}
	}
}

// valueFloats returns a Value's data as float64s.
func valueFloats(v G.Value) []float64 {
	if t, ok := v.(*tensor.Dense); ok {
		return values(t)
	}
	switch s := v.(type) {
	case *G.F64:
		return []float64{float64(*s)}
	case *G.F32:
		return []float64{float64(*s)}
	}
	return nil
}
