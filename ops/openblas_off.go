//go:build !(openblas && cgo)

package ops

// BLAS names the BLAS this build links: "OpenBLAS (cgo)" with the openblas build tag, else
// "gonum (pure Go)".
func BLAS() string { return "gonum (pure Go)" }
