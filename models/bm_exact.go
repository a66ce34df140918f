package models

import (
	"fmt"
	"math"

	"gorgonia.org/tensor"
)

// MaxExactBMUnits bounds the number of units a BM enumerates exactly (2^MaxExactBMUnits states).
const MaxExactBMUnits = 24

// enumerate visits every assignment of the units listed in free (others keep their values in s),
// in Gray-code order, calling visit with the state and its energy. s is restored on return.
func enumerate(w, b, s []float64, free []int, visit func(s []float64, e float64)) {
	n := len(s)
	saved := make([]float64, len(free))
	for k, i := range free {
		saved[k] = s[i]
		s[i] = 0
	}
	field := make([]float64, n)
	for i := range field {
		f := b[i]
		for j, sj := range s {
			f += w[i*n+j] * sj
		}
		field[i] = f
	}
	e := quadEnergy(w, b, s)
	visit(s, e)
	states := uint64(1) << len(free)
	for g := uint64(1); g < states; g++ {
		k := free[trailingZeros(g)]
		d := 1 - 2*s[k]
		e -= d * field[k]
		s[k] += d
		row := w[k*n : (k+1)*n]
		for j, wk := range row {
			field[j] += d * wk
		}
		visit(s, e)
	}
	for k, i := range free {
		s[i] = saved[k]
	}
}

// logSumExpVisit returns log Σ exp(-e) over the enumeration.
func logSumExpVisit(w, b, s []float64, free []int) float64 {
	best, sum := math.Inf(-1), 0.0
	enumerate(w, b, s, free, func(_ []float64, e float64) {
		t := -e
		if t > best {
			sum = sum*math.Exp(best-t) + 1
			best = t
		} else {
			sum += math.Exp(t - best)
		}
	})
	return best + math.Log(sum)
}

func units(from, to int) []int {
	u := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		u = append(u, i)
	}
	return u
}

func (m *BM) exactCheck(units int) error {
	if err := m.check(); err != nil {
		return err
	}
	if units > MaxExactBMUnits {
		return fmt.Errorf("models: exact enumeration over %d units (2^%d states) is too large; the limit is %d units: use Gibbs estimates", units, units, MaxExactBMUnits)
	}
	return nil
}

// ExactLogZ returns log Z = log Σ_s exp(-E(s)) in nats by enumerating all 2^n states (n ≤
// MaxExactBMUnits), with a streaming log-sum-exp.
func (m *BM) ExactLogZ() (float64, error) {
	n := m.Size()
	if err := m.exactCheck(n); err != nil {
		return 0, err
	}
	return logSumExpVisit(m.Couplings(), m.B.Data().([]float64), make([]float64, n), units(0, n)), nil
}

// FreeEnergy returns F(v) = -log Σ_h exp(-E(v,h)) for every row of v (rows, nv), binary, by
// enumerating the hidden units (nh ≤ MaxExactBMUnits).
func (m *BM) FreeEnergy(v *tensor.Dense) ([]float64, error) {
	n, nv := m.Size(), m.nv
	if err := m.exactCheck(n - nv); err != nil {
		return nil, err
	}
	x, rows, err := m.checkStates("visible data", v, nv)
	if err != nil {
		return nil, err
	}
	w, b := m.Couplings(), m.B.Data().([]float64)
	s := make([]float64, n)
	hidden := units(nv, n)
	out := make([]float64, rows)
	for r := range out {
		copy(s, x[r*nv:(r+1)*nv])
		out[r] = -logSumExpVisit(w, b, s, hidden)
	}
	return out, nil
}

// LogLikelihood returns log p(v) = -F(v) - log Z for every row of v (rows, nv), exactly.
func (m *BM) LogLikelihood(v *tensor.Dense) ([]float64, error) {
	logZ, err := m.ExactLogZ()
	if err != nil {
		return nil, err
	}
	f, err := m.FreeEnergy(v)
	if err != nil {
		return nil, err
	}
	for i := range f {
		f[i] = -f[i] - logZ
	}
	return f, nil
}

// moments accumulates E[s_i s_j] (i < j, upper triangle of an n×n matrix) and E[s_i] under the
// Boltzmann distribution restricted to the enumeration of free with the other units fixed,
// adding weight·moments into ss and s1.
func moments(w, b, s []float64, free []int, weight float64, ss, s1 []float64) {
	n := len(s)
	logZ := logSumExpVisit(w, b, s, free)
	enumerate(w, b, s, free, func(s []float64, e float64) {
		p := weight * math.Exp(-e-logZ)
		if p == 0 {
			return
		}
		for i, si := range s {
			if si == 0 {
				continue
			}
			s1[i] += p
			for j := i + 1; j < n; j++ {
				if s[j] != 0 {
					ss[i*n+j] += p
				}
			}
		}
	})
}

// GroundState returns a lowest-energy state of all n units and its energy, by exhaustive search
// (n ≤ MaxExactBMUnits): the reference against which annealing is checked.
func (m *BM) GroundState() ([]float64, float64, error) {
	n := m.Size()
	if err := m.exactCheck(n); err != nil {
		return nil, 0, err
	}
	best, bestE := make([]float64, n), math.Inf(1)
	enumerate(m.Couplings(), m.B.Data().([]float64), make([]float64, n), units(0, n), func(s []float64, e float64) {
		if e < bestE {
			bestE = e
			copy(best, s)
		}
	})
	return best, bestE, nil
}
