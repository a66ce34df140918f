package ops

import (
	"gonum.org/v1/gonum/blas"

	"github.com/ebm-go/ebm/internal/parallel"
)

// gemmRowBlock is the number of rows of C that pooledGEMM hands to one call of the wrapped
// GEMM. The blocks do not depend on the number of CPUs, so neither do the results.
const gemmRowBlock = 32

// gemmSplitWork is the least product size (m·n·k) that pooledGEMM splits: below it one call.
const gemmSplitWork = 1 << 20

// splitGEMM runs C = α·op(A)·op(B) + β·C as one call of gemm per block of gemmRowBlock rows of C,
// the blocks shared among the CPUs by package parallel (whose helpers spin between the short
// kernels of a training step): a single-threaded BLAS (OpenBLAS with one thread) then uses every
// CPU without threads of its own that would spin against ours.
func splitGEMM[T float32 | float64](gemm func(tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int),
	tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	blocks := (m + gemmRowBlock - 1) / gemmRowBlock
	if blocks <= 1 || m*n*k < gemmSplitWork {
		gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	parallel.For(blocks, blocks, func(lo, hi int) {
		for blk := lo; blk < hi; blk++ {
			r0, r1 := blk*gemmRowBlock, min((blk+1)*gemmRowBlock, m)
			// Row r of op(A) starts at a[r·lda] (no transpose) or at a[r] (transposed: A is
			// k × m); row r of C at c[r·ldc].
			aOff := r0 * lda
			if tA != blas.NoTrans {
				aOff = r0
			}
			gemm(tA, tB, r1-r0, n, k, alpha, a[aOff:], lda, b, ldb, beta, c[r0*ldc:], ldc)
		}
	})
}
