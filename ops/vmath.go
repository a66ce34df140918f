package ops

import "math"

// Slice kernels for the element-wise functions. Each gives exactly the values of the scalar
// function applied entry by entry (bit for bit): on amd64 with AVX2 and FMA they run four
// entries at a time (vmath_amd64.s), elsewhere they loop over the scalar function.

// vectorize runs kernel over the longest multiple-of-4 prefix of src, falling back to scalar
// for each block of four the kernel refuses (a lane that needs the scalar code's special
// paths) and for the tail. dst and src have equal lengths and may be the same slice.
func vectorize[T float32 | float64](dst, src []T, kernel func(dst, src []T, n int) int, scalar func(T) T) {
	dst = dst[:len(src)]
	i := 0
	if haveVMath {
		n := len(src) &^ 3
		for i < n {
			i += kernel(dst[i:], src[i:], n-i)
			if i < n {
				for j := i; j < i+4; j++ {
					dst[j] = scalar(src[j])
				}
				i += 4
			}
		}
	}
	for ; i < len(src); i++ {
		dst[i] = scalar(src[i])
	}
}

// sigmoid64s sets dst[i] = Sigmoid64(src[i]).
func sigmoid64s(dst, src []float64) {
	if useAVX512 {
		vectorize(dst, src, sigmoid64AVX512, Sigmoid64)
		return
	}
	vectorize(dst, src, sigmoid64AVX2, Sigmoid64)
}

// softplus64s sets dst[i] = Softplus64(src[i]).
func softplus64s(dst, src []float64) { vectorize(dst, src, softplus64AVX2, Softplus64) }

// sigmoid32s sets dst[i] = Sigmoid32(src[i]).
func sigmoid32s(dst, src []float32) {
	if useAVX512 {
		vectorize(dst, src, sigmoid32AVX512, Sigmoid32)
		return
	}
	vectorize(dst, src, sigmoid32AVX2, Sigmoid32)
}

// softplus32s sets dst[i] = Softplus32(src[i]).
func softplus32s(dst, src []float32) { vectorize(dst, src, softplus32AVX2, Softplus32) }

// softplusSumBlock is the most entries a vector kernel folds into one product of 1 + e factors
// per lane: each factor is at most 2, so the product stays below 2¹⁰⁰⁰.
const softplusSumBlock = 4000

// softplusSum returns Σ_i Softplus(x[i]) in float64. The vector kernels (AVX2) use
// Σ softplus(x) = Σ max(x, 0) + log Π (1 + exp(-|x|)), one exponential per entry and four
// logarithms per 4,000 entries; the result agrees with the sum of Softplus64 values to a few
// ulps of n (absolute error below n·2⁻⁵² plus the rounding of the sum), and a NaN entry gives
// NaN. Without the vector kernels it is the plain sum of Softplus64 (or Softplus32 widened).
func softplusSum[T float32 | float64](x []T) float64 {
	s, logs := 0.0, 0.0
	i := 0
	if haveVMath {
		var out [8]float64
		for len(x)-i >= 4 {
			c := min(softplusSumBlock, (len(x)-i)&^3)
			var nan bool
			switch xs := any(x[i:]).(type) {
			case []float64:
				if useAVX512 {
					nan = softplusSum64AVX512(xs, c, &out)
				} else {
					nan = softplusSum64AVX2(xs, c, &out)
				}
			case []float32:
				if useAVX512 {
					nan = softplusSum32AVX512(xs, c, &out)
				} else {
					nan = softplusSum32AVX2(xs, c, &out)
				}
			}
			if nan {
				return math.NaN()
			}
			s += (out[0] + out[1]) + (out[2] + out[3])
			logs += (math.Log(out[4]) + math.Log(out[5])) + (math.Log(out[6]) + math.Log(out[7]))
			i += c
		}
	}
	for ; i < len(x); i++ {
		switch v := any(x[i]).(type) {
		case float64:
			s += Softplus64(v)
		case float32:
			s += float64(Softplus32(v))
		}
	}
	return s + logs
}
