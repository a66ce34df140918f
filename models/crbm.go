package models

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/graph"
	"github.com/ebm-go/ebm/ops"
)

// CRBM is a conditional RBM for time series (Taylor, Hinton & Roweis 2007): the frame v_t (nv) is
// modelled given the Order previous frames u = [v_{t-1}, v_{t-2}, …, v_{t-Order}] (most recent
// first, nu = Order·nv values) through autoregressive weights UV (nu, nv), giving the dynamic
// visible bias b + u·UV, and weights UH (nu, nh), giving the dynamic hidden bias c + u·UH. W is
// (nv, nh), B (nv), C (nh). With LogSigma nil the visible units are Bernoulli (values in [0,1]);
// with LogSigma (nv) they are Gaussian with σ = exp(LogSigma) (fixed unless LearnSigma).
//
// Training: Windows turns sequences into rows [v_t | u_t]; Trainable gives the optim.Model whose
// minibatches are those rows, so the history is fed with every minibatch and CD-k resamples only
// the frame part, the history staying clamped.
type CRBM struct {
	W, B, C, UV, UH *tensor.Dense
	LogSigma        *tensor.Dense
	LearnSigma      bool
	Order           int
	name            string
}

// NewCRBM returns a CRBM with nv visible, nh hidden units and the given order (≥ 1), Bernoulli
// visibles or, with gaussian set, Gaussian ones with σ = 1; W, UV and UH drawn from
// N(0, WeightStd²) with src (in that order), zero biases.
func NewCRBM(nv, nh, order int, gaussian bool, dt tensor.Dtype, src rand.Source) (*CRBM, error) {
	if order < 1 {
		return nil, fmt.Errorf("models: CRBM order %d; want ≥ 1 previous frame", order)
	}
	r, err := NewRBM(nv, nh, dt, src)
	if err != nil {
		return nil, err
	}
	rng := rand.New(src)
	nu := order * nv
	draw := func(rows, cols int) *tensor.Dense {
		v := make([]float64, rows*cols)
		for i := range v {
			v[i] = WeightStd * rng.NormFloat64()
		}
		t := tensor.New(tensor.WithShape(rows, cols), tensor.Of(dt))
		setFloats(t, v)
		return t
	}
	m := &CRBM{W: r.W, B: r.B, C: r.C, UV: draw(nu, nv), UH: draw(nu, nh), Order: order, name: uniqueName("crbm")}
	if gaussian {
		m.LogSigma = tensor.New(tensor.WithShape(nv), tensor.Of(dt))
	}
	return m, nil
}

// Dtype is the model's dtype.
func (m *CRBM) Dtype() tensor.Dtype { return m.W.Dtype() }

// NumVisible is nv, the size of one frame.
func (m *CRBM) NumVisible() int { return m.W.Shape()[0] }

// NumHidden is nh.
func (m *CRBM) NumHidden() int { return m.W.Shape()[1] }

// NumCondition is nu = Order·nv.
func (m *CRBM) NumCondition() int { return m.Order * m.NumVisible() }

// Gaussian reports whether the visible units are Gaussian.
func (m *CRBM) Gaussian() bool { return m.LogSigma != nil }

// Check validates the parameters.
func (m *CRBM) Check() error {
	if err := (&RBM{W: m.W, B: m.B, C: m.C}).Check(); err != nil {
		return err
	}
	nv, nh, nu := m.NumVisible(), m.NumHidden(), m.NumCondition()
	for _, p := range []struct {
		name string
		t    *tensor.Dense
		r, c int
	}{{"UV", m.UV, nu, nv}, {"UH", m.UH, nu, nh}} {
		if p.t == nil || p.t.Shape().Dims() != 2 || p.t.Shape()[0] != p.r || p.t.Shape()[1] != p.c || !p.t.Dtype().Eq(m.Dtype()) {
			return fmt.Errorf("models: CRBM %s must be a (%d, %d) matrix of %v", p.name, p.r, p.c, m.Dtype())
		}
		for i, v := range floats(p.t) {
			if !finite(v) {
				return fmt.Errorf("models: CRBM %s entry %d is %v (non-finite)", p.name, i, v)
			}
		}
	}
	if m.LogSigma != nil && (m.LogSigma.Shape().Dims() != 1 || m.LogSigma.Shape()[0] != nv || !m.LogSigma.Dtype().Eq(m.Dtype())) {
		return fmt.Errorf("models: CRBM LogSigma must be a (%d) vector of %v", nv, m.Dtype())
	}
	return nil
}

