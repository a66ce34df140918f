package ops

import (
	"fmt"
	"sync/atomic"

	"gonum.org/v1/gonum/blas"
)

// GEMM is the dense matrix product of a BLAS (level 3, row-major), as gonum.org/v1/gonum/blas
// declares it: gonum's own pure-Go implementation, or OpenBLAS through
// gonum.org/v1/netlib/blas/netlib.Implementation (see the openblas build tag).
type GEMM interface {
	Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int)
}

type denseConfig struct {
	impl       GEMM
	minDensity float64
}

var denseGEMM atomic.Pointer[denseConfig]

// SetGEMM makes Affine, AffineT and their weight gradients call impl for products whose sparse
// left operand has at least minDensity non-zero entries (a fraction in [0, 1]); sparser ones
// keep the gather kernels, which skip zeros and beat a dense GEMM on sampled binary states.
// SetGEMM(nil, 0) restores the default: gather kernels only. The openblas build tag calls
// SetGEMM(netlib.Implementation{}, DefaultMinDensity) at start-up. Results agree with the gather
// path to rounding, not bit for bit. SetGEMM is safe to call at any time; a product already
// running finishes with the previous setting.
func SetGEMM(impl GEMM, minDensity float64) error {
	if impl == nil {
		denseGEMM.Store(nil)
		return nil
	}
	if !(minDensity >= 0 && minDensity <= 1) {
		return fmt.Errorf("ops: SetGEMM: minDensity = %v; want a fraction in [0, 1]", minDensity)
	}
	denseGEMM.Store(&denseConfig{impl: impl, minDensity: minDensity})
	return nil
}

// DefaultMinDensity is the density from which the openblas build hands a product to OpenBLAS.
// A dense product costs 2·rows·k·m flops at OpenBLAS's rate (about 130 GFLOP/s in float32 on
// two Zen 5 cores with the AVX2 kernels), the gather kernels d·rows·k·m additions at roughly a
// quarter of that rate, so they break even near d = 0.5; OpenBLAS also loses more when the
// cores are shared (its threads spin).
const DefaultMinDensity = 0.5

// denseFor returns the installed GEMM if an operand with nnz non-zeros among n entries is dense
// enough to use it, else nil.
func denseFor(nnz, n int) *denseConfig {
	cfg := denseGEMM.Load()
	if cfg == nil || n == 0 || float64(nnz) < cfg.minDensity*float64(n) {
		return nil
	}
	return cfg
}

// gemm sets c (m, n) = op(a)·op(b) with cfg's GEMM; a is (m, k), or (k, m) when ta, and b is
// (k, n), or (n, k) when tb, all row-major and contiguous.
func gemm[T number](cfg *denseConfig, ta, tb bool, m, n, k int, a, b, c []T) {
	tA, tB := blas.NoTrans, blas.NoTrans
	lda, ldb := k, n
	if ta {
		tA, lda = blas.Trans, m
	}
	if tb {
		tB, ldb = blas.Trans, k
	}
	switch cc := any(c).(type) {
	case []float32:
		cfg.impl.Sgemm(tA, tB, m, n, k, 1, any(a).([]float32), lda, any(b).([]float32), ldb, 0, cc, n)
	case []float64:
		cfg.impl.Dgemm(tA, tB, m, n, k, 1, any(a).([]float64), lda, any(b).([]float64), ldb, 0, cc, n)
	}
}
