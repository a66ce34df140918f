//go:build openblas && cgo

package ops

import (
	"fmt"
	"os"
	"strconv"

	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"

	"github.com/ebm-go/ebm/ops/internal/openblas"
)

// The openblas build tag (with cgo and Debian's libopenblas-dev, or any libopenblas on the
// linker's path) makes every Gorgonia matrix product and the dense products of this package
// call OpenBLAS through gonum.org/v1/netlib:
//
//	go build -tags openblas ./...
//
// Matrix products (GEMM) are cut in blocks of rows shared among the CPUs by this module's own
// pool of helper goroutines, each block one call of single-threaded OpenBLAS: OpenBLAS's own
// threads spin-wait between calls, and between the many short kernels of a training step they
// fought our helpers for the CPUs (a CD-1 epoch ran 20–40% slower than the pure-Go build). Set
// OPENBLAS_NUM_THREADS to give OpenBLAS threads of its own instead (then GEMMs are not cut).
// OPENBLAS_CORETYPE picks its kernels as usual.
//
// EBM_GEMM_MIN_DENSITY (a fraction; default DefaultMinDensity) sets the density from which
// Affine, AffineT and their weight gradients hand a product to OpenBLAS instead of the gather
// kernels; a value above 1 keeps the gather kernels for every product.
func init() {
	var impl G.BLAS = openblas.Implementation{}
	if os.Getenv("OPENBLAS_NUM_THREADS") == "" {
		openblas.SetThreads(1)
		impl = pooledOpenBLAS{}
	}
	G.Use(impl)
	d := DefaultMinDensity
	if s := os.Getenv("EBM_GEMM_MIN_DENSITY"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || !(v >= 0) {
			panic(fmt.Sprintf("ops: EBM_GEMM_MIN_DENSITY=%q: want a fraction in [0, 1], or above 1 for never", s))
		}
		if v > 1 {
			return
		}
		d = v
	}
	if err := SetGEMM(impl, d); err != nil {
		panic(err)
	}
}

// pooledOpenBLAS is single-threaded OpenBLAS whose GEMMs are cut in row blocks shared among the
// CPUs (splitGEMM).
type pooledOpenBLAS struct{ openblas.Implementation }

func (p pooledOpenBLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	splitGEMM(p.Implementation.Sgemm, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func (p pooledOpenBLAS) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	splitGEMM(p.Implementation.Dgemm, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// BLAS names the BLAS this build links: "OpenBLAS (cgo)" with the openblas build tag, else
// "gonum (pure Go)".
func BLAS() string { return "OpenBLAS (cgo)" }
