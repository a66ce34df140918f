package estimate

import (
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"

	"gorgonia.org/tensor"
)

// MaxExactUnits bounds the number of binary units ExactLogZ enumerates (2^MaxExactUnits states).
// The cost is 2^n times the size of the layer summed out analytically: for a 784×20 RBM
// (2^20 states) about a second on two cores; each further unit doubles it.
const MaxExactUnits = 26

// Enumerable is a model whose partition function is a sum over the 2^n joint states of n binary
// units, every other unit summed (or, for real-valued units, integrated) out analytically:
//
//	log Z = log Σ_{s ∈ {0,1}^n} p*(s),   log p*(s) = log Σ_{rest} exp(-E(s, rest)).
//
// *BernoulliRBM enumerates its smaller layer. A Gaussian–Bernoulli RBM enumerates its hidden layer
// with log p*(h) = (nv/2) log 2π + Σ_i log σ_i + cᵀh + Σ_i (b_i/σ_i)(Wh)_i + |Wh|²/2.
type Enumerable interface {
	// EnumeratedUnits returns n, the number of binary units whose states are enumerated.
	EnumeratedUnits() int
	// NewWalker returns a Walker over those states that shares no mutable state with any other
	// walker (ExactLogZ runs one per goroutine).
	NewWalker() Walker
}

// Walker visits the states of an Enumerable's enumerated units one flip at a time.
type Walker interface {
	// Reset puts the walker at the state whose unit j is bit j of s. Until the next Reset only
	// units j < free are flipped, so a walker may precompute what those flips need.
	Reset(s uint64, free int)
	// Flip toggles unit j.
	Flip(j int)
	// LogUnnormalized returns log p*(s) for the current state s, in nats.
	LogUnnormalized() float64
}

// chunkBits is the number of low bits enumerated by one Gray-code walk between two Resets; a chunk
// of 2^chunkBits states is the unit of parallel work.
const chunkBits = 10

// ExactLogZ returns log Z = log Σ_s p*(s) in nats, summing the 2^n states of e's enumerated units
// in float64 with a streaming log-sum-exp (it never overflows). The states are split into chunks
// of 2^10 (fixed high bits, Gray-code order over the low bits, so consecutive states differ in one
// unit); chunks run in parallel on runtime.GOMAXPROCS(0) goroutines and their partial sums are
// combined in chunk order, so the result does not depend on the number of goroutines or their
// scheduling. Error when n < 1 or n > MaxExactUnits; use AIS for larger models.
func ExactLogZ(e Enumerable) (float64, error) {
	if e == nil {
		return 0, fmt.Errorf("estimate: nil model for exact log Z")
	}
	n := e.EnumeratedUnits()
	if n < 1 {
		return 0, fmt.Errorf("estimate: exact log Z needs at least one enumerated unit, model has %d", n)
	}
	if n > MaxExactUnits {
		return 0, fmt.Errorf("estimate: exact log Z would enumerate 2^%d states (%d binary units); at most 2^%d (%d units) are supported: estimate log Z with AIS (estimate.AIS) instead", n, n, MaxExactUnits, MaxExactUnits)
	}
	low := min(n, chunkBits)
	chunks := 1 << (n - low)
	type partial struct{ best, sum float64 }
	parts := make([]partial, chunks)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := min(runtime.GOMAXPROCS(0), chunks); w > 0; w-- {
		wg.Add(1)
		go func() {
			defer wg.Done()
			walker := e.NewWalker()
			for {
				c := int(next.Add(1) - 1)
				if c >= chunks {
					return
				}
				walker.Reset(uint64(c)<<low, low)
				best, sum := walker.LogUnnormalized(), 1.0
				for g := uint64(1); g < 1<<low; g++ {
					walker.Flip(bits.TrailingZeros64(g))
					t := walker.LogUnnormalized()
					if t > best {
						sum = sum*math.Exp(best-t) + 1
						best = t
					} else {
						sum += math.Exp(t - best)
					}
				}
				parts[c] = partial{best, sum}
			}
		}()
	}
	wg.Wait()
	best := math.Inf(-1)
	for _, p := range parts {
		best = max(best, p.best)
	}
	if math.IsInf(best, 0) || math.IsNaN(best) {
		return 0, fmt.Errorf("estimate: exact log Z is not finite (largest term %v)", best)
	}
	sum := 0.0
	for _, p := range parts {
		sum += p.sum * math.Exp(p.best-best)
	}
	return best + math.Log(sum), nil
}

// ExactLogLikelihood returns the mean exact log-likelihood of the rows of data (N, nv), binary
// Float32 or Float64 values, under m: mean_n log p(v_n) = -mean_n F(v_n) - log Z, in nats per row,
// and log Z itself (ExactLogZ, so the same size limit applies).
func ExactLogLikelihood(m *BernoulliRBM, data *tensor.Dense) (mean, logZ float64, err error) {
	f, err := m.FreeEnergies(data)
	if err != nil {
		return 0, 0, err
	}
	if logZ, err = ExactLogZ(m); err != nil {
		return 0, 0, err
	}
	return -meanOf(f) - logZ, logZ, nil
}

