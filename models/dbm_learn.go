package models

import (
	"fmt"
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/graph"
	"github.com/ebm-go/ebm/ops"
)

// DBMLearner estimates the gradient of a DBM's mean negative log-likelihood with the learning
// procedure of Salakhutdinov & Hinton (2009), "Deep Boltzmann machines", AISTATS, §3:
//
//   - positive phase: the mean-field posterior μ of each row of the batch (DBM.MeanField with
//     MeanField, started from the doubled bottom-up pass), held fixed;
//   - negative phase: Chains persistent Gibbs chains over all layers (Tieleman 2008), advanced
//     by GibbsSteps block-Gibbs sweeps per batch;
//   - gradient: Gorgonia's Grad of graph.DBMCost, mean E(v, μ) - mean E(chains), whose states
//     are stop-gradient inputs: -(⟨x_l x_{l+1}ᵀ⟩_data - ⟨x_l x_{l+1}ᵀ⟩_model) for W_l and
//     -(⟨x_l⟩_data - ⟨x_l⟩_model) for b_l.
//
// It satisfies optim.GradientModel, so optim.Fit trains it with learning-rate schedules
// (InverseDecay), momentum (HintonMomentum: 0.5 → 0.9) and weight decay (the paper's weight
// cost). The chains start, at the first Gradient call, from units drawn with probability σ(b_l)
// and are kept between calls (and between Fit calls on the same learner). Mean-field and Gibbs
// sampling compute in float64; the gradient graph uses the DBM's dtype.
type DBMLearner struct {
	DBM *DBM
	// Chains is the number of persistent chains; 0 means 100.
	Chains int
	// GibbsSteps is the number of block-Gibbs sweeps per gradient estimate; 0 means 5.
	GibbsSteps int
	// MeanField configures the positive phase (Init is ignored).
	MeanField MeanFieldSettings

	// Sweeps is the number of mean-field sweeps of the last Gradient call.
	Sweeps int

	chains [][]float64
	prog   *dbmProgram
}

// NumVisible is the DBM's visible count.
func (l *DBMLearner) NumVisible() int { return l.DBM.NumVisible() }

// Dtype is the DBM's dtype.
func (l *DBMLearner) Dtype() tensor.Dtype { return l.DBM.Dtype() }

// Params returns W[0..L-1] then B[0..L], the DBM's own tensors.
func (l *DBMLearner) Params() []*tensor.Dense {
	return append(append([]*tensor.Dense(nil), l.DBM.W...), l.DBM.B...)
}

// CheckData verifies (N, n_0) data of the DBM's dtype with values in [0,1].
func (l *DBMLearner) CheckData(x *tensor.Dense) error { return l.DBM.CheckData(x) }

// ChainStates returns copies of the persistent chains' states (Chains, n_l) for every layer, in
// the DBM's dtype; nil before the first Gradient call.
func (l *DBMLearner) ChainStates() []*tensor.Dense {
	if l.chains == nil {
		return nil
	}
	n := l.DBM.Sizes()
	out := make([]*tensor.Dense, len(l.chains))
	for i, x := range l.chains {
		out[i] = denseOf(l.DBM.Dtype(), x, len(x)/n[i], n[i])
	}
	return out
}

// Gradient returns the gradients for Params (same shapes, order and dtype) from batch (rows, n_0),
// drawing the chains' samples from src.
func (l *DBMLearner) Gradient(batch *tensor.Dense, src rand.Source) ([]*tensor.Dense, error) {
	d := l.DBM
	if d == nil {
		return nil, errors.New("models: DBMLearner has no DBM")
	}
	if err := d.CheckData(batch); err != nil {
		return nil, err
	}
	if src == nil {
		return nil, errors.New("models: nil rand.Source for the DBM's chains")
	}
	p := d.params64()
	rows := batch.Shape()[0]
	mu := p.bottomUp(floats(batch), rows, true)
	it, tol := l.MeanField.defaults()
	l.Sweeps, _ = p.meanField(mu, rows, it, tol)

	r := rand.New(src)
	chains := l.Chains
	if chains <= 0 {
		chains = 100
	}
	if l.chains == nil || len(l.chains[0]) != chains*p.n[0] || len(l.chains) != len(p.n) {
		l.chains = p.randomStates(chains, r)
	}
	steps := l.GibbsSteps
	if steps <= 0 {
		steps = 5
	}
	buf := make([][]float64, len(p.n))
	for range steps {
		p.gibbsSweep(l.chains, chains, r, buf)
	}
	return l.gradient(mu, l.chains, rows, chains)
}

