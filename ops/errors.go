package ops

import (
	"errors"
	"fmt"

	"gorgonia.org/tensor"
)

// ErrDtype is wrapped by the errors that the constructors return when a node's dtype is not
// supported (the numeric ops take Float32 or Float64 only).
var ErrDtype = errors.New("ops: unsupported dtype")

// ErrShape is wrapped by the errors returned when input shapes are incompatible, at graph
// construction time (Gaussian's sigma) or at run time (a value bound with Let whose shape does
// not fit).
var ErrShape = errors.New("ops: incompatible shapes")

// DomainError reports an input entry outside the domain of a sampling op, found while the
// machine runs: a probability outside [0, 1] or NaN for Bernoulli, a standard deviation that is
// negative, infinite or NaN for Gaussian. Machines wrap it; recover it with errors.As.
type DomainError struct {
	Op     string       // the op instance, e.g. "Bernoulli#12"
	Input  string       // the input's role: "p" or "sigma"
	Index  int          // row-major (flat) index of the offending entry
	Coords []int        // the same index as coordinates in Shape
	Shape  tensor.Shape // shape of the input value
	Value  float64      // the offending entry (float32 inputs are converted exactly)
	Want   string       // the domain, e.g. "[0, 1]"
}

func (e *DomainError) Error() string {
	return fmt.Sprintf("ops: %s: %s[%d] (at %v of shape %v) = %v, want a value in %s",
		e.Op, e.Input, e.Index, e.Coords, e.Shape, e.Value, e.Want)
}

func newDomainError(op, input string, shape tensor.Shape, index int, value float64, want string) *DomainError {
	return &DomainError{
		Op: op, Input: input, Index: index, Coords: coords(shape, index),
		Shape: shape.Clone(), Value: value, Want: want,
	}
}

// coords converts a row-major flat index into coordinates of shape.
func coords(shape tensor.Shape, index int) []int {
	c := make([]int, len(shape))
	for d := len(shape) - 1; d >= 0; d-- {
		if shape[d] > 0 {
			c[d] = index % shape[d]
			index /= shape[d]
		}
	}
	return c
}

// Transparent returns an error with err's message through which errors.Is and errors.As reach
// the errors that ops returned inside a Gorgonia machine, e.g.
//
//	var de *ops.DomainError
//	if errors.As(ops.Transparent(vm.RunAll()), &de) { ... }
//
// It is needed because Gorgonia's machines wrap an op's error in a type that exposes it through
// an Err method but has no Unwrap method, so errors.As(err, &de) on a RunAll error is false.
// Transparent(nil) is nil.
func Transparent(err error) error {
	if err == nil {
		return nil
	}
	return transparent{err}
}

type transparent struct{ err error }

func (t transparent) Error() string { return t.err.Error() }

// Unwrap returns the wrapped error itself, so that errors.As tests it and its native chain, and
// its successors (by Unwrap, or by Err where Unwrap is missing), made transparent in turn.
func (t transparent) Unwrap() []error {
	out := []error{t.err}
	switch e := t.err.(type) {
	case interface{ Unwrap() []error }:
		for _, c := range e.Unwrap() {
			if c != nil {
				out = append(out, transparent{c})
			}
		}
	case interface{ Unwrap() error }:
		if c := e.Unwrap(); c != nil {
			out = append(out, transparent{c})
		}
	case interface{ Err() error }:
		if c := e.Err(); c != nil {
			out = append(out, transparent{c})
		}
	}
	return out
}
