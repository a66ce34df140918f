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

// BM is a Boltzmann machine (Ackley, Hinton & Sejnowski 1985) over n = nv + nh binary units
// s ∈ {0,1}^n, the first nv visible and the rest hidden, with energy
//
//	E(s) = -½ sᵀWs - bᵀs = -Σ_{i<j} W_ij s_i s_j - Σ_i b_i s_i.
//
// The couplings are parameterised so that W is symmetric with a zero diagonal by construction: U
// is an (n, n) matrix of which only the strictly upper triangle is used (entries allowed by the
// connectivity mask), and W = (U⊙T) + (U⊙T)ᵀ for the mask T. Everything else in U is ignored
// and never updated. B (n) holds the biases. A BM computes in float64.
//
// With the bipartite mask of BipartiteMask a BM is an RBM; with nh = 0 it is any quadratic
// binary energy, which Anneal minimises.
type BM struct {
	U, B *tensor.Dense
	nv   int
	mask []bool // (n×n) row-major, true where i < j and units i, j are connected
	name string
}

// NewBM returns a fully connected BM with nv visible and nh hidden units (nv ≥ 1, nh ≥ 0),
// couplings drawn from N(0, WeightStd²) with src (row by row over the upper triangle) and zero
// biases.
func NewBM(nv, nh int, src rand.Source) (*BM, error) {
	if nv < 1 || nh < 0 {
		return nil, fmt.Errorf("models: BM needs ≥ 1 visible and ≥ 0 hidden units, got %d and %d", nv, nh)
	}
	if src == nil {
		return nil, errors.New("models: nil rand.Source for the initial couplings")
	}
	n := nv + nh
	m := &BM{U: tensor.New(tensor.WithShape(n, n), tensor.Of(tensor.Float64)), B: tensor.New(tensor.WithShape(n), tensor.Of(tensor.Float64)),
		nv: nv, mask: fullMask(n), name: uniqueName("bm")}
	rng := rand.New(src)
	u := m.U.Data().([]float64)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			u[i*n+j] = WeightStd * rng.NormFloat64()
		}
	}
	return m, nil
}

// NewBMFromCouplings returns a fully connected BM with nv visible units, couplings w (n×n
// row-major, symmetric, zero diagonal) and biases b (n). Asymmetric w, a non-zero diagonal or a
// non-finite value is an error.
func NewBMFromCouplings(nv int, w, b []float64) (*BM, error) {
	n := len(b)
	if n < 1 || nv < 1 || nv > n {
		return nil, fmt.Errorf("models: BM with %d units cannot have %d visible units", n, nv)
	}
	if len(w) != n*n {
		return nil, fmt.Errorf("models: couplings have %d entries; want %d×%d = %d", len(w), n, n, n*n)
	}
	for i := 0; i < n; i++ {
		if !finite(b[i]) {
			return nil, fmt.Errorf("models: bias %d is %v (non-finite)", i, b[i])
		}
		if w[i*n+i] != 0 {
			return nil, fmt.Errorf("models: coupling W[%d][%d] = %v; a Boltzmann machine has no self-couplings", i, i, w[i*n+i])
		}
		for j := i + 1; j < n; j++ {
			if !finite(w[i*n+j]) {
				return nil, fmt.Errorf("models: coupling W[%d][%d] is %v (non-finite)", i, j, w[i*n+j])
			}
			if w[i*n+j] != w[j*n+i] {
				return nil, fmt.Errorf("models: couplings are not symmetric: W[%d][%d] = %v, W[%d][%d] = %v", i, j, w[i*n+j], j, i, w[j*n+i])
			}
		}
	}
	u := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			u[i*n+j] = w[i*n+j]
		}
	}
	return &BM{U: tensor.New(tensor.WithShape(n, n), tensor.WithBacking(u)), B: tensor.New(tensor.WithShape(n), tensor.WithBacking(append([]float64(nil), b...))),
		nv: nv, mask: fullMask(n), name: uniqueName("bm")}, nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func fullMask(n int) []bool {
	m := make([]bool, n*n)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			m[i*n+j] = true
		}
	}
	return m
}

// BipartiteMask returns the connectivity of an RBM with nv visible and nh hidden units: only
// visible–hidden pairs are connected. Pass it to SetMask.
func BipartiteMask(nv, nh int) [][]bool {
	n := nv + nh
	c := make([][]bool, n)
	for i := range c {
		c[i] = make([]bool, n)
		for j := range c[i] {
			c[i][j] = (i < nv) != (j < nv)
		}
	}
	return c
}

