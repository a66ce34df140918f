package ops

import (
	"fmt"
	"unsafe"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/internal/parallel"
)

// flat is a contiguous, row-major view of the float data of a Gorgonia Value: exactly one of f64
// and f32 is set, according to dt.
type flat struct {
	dt     tensor.Dtype
	shape  tensor.Shape // the value's own shape: read only
	f64    []float64
	f32    []float32
	scalar bool // the value is a Gorgonia scalar (*G.F64, *G.F32) rather than a *tensor.Dense
}

func (f flat) len() int {
	if f.dt == tensor.Float64 {
		return len(f.f64)
	}
	return len(f.f32)
}

// at returns entry i as a float64 (exact for float32).
func (f flat) at(i int) float64 {
	if f.dt == tensor.Float64 {
		return f.f64[i]
	}
	return float64(f.f32[i])
}

// isFloat reports whether dt is supported by the numeric ops.
func isFloat(dt tensor.Dtype) bool { return dt == tensor.Float64 || dt == tensor.Float32 }

// checkFloat returns a wrapped ErrDtype unless n is a Float32 or Float64 node.
func checkFloat(op, role string, n *G.Node) error {
	if n == nil {
		return fmt.Errorf("ops: %s: %s is nil", op, role)
	}
	if dt := n.Dtype(); !isFloat(dt) {
		return fmt.Errorf("%w: %s: %s %v has dtype %v, want Float32 or Float64", ErrDtype, op, role, n, dt)
	}
	return nil
}

// flatOf returns a flat view of v without copying, except that a non-contiguous dense value (a
// transpose, a column slice) is first materialised into a contiguous copy. Only Float32 and
// Float64 scalars and *tensor.Dense values are accepted.
func flatOf(v G.Value) (flat, error) {
	switch t := v.(type) {
	case *G.F64:
		return flat{dt: tensor.Float64, shape: t.Shape(), f64: unsafe.Slice((*float64)(t), 1), scalar: true}, nil
	case *G.F32:
		return flat{dt: tensor.Float32, shape: t.Shape(), f32: unsafe.Slice((*float32)(t), 1), scalar: true}, nil
	case *tensor.Dense:
		if !isFloat(t.Dtype()) {
			return flat{}, fmt.Errorf("%w: value has dtype %v, want Float32 or Float64", ErrDtype, t.Dtype())
		}
		if t.RequiresIterator() {
			m, ok := tensor.Materialize(t).(*tensor.Dense)
			if !ok {
				return flat{}, fmt.Errorf("ops: cannot materialise a %v view", t.Shape())
			}
			t = m
		}
		n := t.Shape().TotalSize()
		f := flat{dt: t.Dtype(), shape: t.Shape()}
		if f.dt == tensor.Float64 {
			f.f64 = t.Float64s()
			if len(f.f64) < n {
				return flat{}, fmt.Errorf("ops: %v tensor has only %d elements", t.Shape(), len(f.f64))
			}
			f.f64 = f.f64[:n:n]
		} else {
			f.f32 = t.Float32s()
			if len(f.f32) < n {
				return flat{}, fmt.Errorf("ops: %v tensor has only %d elements", t.Shape(), len(f.f32))
			}
			f.f32 = f.f32[:n:n]
		}
		return f, nil
	case nil:
		return flat{}, fmt.Errorf("ops: input value is nil")
	default:
		return flat{}, fmt.Errorf("%w: value of type %T, want a Float32 or Float64 *tensor.Dense or scalar", ErrDtype, v)
	}
}

// alloc returns a new value of like's dtype, shape and kind (scalar or dense), and its flat view.
func alloc(like flat) (G.Value, flat) {
	out := flat{dt: like.dt, shape: like.shape, scalar: like.scalar}
	if like.scalar {
		if like.dt == tensor.Float64 {
			v := G.NewF64(0)
			out.f64 = unsafe.Slice((*float64)(v), 1)
			return v, out
		}
		v := G.NewF32(0)
		out.f32 = unsafe.Slice((*float32)(v), 1)
		return v, out
	}
	t := tensor.New(tensor.Of(like.dt), tensor.WithShape(like.shape.Clone()...))
	out.shape = t.Shape()
	n := out.shape.TotalSize()
	if like.dt == tensor.Float64 {
		out.f64 = t.Float64s()[:n:n]
	} else {
		out.f32 = t.Float32s()[:n:n]
	}
	return t, out
}

// output returns prealloc and its flat view when prealloc can receive an op's result: a
// contiguous *tensor.Dense that is not a view, of like's dtype and shape, sharing no memory with
// any of the inputs. Otherwise it allocates a new value. Gorgonia's TapeMachine hands ops the
// value last held in the output register, which may belong to an unrelated node of another shape
// or dtype, hence the checks.
func output(prealloc G.Value, like flat, inputs ...flat) (G.Value, flat) {
	t, ok := prealloc.(*tensor.Dense)
	if !ok || like.scalar || t.Dtype() != like.dt || t.IsView() || t.RequiresIterator() || !t.Shape().Eq(like.shape) {
		return alloc(like)
	}
	n := like.len()
	out := flat{dt: like.dt, shape: t.Shape()}
	if like.dt == tensor.Float64 {
		d := t.Float64s()
		if len(d) < n {
			return alloc(like)
		}
		out.f64 = d[:n:n]
	} else {
		d := t.Float32s()
		if len(d) < n {
			return alloc(like)
		}
		out.f32 = d[:n:n]
	}
	for _, in := range inputs {
		if overlaps(out, in) {
			return alloc(like)
		}
	}
	return t, out
}

// span returns the address range of f's data.
func span(f flat) (lo, hi uintptr) {
	switch {
	case len(f.f64) > 0:
		lo = uintptr(unsafe.Pointer(unsafe.SliceData(f.f64)))
		hi = lo + uintptr(len(f.f64))*8
	case len(f.f32) > 0:
		lo = uintptr(unsafe.Pointer(unsafe.SliceData(f.f32)))
		hi = lo + uintptr(len(f.f32))*4
	}
	return lo, hi
}

func overlaps(a, b flat) bool {
	a0, a1 := span(a)
	b0, b1 := span(b)
	return a0 < a1 && b0 < b1 && a0 < b1 && b0 < a1
}

// parallelGrain is the least number of elements given to one goroutine by parallelFor: a
// sigmoid of 2048 float32s takes a few µs, above the ≈ 1 µs a spinning helper needs to start.
const parallelGrain = 2048

// parallelFor calls f on disjoint chunks [lo, hi) covering [0, n), concurrently on up to
// GOMAXPROCS goroutines (package parallel) when n is large, and returns when all calls have
// returned. Only deterministic element-wise kernels use it (sampling draws its uniforms in one
// sequence, so the draw order is fixed).
func parallelFor(n int, f func(lo, hi int)) {
	parallel.For(n, n/parallelGrain, f)
}