// checkFrames validates a frame batch v (N, nv) and its histories u (N, nu).
func (m *CRBM) checkFrames(v, u *tensor.Dense) error {
	if err := m.Check(); err != nil {
		return err
	}
	nv, nu := m.NumVisible(), m.NumCondition()
	if v != nil && v.Shape().Dims() == 2 && v.Shape()[1] == nv+nu {
		return fmt.Errorf("models: the frame batch has %d = %d + %d columns: it looks like [v, u] concatenated; pass the frames (%d columns) and the histories (%d columns) separately", nv+nu, nv, nu, nv, nu)
	}
	if err := datasets.CheckMatrix("frames v", v, nv, m.Dtype()); err != nil {
		return errors.Wrap(err, "models")
	}
	if err := datasets.CheckMatrix("histories u", u, nu, m.Dtype()); err != nil {
		return errors.Wrap(err, "models")
	}
	if v.Shape()[0] != u.Shape()[0] {
		return fmt.Errorf("models: %d frames but %d histories", v.Shape()[0], u.Shape()[0])
	}
	if !m.Gaussian() {
		for name, x := range map[string]*tensor.Dense{"frames v": v, "histories u": u} {
			cols := x.Shape()[1]
			for i, val := range floats(x) {
				if val < 0 || val > 1 {
					return fmt.Errorf("models: %s row %d column %d is %v, outside [0,1]: Bernoulli visible units need values in [0,1]; rescale or use Gaussian visibles", name, i/cols, i%cols, val)
				}
			}
		}
	}
	return nil
}

func (m *CRBM) bindParams(g *G.ExprGraph) graph.CRBM {
	dt := m.Dtype()
	if m.name == "" {
		m.name = uniqueName("crbm")
	}
	p := graph.CRBM{
		W:  G.NewMatrix(g, dt, G.WithShape(m.W.Shape().Clone()...), G.WithName(m.name+".W"), G.WithValue(m.W)),
		B:  G.NewVector(g, dt, G.WithShape(m.NumVisible()), G.WithName(m.name+".b"), G.WithValue(m.B)),
		C:  G.NewVector(g, dt, G.WithShape(m.NumHidden()), G.WithName(m.name+".c"), G.WithValue(m.C)),
		UV: G.NewMatrix(g, dt, G.WithShape(m.UV.Shape().Clone()...), G.WithName(m.name+".UV"), G.WithValue(m.UV)),
		UH: G.NewMatrix(g, dt, G.WithShape(m.UH.Shape().Clone()...), G.WithName(m.name+".UH"), G.WithValue(m.UH)),
	}
	if m.LogSigma != nil {
		p.LogSigma = G.NewVector(g, dt, G.WithShape(m.NumVisible()), G.WithName(m.name+".logsigma"), G.WithValue(m.LogSigma))
	}
	return p
}

// eval runs build on frames v and histories u (validated) and returns its output rows.
func (m *CRBM) eval(v, u *tensor.Dense, build func(p graph.CRBM, v, u *G.Node) (*G.Node, error)) (*tensor.Dense, error) {
	if err := m.checkFrames(v, u); err != nil {
		return nil, err
	}
	x, err := concatColumns(v, u)
	if err != nil {
		return nil, err
	}
	nv := m.NumVisible()
	return runRows(x, m.Dtype(), func(g *G.ExprGraph, x *G.Node) (*G.Node, error) {
		p := m.bindParams(g)
		vv, uu, err := splitColumns(x, nv)
		if err != nil {
			return nil, err
		}
		return build(p, vv, uu)
	})
}

// HiddenProbs returns p(h=1 | v, u) (N, nh) for frames v (N, nv) and histories u (N, nu).
func (m *CRBM) HiddenProbs(v, u *tensor.Dense) (*tensor.Dense, error) {
	return m.eval(v, u, func(p graph.CRBM, v, u *G.Node) (*G.Node, error) { return p.HiddenProbs(v, u) })
}

// FreeEnergy returns F(v | u) (N), nats.
func (m *CRBM) FreeEnergy(v, u *tensor.Dense) (*tensor.Dense, error) {
	return m.eval(v, u, func(p graph.CRBM, v, u *G.Node) (*G.Node, error) { return p.FreeEnergy(v, u) })
}

