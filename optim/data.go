package optim

import (
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/internal/parallel"
)

// copyRows copies rows idx of src (N, n) into dst (len(idx), n); both share a dtype. The rows
// of a shuffled minibatch lie anywhere in the data set (out of cache): the CPUs share them.
func copyRows(dst, src *tensor.Dense, idx []int) {
	n := src.Shape()[1]
	switch d := dst.Data().(type) {
	case []float64:
		gatherRows(d, src.Data().([]float64), n, idx)
	case []float32:
		gatherRows(d, src.Data().([]float32), n, idx)
	}
}

func gatherRows[T float32 | float64](d, s []T, n int, idx []int) {
	parallel.For(len(idx), len(idx)*n/copyGrain, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			i := idx[r]
			copy(d[r*n:(r+1)*n], s[i*n:(i+1)*n])
		}
	})
}

// copyGrain is the least number of entries copyRows gives one CPU.
const copyGrain = 1 << 14

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