func meanOf(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// EnumeratedUnits is min(nv, nh): ExactLogZ enumerates the smaller layer and sums the other out.
func (m *BernoulliRBM) EnumeratedUnits() int { return min(m.nv, m.nh) }

// NewWalker returns a walker over the smaller layer's states s with
// log p*(s) = aᵀs + Σ_k softplus(d_k + Σ_j s_j W_jk), where (a, d) = (c, b) over the hidden layer
// or (b, c) over the visible layer.
func (m *BernoulliRBM) NewWalker() Walker {
	if m.nh <= m.nv {
		wt := make([]float64, m.nh*m.nv) // Wᵀ: row j is hidden unit j's couplings
		for i := 0; i < m.nv; i++ {
			for j := 0; j < m.nh; j++ {
				wt[j*m.nv+i] = m.w[i*m.nh+j]
			}
		}
		return newSoftplusWalker(m.nh, m.nv, m.c, m.b, wt)
	}
	return newSoftplusWalker(m.nv, m.nh, m.b, m.c, m.w)
}

// maxSafeExp bounds |x| for which exp(x) and exp(-x) are normal float64s (exp(709.78) overflows).
const maxSafeExp = 700

// productBlock is the number of factors in (1, 2] multiplied before taking a log: 2^512 is far
// below the float64 maximum.
const productBlock = 512

// softplusWalker enumerates s ∈ {0,1}^n for log p*(s) = aᵀs + Σ_k softplus(x_k), x = d + Σ_j s_j w_j.
//
// softplus(x) = max(x,0) + log(1 + exp(-|x|)), and the second terms are summed as the log of a
// product of factors in (1, 2], one log per productBlock units. Within a Gray-code walk (fast
// mode) exp(x_k) and exp(-x_k) are updated by multiplying by exp(±W_jk), tabulated once, so a
// state costs a few flops per unit and no exp; Reset recomputes x, exp(x) and exp(-x) from
// scratch, which bounds the rounding drift to 2^free multiplications. When some |x_k| could
// leave [-700, 700] within a walk, the walker computes exp(-|x_k|) directly instead.
type softplusWalker struct {
	n, m    int
	a, d, w []float64
	up, dn  []float64 // exp(w), exp(-w)
	absSum  []float64 // Σ_{j<free} |w_jk|
	free    int
	s       uint64
	lin     float64
	x, e, r []float64 // x, exp(x), exp(-x)
	fast    bool
}

func newSoftplusWalker(n, m int, a, d, w []float64) *softplusWalker {
	up, dn := make([]float64, len(w)), make([]float64, len(w))
	for i, v := range w {
		up[i], dn[i] = math.Exp(v), math.Exp(-v)
	}
	return &softplusWalker{n: n, m: m, a: a, d: d, w: w, up: up, dn: dn, free: -1,
		x: make([]float64, m), e: make([]float64, m), r: make([]float64, m)}
}

func (sw *softplusWalker) Reset(s uint64, free int) {
	if free != sw.free {
		sw.free = free
		sw.absSum = make([]float64, sw.m)
		for j := 0; j < min(free, sw.n); j++ {
			for k, v := range sw.w[j*sw.m : (j+1)*sw.m] {
				sw.absSum[k] += math.Abs(v)
			}
		}
	}
	sw.s = s
	copy(sw.x, sw.d)
	sw.lin = 0
	for j := 0; j < sw.n; j++ {
		if s>>j&1 == 1 {
			sw.lin += sw.a[j]
			for k, v := range sw.w[j*sw.m : (j+1)*sw.m] {
				sw.x[k] += v
			}
		}
	}
	sw.fast = true
	for k, x := range sw.x {
		if math.Abs(x)+sw.absSum[k] > maxSafeExp {
			sw.fast = false
			break
		}
	}
	if sw.fast {
		for k, x := range sw.x {
			sw.e[k], sw.r[k] = math.Exp(x), math.Exp(-x)
		}
	}
}

func (sw *softplusWalker) Flip(j int) {
	row := sw.w[j*sw.m : (j+1)*sw.m]
	x := sw.x[:len(row)]
	up, dn := sw.up[j*sw.m:(j+1)*sw.m], sw.dn[j*sw.m:(j+1)*sw.m]
	if sw.s>>j&1 == 1 { // 1 → 0
		sw.lin -= sw.a[j]
		for k, v := range row {
			x[k] -= v
		}
		up, dn = dn, up
	} else {
		sw.lin += sw.a[j]
		for k, v := range row {
			x[k] += v
		}
	}
	sw.s ^= 1 << j
	if sw.fast {
		e, r := sw.e[:len(up)], sw.r[:len(up)]
		dn = dn[:len(up)]
		for k, u := range up {
			e[k] *= u
			r[k] *= dn[k]
		}
	}
}

func (sw *softplusWalker) LogUnnormalized() float64 {
	t := sw.lin
	for lo := 0; lo < sw.m; lo += productBlock {
		hi := min(lo+productBlock, sw.m)
		x := sw.x[lo:hi]
		pos0, pos1, p0, p1 := 0.0, 0.0, 1.0, 1.0
		if sw.fast {
			e, r := sw.e[lo:hi], sw.r[lo:hi]
			e, r = e[:len(x)], r[:len(x)]
			k := 0
			for ; k+1 < len(x); k += 2 {
				pos0 += max(x[k], 0)
				pos1 += max(x[k+1], 0)
				p0 *= 1 + min(e[k], r[k])
				p1 *= 1 + min(e[k+1], r[k+1])
			}
			if k < len(x) {
				pos0 += max(x[k], 0)
				p0 *= 1 + min(e[k], r[k])
			}
		} else {
			for _, v := range x {
				pos0 += max(v, 0)
				p0 *= 1 + math.Exp(-math.Abs(v))
			}
		}
		t += pos0 + pos1 + math.Log(p0*p1)
	}
	return t
}