// SetMask restricts the couplings to the pairs connected[i][j] (an n×n symmetric table; the
// diagonal is ignored). Couplings of disconnected pairs are set to 0 and stay 0.
func (m *BM) SetMask(connected [][]bool) error {
	n := m.Size()
	if len(connected) != n {
		return fmt.Errorf("models: mask has %d rows; the BM has %d units", len(connected), n)
	}
	mask := make([]bool, n*n)
	u := m.U.Data().([]float64)
	for i := 0; i < n; i++ {
		if len(connected[i]) != n {
			return fmt.Errorf("models: mask row %d has %d entries; want %d", i, len(connected[i]), n)
		}
		for j := i + 1; j < n; j++ {
			if connected[i][j] != connected[j][i] {
				return fmt.Errorf("models: mask is not symmetric at (%d, %d)", i, j)
			}
			mask[i*n+j] = connected[i][j]
		}
	}
	for k, keep := range mask {
		if !keep {
			u[k] = 0
		}
	}
	m.mask = mask
	return nil
}

// Size is the number of units n.
func (m *BM) Size() int { return m.B.Shape()[0] }

// NumVisible is the number of visible units (the first ones).
func (m *BM) NumVisible() int { return m.nv }

// NumHidden is the number of hidden units.
func (m *BM) NumHidden() int { return m.Size() - m.nv }

// Couplings returns the symmetric coupling matrix W (n×n, row-major, zero diagonal).
func (m *BM) Couplings() []float64 {
	n := m.Size()
	u := m.U.Data().([]float64)
	w := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			if m.mask[i*n+j] {
				w[i*n+j], w[j*n+i] = u[i*n+j], u[i*n+j]
			}
		}
	}
	return w
}

// check validates the parameters.
func (m *BM) check() error {
	if m == nil || m.U == nil || m.B == nil {
		return errors.New("models: BM needs U and B")
	}
	n := m.Size()
	if !m.U.Dtype().Eq(tensor.Float64) || !m.B.Dtype().Eq(tensor.Float64) {
		return errors.New("models: a BM computes in float64; U and B must be Float64")
	}
	if s := m.U.Shape(); s.Dims() != 2 || s[0] != n || s[1] != n {
		return fmt.Errorf("models: BM U must be (%d, %d), has %v", n, n, s)
	}
	for i, v := range m.Couplings() {
		if !finite(v) {
			return fmt.Errorf("models: BM coupling %d is %v (non-finite)", i, v)
		}
	}
	for i, v := range m.B.Data().([]float64) {
		if !finite(v) {
			return fmt.Errorf("models: BM bias %d is %v (non-finite)", i, v)
		}
	}
	return nil
}

// BoundBM holds a BM's nodes in one graph: the free parameters U and B, the constant mask T and
// the symmetric couplings W = (U⊙T) + (U⊙T)ᵀ built from them.
type BoundBM struct {
	U, T, B, W *G.Node
}

// Bind adds the BM to g: U and B alias the model's tensors.
func (m *BM) Bind(g *G.ExprGraph) (*BoundBM, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	n := m.Size()
	t := make([]float64, n*n)
	for k, keep := range m.mask {
		if keep {
			t[k] = 1
		}
	}
	b := &BoundBM{
		U: G.NewMatrix(g, tensor.Float64, G.WithShape(n, n), G.WithName(m.name+".U"), G.WithValue(m.U)),
		T: G.NewConstant(tensor.New(tensor.WithShape(n, n), tensor.WithBacking(t)), G.WithName(m.name+".mask")),
		B: G.NewVector(g, tensor.Float64, G.WithShape(n), G.WithName(m.name+".b"), G.WithValue(m.B)),
	}
	w, err := graph.SymmetricCouplings(b.U, b.T)
	if err != nil {
		return nil, err
	}
	b.W = w
	return b, nil
}

// Energy returns E(s) (batch) for states s (batch, n) as a graph node.
func (b *BoundBM) Energy(s *G.Node) (*G.Node, error) { return graph.QuadraticEnergy(b.W, b.B, s) }

// checkStates verifies a (rows, n) float64 matrix of binary states.
func (m *BM) checkStates(name string, s *tensor.Dense, cols int) ([]float64, int, error) {
	if err := datasets.CheckMatrix(name, s, cols, tensor.Float64); err != nil {
		return nil, 0, errors.Wrap(err, "models")
	}
	x := s.Data().([]float64)
	for i, v := range x {
		if v != 0 && v != 1 {
			return nil, 0, fmt.Errorf("models: %s row %d column %d is %v; Boltzmann-machine states are 0 or 1", name, i/cols, i%cols, v)
		}
	}
	return x, len(x) / cols, nil
}

// Energies returns E(s) for every row of states (batch, n), in plain Go.
func (m *BM) Energies(states *tensor.Dense) ([]float64, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	n := m.Size()
	x, rows, err := m.checkStates("states", states, n)
	if err != nil {
		return nil, err
	}
	w, b := m.Couplings(), m.B.Data().([]float64)
	out := make([]float64, rows)
	for r := range out {
		out[r] = quadEnergy(w, b, x[r*n:(r+1)*n])
	}
	return out, nil
}

