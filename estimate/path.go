package estimate

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ebm-go/ebm/ops"
)

// BernoulliPath is the annealing path of Salakhutdinov & Murray (2008) from a base-rate model to
// a Bernoulli RBM p_B (biases b_B, c, weights W). The base model p_A has visible biases b_A,
// zero weights and nh hidden units with zero biases, so log Z_A = Σ_i softplus(b_A,i) + nh·log 2,
// and the intermediate distributions over v (hidden units summed out) are
//
//	f_β(v) = exp((1-β)·b_Aᵀv + β·b_Bᵀv) · Π_j (1 + exp(β·(c_j + (vW)_j))),
//
// the marginal of p_β(v,h) ∝ exp((1-β)·b_Aᵀv + β·(b_Bᵀv + cᵀh + vᵀWh)): the energies are
// interpolated and the target's hidden units are scaled by β. The transition at β is one block
// Gibbs sweep v → h → v' of p_β (h_j ~ σ(β(c_j + (vW)_j)), v'_i ~ σ((1-β)b_A,i + β(b_B,i + (Wh)_i))),
// which is reversible with respect to p_β(v).
//
// Sampled states are binary, so vW and Wh are sums of the rows of W (or Wᵀ) picked by the ones
// (or, when ones are the majority, the row total minus the rows picked by the zeros).
type BernoulliPath struct {
	m            *BernoulliRBM
	baseB, db    []float64 // b_A, b_B - b_A
	pA           []float64 // σ(b_A)
	wt           []float64 // Wᵀ (nh, nv)
	wSum, wtSum  []float64 // Σ_i W_i (nh), Σ_j Wᵀ_j (nv)
	logZA        float64
	nv, nh, size int
}

// NewBernoulliPath returns the annealing path from the base-rate model with visible biases base
// (length nv; nil means all zero, the uniform distribution) to m. Use BaseRateBiases(train) for
// the base-rate model of Salakhutdinov & Murray, which makes AIS far more accurate than a uniform
// start. Errors: nil model, wrong length, non-finite bias.
func NewBernoulliPath(m *BernoulliRBM, base []float64) (*BernoulliPath, error) {
	if m == nil {
		return nil, errors.New("estimate: nil RBM for the annealing path")
	}
	nv, nh := m.nv, m.nh
	if base == nil {
		base = make([]float64, nv)
	}
	if len(base) != nv {
		return nil, fmt.Errorf("estimate: base-rate biases have length %d; the RBM has %d visible units", len(base), nv)
	}
	p := &BernoulliPath{m: m, nv: nv, nh: nh, baseB: append([]float64(nil), base...),
		db: make([]float64, nv), pA: make([]float64, nv), wt: make([]float64, nv*nh),
		wSum: make([]float64, nh), wtSum: make([]float64, nv)}
	p.logZA = float64(nh) * math.Ln2
	for i, b := range base {
		if math.IsNaN(b) || math.IsInf(b, 0) {
			return nil, fmt.Errorf("estimate: base-rate bias %d is %v; clip the data means (see BaseRateBiases)", i, b)
		}
		p.db[i] = m.b[i] - b
		p.pA[i] = ops.Sigmoid64(b)
		p.logZA += ops.Softplus64(b)
	}
	for i := 0; i < nv; i++ {
		for j, w := range m.w[i*nh : (i+1)*nh] {
			p.wt[j*nv+i] = w
			p.wSum[j] += w
			p.wtSum[i] += w
		}
	}
	return p, nil
}

// NumVisible is nv.
func (p *BernoulliPath) NumVisible() int { return p.nv }

// LogZBase is log Z_A = Σ_i softplus(b_A,i) + nh·log 2.
func (p *BernoulliPath) LogZBase() float64 { return p.logZA }

// NewChain returns a chain over v ∈ {0,1}^nv drawing from src.
func (p *BernoulliPath) NewChain(src rand.Source) Chain {
	c := &bernoulliChain{p: p, rng: rand.New(src), v: make([]float64, p.nv), h: make([]bool, p.nh),
		on: make([]int, 0, max(p.nv, p.nh)), off: make([]int, 0, max(p.nv, p.nh)), flips: make([]int, 0, max(p.nv, p.nh)),
		a: make([]float64, p.nh), absA: make([]float64, p.nh), hsum: make([]float64, p.nv)}
	for s := range c.cache {
		c.cache[s].e = make([]float64, p.nh)
	}
	return c
}

