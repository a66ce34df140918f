//go:build openblas && cgo

// Package openblas links OpenBLAS (-lopenblas) for the openblas build of package ops and
// hands its BLAS to it: gonum.org/v1/netlib's cgo wrapper of the CBLAS interface. It exists
// because a Go package cannot hold both cgo and Go assembly.
package openblas

// #cgo LDFLAGS: -lopenblas
// void openblas_set_num_threads(int);
// int openblas_get_num_threads(void);
import "C"

import "gonum.org/v1/netlib/blas/netlib"

// Implementation is OpenBLAS through gonum.org/v1/netlib/blas/netlib.
type Implementation = netlib.Implementation

// SetThreads sets the number of threads OpenBLAS uses for a call.
func SetThreads(n int) { C.openblas_set_num_threads(C.int(n)) }

// Threads returns the number of threads OpenBLAS uses for a call.
func Threads() int { return int(C.openblas_get_num_threads()) }