// ExactLogZ returns log Z(u) for every history row of u (N, nu), Bernoulli visibles only, by
// enumeration of the smaller layer of the RBM with the dynamic biases (see RBM.ExactLogZ).
func (m *CRBM) ExactLogZ(u *tensor.Dense) ([]float64, error) {
	if m.Gaussian() {
		return nil, errors.New("models: CRBM.ExactLogZ supports Bernoulli visibles only")
	}
	nv, nh, nu := m.NumVisible(), m.NumHidden(), m.NumCondition()
	if err := m.checkFrames(tensor.New(tensor.WithShape(u.Shape()[0], nv), tensor.Of(m.Dtype())), u); err != nil {
		return nil, err
	}
	x := floats(u)
	uv, uh, b, c, w := floats(m.UV), floats(m.UH), floats(m.B), floats(m.C), floats(m.W)
	rows := len(x) / nu
	out := make([]float64, rows)
	for r := 0; r < rows; r++ {
		bs, cs := append([]float64(nil), b...), append([]float64(nil), c...)
		for k, uk := range x[r*nu : (r+1)*nu] {
			for i := 0; i < nv; i++ {
				bs[i] += uk * uv[k*nv+i]
			}
			for j := 0; j < nh; j++ {
				cs[j] += uk * uh[k*nh+j]
			}
		}
		rbm, err := NewRBMFromParams(tensor.New(tensor.WithShape(nv, nh), tensor.WithBacking(w)),
			tensor.New(tensor.WithShape(nv), tensor.WithBacking(bs)), tensor.New(tensor.WithShape(nh), tensor.WithBacking(cs)))
		if err != nil {
			return nil, err
		}
		if out[r], err = rbm.ExactLogZ(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Windows turns sequences into training rows: for every sequence s (T, nv) and every t ≥ Order,
// the row [s_t | s_{t-1} … s_{t-Order}] (nv + nu columns). Sequences shorter than Order + 1
// frames are an error.
func (m *CRBM) Windows(seqs ...*tensor.Dense) (*tensor.Dense, error) {
	nv, n := m.NumVisible(), m.Order
	var rows []float64
	for k, s := range seqs {
		if err := datasets.CheckMatrix(fmt.Sprintf("sequence %d", k), s, nv, m.Dtype()); err != nil {
			return nil, errors.Wrap(err, "models")
		}
		x := floats(s)
		T := len(x) / nv
		if T <= n {
			return nil, fmt.Errorf("models: sequence %d has %d frames; a CRBM of order %d needs at least %d", k, T, n, n+1)
		}
		for t := n; t < T; t++ {
			for d := 0; d <= n; d++ {
				rows = append(rows, x[(t-d)*nv:(t-d+1)*nv]...)
			}
		}
	}
	if len(rows) == 0 {
		return nil, errors.New("models: no sequences")
	}
	out := tensor.New(tensor.WithShape(len(rows)/(nv+m.NumCondition()), nv+m.NumCondition()), tensor.Of(m.Dtype()))
	setFloats(out, rows)
	return out, nil
}

// Trainable returns the CRBM as an optim.Model over rows [v | u] (nv + nu columns, as made by
// Windows): its free energy is F(v | u) and its Gibbs step resamples v with u clamped.
func (m *CRBM) Trainable() *CRBMTrainable { return &CRBMTrainable{m: m} }

// CRBMTrainable is the optim.Model view of a CRBM over concatenated rows [v | u].
type CRBMTrainable struct{ m *CRBM }

// Dtype is the CRBM's dtype.
func (t *CRBMTrainable) Dtype() tensor.Dtype { return t.m.Dtype() }

// NumVisible is nv + nu: the columns of a training row.
func (t *CRBMTrainable) NumVisible() int { return t.m.NumVisible() + t.m.NumCondition() }

// CheckData validates training rows: Bernoulli frames and histories in [0,1].
func (t *CRBMTrainable) CheckData(x *tensor.Dense) error {
	if err := datasets.CheckMatrix("data", x, t.NumVisible(), t.Dtype()); err != nil {
		return errors.Wrap(err, "models")
	}
	if !t.m.Gaussian() {
		for i, v := range floats(x) {
			if v < 0 || v > 1 {
				return fmt.Errorf("models: data row %d column %d is %v, outside [0,1]: Bernoulli visible units need values in [0,1]; rescale or use Gaussian visibles", i/t.NumVisible(), i%t.NumVisible(), v)
			}
		}
	}
	return nil
}

// Bind adds the CRBM's parameters to g.
func (t *CRBMTrainable) Bind(g *G.ExprGraph) (graph.EnergyModel, error) {
	if err := t.m.Check(); err != nil {
		return nil, err
	}
	return &boundCRBM{p: t.m.bindParams(g), nv: t.m.NumVisible(), learnSigma: t.m.LearnSigma}, nil
}

type boundCRBM struct {
	p          graph.CRBM
	nv         int
	learnSigma bool
}

func (b *boundCRBM) Params() G.Nodes {
	ps := G.Nodes{b.p.W, b.p.B, b.p.C, b.p.UV, b.p.UH}
	if b.learnSigma && b.p.LogSigma != nil {
		ps = append(ps, b.p.LogSigma)
	}
	return ps
}

func (b *boundCRBM) FreeEnergy(x *G.Node) (*G.Node, error) {
	v, u, err := splitColumns(x, b.nv)
	if err != nil {
		return nil, err
	}
	return b.p.FreeEnergy(v, u)
}

func (b *boundCRBM) step(x *G.Node, src rand.Source, mean bool) (*G.Node, error) {
	v, u, err := splitColumns(x, b.nv)
	if err != nil {
		return nil, err
	}
	next, err := b.p.GibbsStep(v, u, src, mean)
	if err != nil {
		return nil, err
	}
	return G.Concat(1, next, u)
}

func (b *boundCRBM) GibbsStep(x *G.Node, src rand.Source) (*G.Node, error) {
	return b.step(x, src, false)
}

// GibbsStepMean ends a CD chain with the visible mean (refused with a learned σ, see GaussianRBM).
func (b *boundCRBM) GibbsStepMean(x *G.Node, src rand.Source) (*G.Node, error) {
	if b.learnSigma && b.p.LogSigma != nil {
		return nil, errors.New("models: mean-field reconstructions bias a learned σ upward; use sampled reconstructions when LearnSigma is set")
	}
	return b.step(x, src, true)
}

// splitColumns returns columns [0, nv) and [nv, end) of x.
func splitColumns(x *G.Node, nv int) (*G.Node, *G.Node, error) {
	cols := x.Shape()[1]
	if nv <= 0 || nv >= cols {
		return nil, nil, fmt.Errorf("models: cannot split %d columns at %d", cols, nv)
	}
	v, err := G.Slice(x, nil, G.S(0, nv))
	if err != nil {
		return nil, nil, err
	}
	u, err := G.Slice(x, nil, G.S(nv, cols))
	if err != nil {
		return nil, nil, err
	}
	return v, u, nil
}

// concatColumns returns [a | b] for matrices with equal row counts.
func concatColumns(a, b *tensor.Dense) (*tensor.Dense, error) {
	ra, ca, cb := a.Shape()[0], a.Shape()[1], b.Shape()[1]
	x, y := floats(a), floats(b)
	out := make([]float64, 0, ra*(ca+cb))
	for r := 0; r < ra; r++ {
		out = append(out, x[r*ca:(r+1)*ca]...)
		out = append(out, y[r*cb:(r+1)*cb]...)
	}
	t := tensor.New(tensor.WithShape(ra, ca+cb), tensor.Of(a.Dtype()))
	setFloats(t, out)
	return t, nil
}

// Predict returns the mean-field prediction of the next frame for each history row of u (N, nu):
// starting from the most recent frame, it alternates h = E[h | v, u] and v = E[v | h, u] steps
// times (steps ≥ 1) and returns v (N, nv).
func (m *CRBM) Predict(u *tensor.Dense, steps int) (*tensor.Dense, error) {
	if steps < 1 {
		return nil, fmt.Errorf("models: %d mean-field steps; want ≥ 1", steps)
	}
	last, err := m.lastFrames(u)
	if err != nil {
		return nil, err
	}
	return m.eval(last, u, func(p graph.CRBM, v, u *G.Node) (*G.Node, error) {
		for i := 0; i < steps; i++ {
			ph, err := p.HiddenProbs(v, u)
			if err != nil {
				return nil, err
			}
			if v, err = p.VisibleMean(ph, u); err != nil {
				return nil, err
			}
		}
		return v, nil
	})
}

// PredictMean estimates the posterior-mean next frame E[v | u] for each history row of u (N, nu),
// the prediction that minimises squared error: a Gibbs chain with the history clamped starts at
// the most recent frame, runs burn steps, then averages E[v | h, u] over samples further steps
// (samples ≥ 1). Draws come from src. Returns (N, nv).
func (m *CRBM) PredictMean(u *tensor.Dense, burn, samples int, src rand.Source) (*tensor.Dense, error) {
	if burn < 0 || samples < 1 || src == nil {
		return nil, fmt.Errorf("models: PredictMean needs burn ≥ 0, samples ≥ 1 and a rand.Source")
	}
	last, err := m.lastFrames(u)
	if err != nil {
		return nil, err
	}
	return m.eval(last, u, func(p graph.CRBM, v, u *G.Node) (*G.Node, error) {
		var sum *G.Node
		for i := 0; i < burn+samples; i++ {
			ph, err := p.HiddenProbs(v, u)
			if err != nil {
				return nil, err
			}
			h, err := ops.Bernoulli(ph, src)
			if err != nil {
				return nil, err
			}
			mean, err := p.VisibleMean(h, u)
			if err != nil {
				return nil, err
			}
			if i >= burn {
				if sum == nil {
					sum = mean
				} else if sum, err = G.Add(sum, mean); err != nil {
					return nil, err
				}
			}
			if i < burn+samples-1 {
				if v, err = p.GibbsStep(v, u, src, false); err != nil {
					return nil, err
				}
			}
		}
		return graph.Scale(sum, 1/float64(samples))
	})
}

// lastFrames returns the most recent frame of every history row of u (N, nu) as (N, nv).
func (m *CRBM) lastFrames(u *tensor.Dense) (*tensor.Dense, error) {
	nv, nu := m.NumVisible(), m.NumCondition()
	if u == nil || u.Shape().Dims() != 2 || u.Shape()[1] != nu {
		return nil, fmt.Errorf("models: histories must be an (N, %d) matrix", nu)
	}
	last := tensor.New(tensor.WithShape(u.Shape()[0], nv), tensor.Of(m.Dtype()))
	x, l := floats(u), make([]float64, u.Shape()[0]*nv)
	for r := 0; r < u.Shape()[0]; r++ {
		copy(l[r*nv:], x[r*nu:r*nu+nv])
	}
	setFloats(last, l)
	return last, nil
}

// Generate produces frames new frames one after another from a starting history (Order, nv),
// most recent frame LAST (chronological order): each frame runs gibbs ≥ 1 Gibbs steps with the
// history clamped, starting from the previous frame, and keeps the final visible mean; the
// history then shifts. Draws come from src. Returns (frames, nv).
func (m *CRBM) Generate(history *tensor.Dense, frames, gibbs int, src rand.Source) (*tensor.Dense, error) {
	nv, n := m.NumVisible(), m.Order
	if err := datasets.CheckMatrix("history", history, nv, m.Dtype()); err != nil {
		return nil, errors.Wrap(err, "models")
	}
	if history.Shape()[0] != n {
		return nil, fmt.Errorf("models: history has %d frames; the CRBM has order %d", history.Shape()[0], n)
	}
	if frames < 1 || gibbs < 1 || src == nil {
		return nil, fmt.Errorf("models: Generate needs frames ≥ 1, gibbs ≥ 1 and a rand.Source")
	}
	past := append([]float64(nil), floats(history)...) // chronological
	var out []float64
	for f := 0; f < frames; f++ {
		T := len(past) / nv
		u := make([]float64, 0, n*nv)
		for d := 1; d <= n; d++ {
			u = append(u, past[(T-d)*nv:(T-d+1)*nv]...)
		}
		ut := tensor.New(tensor.WithShape(1, n*nv), tensor.Of(m.Dtype()))
		setFloats(ut, u)
		vt := tensor.New(tensor.WithShape(1, nv), tensor.Of(m.Dtype()))
		setFloats(vt, u[:nv])
		next, err := m.eval(vt, ut, func(p graph.CRBM, v, u *G.Node) (*G.Node, error) {
			for i := 0; i < gibbs-1; i++ {
				var err error
				if v, err = p.GibbsStep(v, u, src, false); err != nil {
					return nil, err
				}
			}
			return p.GibbsStep(v, u, src, true)
		})
		if err != nil {
			return nil, err
		}
		frame := floats(next)
		for _, x := range frame {
			if math.IsNaN(x) {
				return nil, fmt.Errorf("models: generated frame %d is not finite", f)
			}
		}
		out = append(out, frame...)
		past = append(past, frame...)
	}
	t := tensor.New(tensor.WithShape(frames, nv), tensor.Of(m.Dtype()))
	setFloats(t, out)
	return t, nil
}