type bernoulliChain struct {
	p       *BernoulliPath
	rng     *rand.Rand
	v       []float64 // visible state, 0 or 1
	h       []bool    // last hidden sample; hsum = Σ_{h_j} Wᵀ_j when hValid
	hValid  bool
	on, off []int   // scratch lists of unit indices
	flips   []int   // units that changed in the last draw
	bav     float64 // b_Aᵀv
	dbv     float64 // (b_B - b_A)ᵀv
	a, absA []float64
	pos     float64 // Σ_j max(a_j, 0)
	// exp(-β|a_j|) for the last two β values asked for.
	cache [2]struct {
		beta  float64
		valid bool
		e     []float64
	}
	slot           int
	hsum           []float64
	staleA, staleH int // incremental updates of a / hsum since they were last computed from scratch
}

// refreshEvery bounds the number of incremental row updates of vW and Wh between two computations
// from scratch, which bounds their rounding drift.
const refreshEvery = 128

// addRow adds row to dst (same length).
func addRow(dst, row []float64) {
	row = row[:len(dst)]
	i := 0
	for ; i+3 < len(dst); i += 4 {
		dst[i] += row[i]
		dst[i+1] += row[i+1]
		dst[i+2] += row[i+2]
		dst[i+3] += row[i+3]
	}
	for ; i < len(dst); i++ {
		dst[i] += row[i]
	}
}

// subRow subtracts row from dst (same length).
func subRow(dst, row []float64) {
	row = row[:len(dst)]
	i := 0
	for ; i+3 < len(dst); i += 4 {
		dst[i] -= row[i]
		dst[i+1] -= row[i+1]
		dst[i+2] -= row[i+2]
		dst[i+3] -= row[i+3]
	}
	for ; i < len(dst); i++ {
		dst[i] -= row[i]
	}
}

// settle recomputes everything derived from v from scratch.
func (c *bernoulliChain) settle() {
	p := c.p
	c.on, c.off = c.on[:0], c.off[:0]
	for i, x := range c.v {
		if x == 1 {
			c.on = append(c.on, i)
		} else {
			c.off = append(c.off, i)
		}
	}
	w := p.m.w
	if len(c.on) <= len(c.off) {
		copy(c.a, p.m.c)
		for _, i := range c.on {
			addRow(c.a, w[i*p.nh:(i+1)*p.nh])
		}
	} else {
		copy(c.a, p.wSum)
		for _, i := range c.off {
			subRow(c.a, w[i*p.nh:(i+1)*p.nh])
		}
		addRow(c.a, p.m.c)
	}
	c.staleA = 0
	c.hValid = false
	c.derive()
}

// derive recomputes b_Aᵀv, (b_B-b_A)ᵀv, |a|, Σ max(a,0) and clears the exp cache.
func (c *bernoulliChain) derive() {
	p := c.p
	c.bav, c.dbv = 0, 0
	for _, i := range c.on {
		c.bav += p.baseB[i]
		c.dbv += p.db[i]
	}
	c.pos = 0
	for j, x := range c.a {
		c.pos += max(x, 0)
		c.absA[j] = math.Abs(x)
	}
	c.cache[0].valid, c.cache[1].valid = false, false
}

// expNeg returns exp(-β|a_j|) for the current state, computing it unless one of the two cache
// slots holds it; a new value goes into the slot not filled last.
func (c *bernoulliChain) expNeg(beta float64) []float64 {
	for s := range c.cache {
		if c.cache[s].valid && c.cache[s].beta == beta {
			return c.cache[s].e
		}
	}
	c.slot ^= 1
	s := &c.cache[c.slot]
	s.beta, s.valid = beta, true
	e := s.e[:len(c.absA)]
	for j, x := range c.absA {
		e[j] = math.Exp(-beta * x)
	}
	return s.e
}

func (c *bernoulliChain) SampleBase() {
	for i, q := range c.p.pA {
		c.v[i] = 0
		if c.rng.Float64() < q {
			c.v[i] = 1
		}
	}
	c.settle()
}

func (c *bernoulliChain) SetVisible(v []float64) error {
	if len(v) != len(c.v) {
		return fmt.Errorf("start row has %d values; the RBM has %d visible units", len(v), len(c.v))
	}
	for i, x := range v {
		if x != 0 && x != 1 {
			return fmt.Errorf("column %d is %v; Bernoulli visible states must be 0 or 1 (binarise the data)", i, x)
		}
	}
	copy(c.v, v)
	c.settle()
	return nil
}

func (c *bernoulliChain) LogUnnormalized(beta float64) float64 {
	f := c.bav + beta*c.dbv
	for _, x := range c.a {
		f += ops.Softplus64(beta * x)
	}
	return f
}

