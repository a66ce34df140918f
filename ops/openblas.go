//go:build openblas && cgo

package ops

import (
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
func init() {
	G.Use(openblas.Implementation{})
	if err := SetGEMM(openblas.Implementation{}, DefaultMinDensity); err != nil {
		panic(err)
	}
}

// BLAS names the BLAS this build links: "OpenBLAS (cgo)" with the openblas build tag, else
// "gonum (pure Go)".
func BLAS() string { return "OpenBLAS (cgo)" }
