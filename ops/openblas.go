//go:build openblas && cgo

package ops

import (
	"fmt"
	"os"
	"strconv"

	G "gorgonia.org/gorgonia"

	"github.com/ebm-go/ebm/ops/internal/openblas"
)

// The openblas build tag (with cgo and Debian's libopenblas-dev, or any libopenblas on the
// linker's path) makes every Gorgonia matrix product and the dense products of this package
// call OpenBLAS through gonum.org/v1/netlib:
//
//	go build -tags openblas ./...
//
// Set OPENBLAS_NUM_THREADS to bound its threads and OPENBLAS_CORETYPE to pick its kernels.
// EBM_GEMM_MIN_DENSITY (a fraction; default DefaultMinDensity) sets the density from which
// Affine, AffineT and their weight gradients hand a product to OpenBLAS instead of the gather
// kernels; a value above 1 keeps the gather kernels for every product.
func init() {
	G.Use(openblas.Implementation{})
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
	if err := SetGEMM(openblas.Implementation{}, d); err != nil {
		panic(err)
	}
}

// BLAS names the BLAS this build links: "OpenBLAS (cgo)" with the openblas build tag, else
// "gonum (pure Go)".
func BLAS() string { return "OpenBLAS (cgo)" }