// LogRatio is (to-from)·((b_B-b_A)ᵀv + Σ_j max(a_j,0)) + Σ_j log[(1+exp(-to|a_j|)) / (1+exp(-from|a_j|))],
// using softplus(βa) = β·max(a,0) + log(1+exp(-β|a|)) for β ≥ 0; the logs of the factors in
// (1, 2] are taken once per productBlock units.
func (c *bernoulliChain) LogRatio(from, to float64) float64 {
	r := (to - from) * (c.dbv + c.pos)
	ef := c.expNeg(from)
	et := c.expNeg(to)
	ef = ef[:len(et)]
	for lo := 0; lo < len(et); lo += productBlock {
		hi := min(lo+productBlock, len(et))
		pf, pt := 1.0, 1.0
		for j := lo; j < hi; j++ {
			pf *= 1 + ef[j]
			pt *= 1 + et[j]
		}
		r += math.Log(pt / pf)
	}
	return r
}

// Transition draws h ~ p_β(h|v), then v ~ p_β(v|h). Wh and vW are updated by the rows of the
// units that changed when those are fewer than the rows a computation from scratch needs.
func (c *bernoulliChain) Transition(beta float64) {
	p := c.p
	e := c.expNeg(beta)
	e = e[:len(c.a)]
	h := c.h[:len(c.a)]
	c.on, c.off, c.flips = c.on[:0], c.off[:0], c.flips[:0]
	for j, x := range c.a {
		// σ(βa) = 1/(1+e) for a ≥ 0, e/(1+e) for a < 0, with e = exp(-β|a|).
		q := 1 / (1 + e[j])
		if x < 0 {
			q *= e[j]
		}
		hj := c.rng.Float64() < q
		if hj {
			c.on = append(c.on, j)
		} else {
			c.off = append(c.off, j)
		}
		if hj != h[j] {
			c.flips = append(c.flips, j)
			h[j] = hj
		}
	}
	nv := p.nv
	switch {
	case c.hValid && c.staleH < refreshEvery && len(c.flips) < min(len(c.on), len(c.off)):
		for _, j := range c.flips {
			if h[j] {
				addRow(c.hsum, p.wt[j*nv:(j+1)*nv])
			} else {
				subRow(c.hsum, p.wt[j*nv:(j+1)*nv])
			}
		}
		c.staleH++
	case len(c.on) <= len(c.off):
		clear(c.hsum)
		for _, j := range c.on {
			addRow(c.hsum, p.wt[j*nv:(j+1)*nv])
		}
		c.hValid, c.staleH = true, 0
	default:
		copy(c.hsum, p.wtSum)
		for _, j := range c.off {
			subRow(c.hsum, p.wt[j*nv:(j+1)*nv])
		}
		c.hValid, c.staleH = true, 0
	}
	hs := c.hsum[:len(c.v)]
	base, db := p.baseB[:len(c.v)], p.db[:len(c.v)]
	c.on, c.off, c.flips = c.on[:0], c.off[:0], c.flips[:0]
	for i, old := range c.v {
		// p_β(v_i = 1 | h) = σ((1-β)b_A,i + β(b_B,i + (Wh)_i)) = σ(b_A,i + β(b_B,i - b_A,i + (Wh)_i)),
		// and u < σ(y) ⇔ u·(1 + exp(-y)) < 1.
		y := base[i] + beta*(db[i]+hs[i])
		x := 0.0
		if c.rng.Float64()*(1+math.Exp(-y)) < 1 {
			x = 1
			c.on = append(c.on, i)
		} else {
			c.off = append(c.off, i)
		}
		if x != old {
			c.flips = append(c.flips, i)
			c.v[i] = x
		}
	}
	nh := p.nh
	w := p.m.w
	switch {
	case c.staleA < refreshEvery && len(c.flips) < min(len(c.on), len(c.off)):
		for _, i := range c.flips {
			if c.v[i] == 1 {
				addRow(c.a, w[i*nh:(i+1)*nh])
			} else {
				subRow(c.a, w[i*nh:(i+1)*nh])
			}
		}
		c.staleA++
	case len(c.on) <= len(c.off):
		copy(c.a, p.m.c)
		for _, i := range c.on {
			addRow(c.a, w[i*nh:(i+1)*nh])
		}
		c.staleA = 0
	default:
		copy(c.a, p.wSum)
		for _, i := range c.off {
			subRow(c.a, w[i*nh:(i+1)*nh])
		}
		addRow(c.a, p.m.c)
		c.staleA = 0
	}
	c.derive()
}