// dbmProgram is the compiled gradient graph for one pair of batch sizes.
type dbmProgram struct {
	rows, chains int
	params       G.Nodes
	data, model  []*G.Node
	vm           G.VM
	cost         G.Value
}

func (l *DBMLearner) gradient(mu, chains [][]float64, rows, nc int) ([]*tensor.Dense, error) {
	d := l.DBM
	dt := d.Dtype()
	n := d.Sizes()
	if l.prog == nil || l.prog.rows != rows || l.prog.chains != nc {
		if l.prog != nil {
			l.prog.vm.Close()
		}
		g := G.NewGraph()
		pr := &dbmProgram{rows: rows, chains: nc}
		var m graph.DBM
		for i, w := range d.W {
			m.W = append(m.W, G.NewMatrix(g, dt, G.WithShape(w.Shape().Clone()...), G.WithName(fmt.Sprintf("dbm.W%d", i)), G.WithValue(w)))
		}
		for i, b := range d.B {
			m.B = append(m.B, G.NewVector(g, dt, G.WithShape(b.Shape()[0]), G.WithName(fmt.Sprintf("dbm.b%d", i)), G.WithValue(b)))
		}
		for i := range n {
			pr.data = append(pr.data, G.NewMatrix(g, dt, G.WithShape(rows, n[i]), G.WithName(fmt.Sprintf("dbm.data%d", i))))
			pr.model = append(pr.model, G.NewMatrix(g, dt, G.WithShape(nc, n[i]), G.WithName(fmt.Sprintf("dbm.model%d", i))))
		}
		cost, err := graph.DBMCost(m, pr.data, pr.model)
		if err != nil {
			return nil, err
		}
		pr.params = m.Params()
		grads, err := G.Grad(cost, pr.params...)
		if err != nil {
			return nil, errors.Wrap(err, "models: symbolic gradient of the DBM cost")
		}
		roots := append(G.Nodes{G.Read(cost, &pr.cost)}, grads...)
		pr.vm = G.NewTapeMachine(g.SubgraphRoots(roots...), G.BindDualValues(pr.params...), G.WithEngine(ops.Engine()))
		l.prog = pr
	}
	pr := l.prog
	params := l.Params()
	for i, p := range pr.params {
		if err := G.Let(p, params[i]); err != nil {
			return nil, err
		}
	}
	for i := range n {
		if err := G.Let(pr.data[i], denseOf(dt, mu[i], rows, n[i])); err != nil {
			return nil, err
		}
		if err := G.Let(pr.model[i], denseOf(dt, chains[i], nc, n[i])); err != nil {
			return nil, err
		}
	}
	defer pr.vm.Reset()
	if err := pr.vm.RunAll(); err != nil {
		return nil, errors.Wrap(ops.Transparent(err), "models: DBM gradient")
	}
	out := make([]*tensor.Dense, len(pr.params))
	for i, p := range pr.params {
		gv, err := p.Grad()
		if err != nil {
			return nil, errors.Wrapf(err, "models: gradient of %s", p.Name())
		}
		t, ok := gv.(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("models: gradient of %s is not a dense tensor", p.Name())
		}
		out[i] = t.Clone().(*tensor.Dense)
		t.Zero() // the dual values accumulate until zeroed
	}
	return out, nil
}

// Close releases the compiled gradient graph.
func (l *DBMLearner) Close() {
	if l.prog != nil {
		l.prog.vm.Close()
		l.prog = nil
	}
}
