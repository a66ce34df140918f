package datasets

import (
	"fmt"
	"math"
	"sync/atomic"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/internal/parallel"
)

// CheckMatrix verifies that x is a non-empty (N, nv) matrix of dtype dt with only finite values,
// and returns an error naming the problem (and, for a non-finite value, its row and column).
// name says which data it is in messages ("training data", "validation data").
func CheckMatrix(name string, x *tensor.Dense, nv int, dt tensor.Dtype) error {
	if x == nil {
		return fmt.Errorf("%s is nil", name)
	}
	s := x.Shape()
	if s.Dims() != 2 {
		return fmt.Errorf("%s must be an (N, %d) matrix, has shape %v", name, nv, s)
	}
	if s[0] == 0 {
		return fmt.Errorf("%s is empty (0 rows)", name)
	}
	if s[1] != nv {
		return fmt.Errorf("model has %d visible units, %s has %d columns", nv, name, s[1])
	}
	if !x.Dtype().Eq(dt) {
		return fmt.Errorf("%s has dtype %v but the model is %v; convert the data (or build the model with dtype %v)", name, x.Dtype(), dt, x.Dtype())
	}
	if !x.IsNativelyAccessible() || x.RequiresIterator() {
		return fmt.Errorf("%s must be a contiguous dense matrix (not a view); use x.Materialize()", name)
	}
	bad := func(i int, v float64) error {
		return fmt.Errorf("%s row %d column %d is %v: values must be finite", name, i/s[1], i%s[1], v)
	}
	switch d := x.Data().(type) {
	case []float64:
		if allFinite(d) {
			return nil
		}
		for i, v := range d {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return bad(i, v)
			}
		}
	case []float32:
		if allFinite(d) {
			return nil
		}
		for i, v := range d {
			if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
				return bad(i, f)
			}
		}
	default:
		return fmt.Errorf("%s has dtype %v; want Float32 or Float64", name, x.Dtype())
	}
	return nil
}

// allFinite reports whether every entry of d is finite. It compares the largest magnitude bits
// (sign cleared) with the exponent of ±Inf, without a branch per entry, on blocks shared among
// the CPUs: a training run checks its whole data set each epoch.
func allFinite[T float32 | float64](d []T) bool {
	const block = 1 << 16
	var bad atomic.Bool
	parallel.For((len(d)+block-1)/block, (len(d)+block-1)/block, func(b0, b1 int) {
		if !finiteBlock(d[b0*block : min(b1*block, len(d))]) {
			bad.Store(true)
		}
	})
	return !bad.Load()
}

func finiteBlock[T float32 | float64](d []T) bool {
	switch x := any(d).(type) {
	case []float32:
		var m0, m1, m2, m3 uint32
		i := 0
		for ; i+4 <= len(x); i += 4 {
			q := x[i : i+4 : i+4]
			m0 = max(m0, math.Float32bits(q[0])&0x7fffffff)
			m1 = max(m1, math.Float32bits(q[1])&0x7fffffff)
			m2 = max(m2, math.Float32bits(q[2])&0x7fffffff)
			m3 = max(m3, math.Float32bits(q[3])&0x7fffffff)
		}
		for ; i < len(x); i++ {
			m0 = max(m0, math.Float32bits(x[i])&0x7fffffff)
		}
		return max(m0, m1, m2, m3) < 0x7f800000
	case []float64:
		var m0, m1, m2, m3 uint64
		i := 0
		for ; i+4 <= len(x); i += 4 {
			q := x[i : i+4 : i+4]
			m0 = max(m0, math.Float64bits(q[0])&(1<<63-1))
			m1 = max(m1, math.Float64bits(q[1])&(1<<63-1))
			m2 = max(m2, math.Float64bits(q[2])&(1<<63-1))
			m3 = max(m3, math.Float64bits(q[3])&(1<<63-1))
		}
		for ; i < len(x); i++ {
			m0 = max(m0, math.Float64bits(x[i])&(1<<63-1))
		}
		return max(m0, m1, m2, m3) < 0x7ff0000000000000
	}
	return false
}