func quadEnergy(w, b, s []float64) float64 {
	n := len(s)
	e := 0.0
	for i, si := range s {
		if si == 0 {
			continue
		}
		e -= b[i]
		for j := i + 1; j < n; j++ {
			e -= w[i*n+j] * s[j]
		}
	}
	return e
}

// Gibbs runs sweeps sequential Gibbs sweeps at inverse temperature beta (β = 1/T > 0, finite) on
// every row of states (chains, n), in place: each sweep visits the unclamped units in index order
// and sets s_i = 1 with probability σ(β·(b_i + Σ_j W_ij s_j)). clamp (n entries, or nil) marks
// units that keep their values. Draws come from src in a fixed order.
func (m *BM) Gibbs(states *tensor.Dense, sweeps int, beta float64, clamp []bool, src rand.Source) error {
	if sweeps < 0 {
		return fmt.Errorf("models: %d Gibbs sweeps; want ≥ 0", sweeps)
	}
	return m.run(states, constBetas(beta, sweeps), clamp, src, nil)
}

func constBetas(beta float64, n int) []float64 {
	b := make([]float64, n)
	for i := range b {
		b[i] = beta
	}
	return b
}

// run performs one sweep per entry of betas on every chain; when best is not nil it records the
// lowest-energy state of each chain seen after any sweep.
func (m *BM) run(states *tensor.Dense, betas []float64, clamp []bool, src rand.Source, best *annealBest) error {
	if err := m.check(); err != nil {
		return err
	}
	if src == nil {
		return errors.New("models: nil rand.Source for Gibbs sampling")
	}
	n := m.Size()
	if clamp != nil && len(clamp) != n {
		return fmt.Errorf("models: clamp has %d entries; the BM has %d units", len(clamp), n)
	}
	for k, b := range betas {
		if !(b > 0) || math.IsInf(b, 0) {
			return fmt.Errorf("models: inverse temperature %v at sweep %d; want a finite β > 0 (temperature T > 0)", b, k)
		}
	}
	x, rows, err := m.checkStates("states", states, n)
	if err != nil {
		return err
	}
	w, b := m.Couplings(), m.B.Data().([]float64)
	rng := rand.New(src)
	field := make([]float64, n)
	for r := 0; r < rows; r++ {
		s := x[r*n : (r+1)*n]
		// Local fields f_i = b_i + Σ_j W_ij s_j, updated when a unit changes.
		for i := range field {
			f := b[i]
			for j, sj := range s {
				f += w[i*n+j] * sj
			}
			field[i] = f
		}
		e := quadEnergy(w, b, s)
		if best != nil {
			best.offer(r, s, e)
		}
		for _, beta := range betas {
			for i := 0; i < n; i++ {
				if clamp != nil && clamp[i] {
					continue
				}
				v := 0.0
				if rng.Float64() < ops.Sigmoid64(beta*field[i]) {
					v = 1
				}
				if d := v - s[i]; d != 0 {
					e -= d * field[i]
					s[i] = v
					for j := 0; j < n; j++ {
						field[j] += d * w[j*n+i]
					}
				}
			}
			if best != nil {
				best.offer(r, s, e)
			}
		}
		if best != nil {
			// Greedy quench (the T → 0 limit): flip any unit that lowers the energy until none does.
			for changed := true; changed; {
				changed = false
				for i := 0; i < n; i++ {
					if clamp != nil && clamp[i] {
						continue
					}
					if v := stepFn(field[i], s[i]); v != s[i] {
						d := v - s[i]
						e -= d * field[i]
						s[i] = v
						for j := 0; j < n; j++ {
							field[j] += d * w[j*n+i]
						}
						changed = true
					}
				}
			}
			best.offer(r, s, e)
		}
	}
	return nil
}

// stepFn is the zero-temperature update: on when the field is positive, off when negative,
// unchanged at zero.
func stepFn(field, cur float64) float64 {
	switch {
	case field > 0:
		return 1
	case field < 0:
		return 0
	}
	return cur
}

type annealBest struct {
	n      int
	states []float64
	energy []float64
}

func (a *annealBest) offer(r int, s []float64, e float64) {
	if e < a.energy[r] {
		a.energy[r] = e
		copy(a.states[r*a.n:(r+1)*a.n], s)
	}
}

// AnnealSchedule gives the inverse temperatures β_1..β_K of simulated annealing (one sweep each).
type AnnealSchedule interface {
	Betas() ([]float64, error)
}

// GeometricSchedule lowers the temperature geometrically from TStart to TEnd over Steps sweeps
// (Kirkpatrick, Gelatt & Vecchi 1983). Both temperatures must be finite and > 0, Steps ≥ 1.
type GeometricSchedule struct {
	TStart, TEnd float64
	Steps        int
}

