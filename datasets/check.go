package datasets

import (
	"fmt"
	"math"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/internal/absmax"
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
		if absmax.Of(d) < math.Inf(1) {
			return nil
		}
		for i, v := range d {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return bad(i, v)
			}
		}
	case []float32:
		if absmax.Of(d) < math.Inf(1) {
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
