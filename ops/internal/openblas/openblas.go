//go:build openblas && cgo

// Package openblas links OpenBLAS (-lopenblas) for the openblas build of package ops and
// hands its BLAS to it: gonum.org/v1/netlib's cgo wrapper of the CBLAS interface. It exists
// because a Go package cannot hold both cgo and Go assembly.
package openblas

// #cgo LDFLAGS: -lopenblas
import "C"

import "gonum.org/v1/netlib/blas/netlib"

// Implementation is OpenBLAS through gonum.org/v1/netlib/blas/netlib.
type Implementation = netlib.Implementation
