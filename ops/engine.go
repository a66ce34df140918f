package ops

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Engine returns the tensor engine to give Gorgonia's TapeMachine (G.WithEngine(ops.Engine())):
// Gorgonia's default CPU engine (G.StandardEngine) with a vectorised Add. The machine hands its
// engine to every value it computes, so every tensor.Add of a gradient sum runs here. Results
// are bit-identical to the default engine's.
func Engine() tensor.Engine { return opEngine }

// addEngine is G.StandardEngine with a faster Add for the case Gorgonia's autodiff produces at every
// step: a parameter used twice in the cost (W in both F(v₀) and F(v_k) of a CD cost) gets the
// sum of two gradient tensors of the same shape, computed by tensor.Add in place or into a
// preallocated tensor. StdEng's generic loop took ~10% of a 784×500 CD-1 step; here the sum runs
// through the vectorised row kernel (AVX-512/AVX2; the same IEEE sums, so bit-identical
// results). Every other case, and every other operation, is StdEng's.
//
// tensor.Add(a, b, …) asks the engine of a (the first operand) first.
type addEngine struct{ G.StandardEngine }

var opEngine tensor.Engine = addEngine{}

// Add returns a + b. Handled here: *tensor.Dense a and b of one float dtype and equal shape,
// contiguous, without WithIncr; unsafe (a += b, returns a) or into a WithReuse tensor of the same
// shape. Anything else goes to StdEng.Add.
func (e addEngine) Add(a, b tensor.Tensor, opts ...tensor.FuncOpt) (tensor.Tensor, error) {
	ad, ok1 := a.(*tensor.Dense)
	bd, ok2 := b.(*tensor.Dense)
	if ok1 && ok2 && plainLike(ad, bd) {
		fo := tensor.ParseFuncOpts(opts...)
		reuse, safe, incr := fo.Reuse(), fo.Safe(), fo.Incr() != nil || fo.Same()
		switch {
		case incr:
		case reuse == nil && !safe:
			addInPlace(ad, bd)
			return ad, nil
		case reuse != nil:
			if rd, ok := reuse.(*tensor.Dense); ok && plainLike(ad, rd) {
				if rd != ad {
					if rd == bd {
						addInPlace(rd, ad)
						return rd, nil
					}
					copyDense(rd, ad)
				}
				addInPlace(rd, bd)
				return rd, nil
			}
		}
	}
	return e.StdEng.Add(a, b, opts...)
}

// plainLike reports whether a and b are contiguous, non-view float tensors of one dtype and
// shape.
func plainLike(a, b *tensor.Dense) bool {
	dt := a.Dtype()
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return false
	}
	return b.Dtype() == dt && a.Shape().Eq(b.Shape()) && !a.IsView() && !b.IsView() &&
		!a.RequiresIterator() && !b.RequiresIterator() && a.DataOrder().IsRowMajor() == b.DataOrder().IsRowMajor()
}

// addInPlace sets dst += src (plainLike tensors).
func addInPlace(dst, src *tensor.Dense) {
	one := []int32{0}
	if dst.Dtype() == tensor.Float64 {
		d, s := dst.Float64s(), src.Float64s()
		parallelFor(len(d), func(lo, hi int) { gatherRows64(d[lo:hi], s[lo:hi], 0, one, nil) })
		return
	}
	d, s := dst.Float32s(), src.Float32s()
	parallelFor(len(d), func(lo, hi int) { gatherRows32(d[lo:hi], s[lo:hi], 0, one, nil) })
}

func copyDense(dst, src *tensor.Dense) {
	if dst.Dtype() == tensor.Float64 {
		copy(dst.Float64s(), src.Float64s())
		return
	}
	copy(dst.Float32s(), src.Float32s())
}
