package models

import (
	"fmt"
	"math/rand/v2"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// BMLearner estimates the Boltzmann learning rule for a BM (Ackley, Hinton & Sejnowski 1985): the
// gradient of the mean negative log-likelihood of a batch of visible vectors is
//
//	∂/∂W_ij = -(⟨s_i s_j⟩_clamped - ⟨s_i s_j⟩_free),  ∂/∂b_i = -(⟨s_i⟩_clamped - ⟨s_i⟩_free),
//
// where the clamped expectation fixes the visible units to the data and averages over the hidden
// units' posterior, and the free one is under the model. With Exact, both come from exhaustive
// enumeration (hidden units for each row; all n units for the free phase; n ≤
// MaxExactBMUnits). Otherwise the clamped phase runs Sweeps Gibbs sweeps over the hidden units of
// each row from a random start, and the free phase advances Chains persistent chains (Tieleman
// 2008) by Sweeps sweeps per batch. It satisfies optim.GradientModel (use optim.Fit).
type BMLearner struct {
	BM     *BM
	Exact  bool
	Chains int // persistent chains for the free phase; 0 means 100
	Sweeps int // Gibbs sweeps per estimate; 0 means 1
	chains *tensor.Dense
}

// NumVisible is the BM's visible count.
func (l *BMLearner) NumVisible() int { return l.BM.NumVisible() }

// Dtype is Float64.
func (l *BMLearner) Dtype() tensor.Dtype { return tensor.Float64 }

// Params returns U and B of the BM.
func (l *BMLearner) Params() []*tensor.Dense { return []*tensor.Dense{l.BM.U, l.BM.B} }

// CheckData verifies binary visible data.
func (l *BMLearner) CheckData(x *tensor.Dense) error {
	_, _, err := l.BM.checkStates("data", x, l.BM.NumVisible())
	return err
}

// Gradient returns the gradients for U (upper triangle, masked pairs only) and B.
func (l *BMLearner) Gradient(batch *tensor.Dense, src rand.Source) ([]*tensor.Dense, error) {
	m := l.BM
	if m == nil {
		return nil, errors.New("models: BMLearner has no BM")
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	if src == nil {
		return nil, errors.New("models: nil rand.Source")
	}
	n, nv := m.Size(), m.nv
	x, rows, err := m.checkStates("batch", batch, nv)
	if err != nil {
		return nil, err
	}
	sweeps := l.Sweeps
	if sweeps == 0 {
		sweeps = 1
	}
	w, b := m.Couplings(), m.B.Data().([]float64)
	cs, c1 := make([]float64, n*n), make([]float64, n)
	fs, f1 := make([]float64, n*n), make([]float64, n)
	rng := rand.New(src)
	s := make([]float64, n)
	hidden := units(nv, n)
	if l.Exact {
		if err := m.exactCheck(n); err != nil {
			return nil, err
		}
	}
	// Clamped phase.
	var clampState *tensor.Dense
	if !l.Exact && len(hidden) > 0 {
		clampState = tensor.New(tensor.WithShape(rows, n), tensor.Of(tensor.Float64))
		cd := clampState.Data().([]float64)
		for r := 0; r < rows; r++ {
			copy(cd[r*n:], x[r*nv:(r+1)*nv])
			for i := nv; i < n; i++ {
				cd[r*n+i] = float64(rng.Uint64() >> 63)
			}
		}
		clamp := make([]bool, n)
		for i := 0; i < nv; i++ {
			clamp[i] = true
		}
		if err := m.run(clampState, constBetas(1, sweeps), clamp, rand.NewPCG(rng.Uint64(), rng.Uint64()), nil); err != nil {
			return nil, err
		}
		addOuter(cd, rows, n, cs, c1)
	} else {
		for r := 0; r < rows; r++ {
			copy(s, x[r*nv:(r+1)*nv])
			for i := nv; i < n; i++ {
				s[i] = 0
			}
			moments(w, b, s, hidden, 1/float64(rows), cs, c1)
		}
	}
	if clampState != nil {
		scale(cs, 1/float64(rows))
		scale(c1, 1/float64(rows))
	}
	// Free phase.
	if l.Exact {
		for i := range s {
			s[i] = 0
		}
		moments(w, b, s, units(0, n), 1, fs, f1)
	} else {
		chains := l.Chains
		if chains == 0 {
			chains = 100
		}
		if chains < 1 {
			return nil, fmt.Errorf("models: %d persistent chains; want ≥ 1", chains)
		}
		if l.chains == nil || l.chains.Shape()[0] != chains || l.chains.Shape()[1] != n {
			l.chains = tensor.New(tensor.WithShape(chains, n), tensor.Of(tensor.Float64))
			cd := l.chains.Data().([]float64)
			for i := range cd {
				cd[i] = float64(rng.Uint64() >> 63)
			}
		}
		if err := m.run(l.chains, constBetas(1, sweeps), nil, rand.NewPCG(rng.Uint64(), rng.Uint64()), nil); err != nil {
			return nil, err
		}
		addOuter(l.chains.Data().([]float64), chains, n, fs, f1)
		scale(fs, 1/float64(chains))
		scale(f1, 1/float64(chains))
	}
	gu := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			if m.mask[i*n+j] {
				gu[i*n+j] = -(cs[i*n+j] - fs[i*n+j])
			}
		}
	}
	gb := make([]float64, n)
	for i := range gb {
		gb[i] = -(c1[i] - f1[i])
	}
	return []*tensor.Dense{
		tensor.New(tensor.WithShape(n, n), tensor.WithBacking(gu)),
		tensor.New(tensor.WithShape(n), tensor.WithBacking(gb)),
	}, nil
}

// addOuter adds Σ_rows s sᵀ (upper triangle) and Σ_rows s into ss and s1.
func addOuter(x []float64, rows, n int, ss, s1 []float64) {
	for r := 0; r < rows; r++ {
		s := x[r*n : (r+1)*n]
		for i, si := range s {
			if si == 0 {
				continue
			}
			s1[i]++
			for j := i + 1; j < n; j++ {
				if s[j] != 0 {
					ss[i*n+j]++
				}
			}
		}
	}
}

func scale(x []float64, c float64) {
	for i := range x {
		x[i] *= c
	}
}
