package optim

import (
	"gorgonia.org/tensor"
)

// copyRows copies rows idx of src (N, n) into dst (len(idx), n); both share a dtype.
func copyRows(dst, src *tensor.Dense, idx []int) {
	n := src.Shape()[1]
	switch d := dst.Data().(type) {
	case []float64:
		s := src.Data().([]float64)
		for r, i := range idx {
			copy(d[r*n:(r+1)*n], s[i*n:(i+1)*n])
		}
	case []float32:
		s := src.Data().([]float32)
		for r, i := range idx {
			copy(d[r*n:(r+1)*n], s[i*n:(i+1)*n])
		}
	}
}

// values returns a tensor's data as float64s (a copy for float32).
func values(x *tensor.Dense) []float64 {
	switch d := x.Data().(type) {
	case []float64:
		return d
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	}
	return nil
}