// Betas returns 1/T_k for T_k = TStart·(TEnd/TStart)^(k/(Steps-1)).
func (g GeometricSchedule) Betas() ([]float64, error) {
	if err := checkTemps(g.TStart, g.TEnd, g.Steps); err != nil {
		return nil, err
	}
	b := make([]float64, g.Steps)
	for k := range b {
		f := 1.0
		if g.Steps > 1 {
			f = float64(k) / float64(g.Steps-1)
		}
		b[k] = 1 / (g.TStart * math.Pow(g.TEnd/g.TStart, f))
	}
	return b, nil
}

// LinearSchedule lowers the temperature linearly from TStart to TEnd over Steps sweeps.
type LinearSchedule struct {
	TStart, TEnd float64
	Steps        int
}

// Betas returns 1/T_k for T_k = TStart + (TEnd-TStart)·k/(Steps-1).
func (l LinearSchedule) Betas() ([]float64, error) {
	if err := checkTemps(l.TStart, l.TEnd, l.Steps); err != nil {
		return nil, err
	}
	b := make([]float64, l.Steps)
	for k := range b {
		f := 1.0
		if l.Steps > 1 {
			f = float64(k) / float64(l.Steps-1)
		}
		b[k] = 1 / (l.TStart + (l.TEnd-l.TStart)*f)
	}
	return b, nil
}

// Temperatures is a custom schedule: one sweep at each listed temperature (each finite, > 0).
type Temperatures []float64

// Betas returns 1/T for every listed T.
func (t Temperatures) Betas() ([]float64, error) {
	if len(t) == 0 {
		return nil, errors.New("models: empty annealing schedule")
	}
	b := make([]float64, len(t))
	for k, T := range t {
		if !(T > 0) || math.IsInf(T, 0) {
			return nil, fmt.Errorf("models: temperature %v at step %d; want a finite T > 0 (T = 0 is the greedy quench Anneal always ends with)", T, k)
		}
		b[k] = 1 / T
	}
	return b, nil
}

func checkTemps(t0, t1 float64, steps int) error {
	if steps < 1 {
		return fmt.Errorf("models: annealing schedule with %d steps; want ≥ 1", steps)
	}
	for _, T := range []float64{t0, t1} {
		if !(T > 0) || math.IsInf(T, 0) {
			return fmt.Errorf("models: temperature %v; want a finite T > 0 (T = 0 is the greedy quench Anneal always ends with)", T)
		}
	}
	return nil
}

// DefaultSchedule returns a geometric schedule over steps sweeps from the temperature of the
// largest possible energy change of one unit, max_i(|b_i| + Σ_j |W_ij|), down to 1/1000 of it.
// For a model with all parameters 0 (no energy gap at all) it uses T from 1 to 0.001 rather than
// dividing by zero (case B27).
func (m *BM) DefaultSchedule(steps int) GeometricSchedule {
	n := m.Size()
	w, b := m.Couplings(), m.B.Data().([]float64)
	top := 0.0
	for i := 0; i < n; i++ {
		s := math.Abs(b[i])
		for j := 0; j < n; j++ {
			s += math.Abs(w[i*n+j])
		}
		top = math.Max(top, s)
	}
	if top == 0 || !finite(top) {
		top = 1
	}
	return GeometricSchedule{TStart: top, TEnd: top / 1000, Steps: steps}
}

// Anneal runs simulated annealing on every row of states (chains, n) in place: one Gibbs sweep per
// schedule step at the step's temperature, then a greedy zero-temperature quench (flip any unit
// that lowers the energy until none does). It returns, per chain, the lowest-energy state seen
// (chains, n) and its energy. clamp (n entries, or nil) fixes units, for pattern completion.
func (m *BM) Anneal(states *tensor.Dense, sched AnnealSchedule, clamp []bool, src rand.Source) (*tensor.Dense, []float64, error) {
	if sched == nil {
		return nil, nil, errors.New("models: nil annealing schedule")
	}
	betas, err := sched.Betas()
	if err != nil {
		return nil, nil, err
	}
	n := m.Size()
	if states == nil || states.Shape().Dims() != 2 {
		return nil, nil, errors.New("models: annealing needs a (chains, n) matrix of start states")
	}
	rows := states.Shape()[0]
	best := &annealBest{n: n, states: make([]float64, rows*n), energy: make([]float64, rows)}
	for r := range best.energy {
		best.energy[r] = math.Inf(1)
	}
	if err := m.run(states, betas, clamp, src, best); err != nil {
		return nil, nil, err
	}
	return tensor.New(tensor.WithShape(rows, n), tensor.WithBacking(best.states)), best.energy, nil
}
