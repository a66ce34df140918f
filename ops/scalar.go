package ops

import "math"

// Plain-Go scalar kernels. The graph ops in this package call exactly these functions element
// by element, so evaluation code that uses the scalar versions gets bit-identical results.
//
// All kernels are branch-free on the sign of x (a random sign would otherwise cost a branch
// misprediction per element) and never return NaN for a non-NaN input.

const signBit = 1 << 63

// Softplus64 returns log(1+exp(x)) computed as max(x,0) + log1p(exp(-|x|)), accurate to a few
// ulps for every x: Softplus64(16.5) = 16.500000068256 (a naive "x for x > 16" cut-off is off by
// 7e-8), Softplus64(200) = 200, Softplus64(-200) = exp(-200) ≈ 1.38e-87. Softplus64(-Inf) = 0,
// Softplus64(+Inf) = +Inf, NaN in gives NaN out.
func Softplus64(x float64) float64 {
	b := math.Float64bits(x)
	// max(x, 0) without a branch: clear every bit when the sign bit is set.
	m := math.Float64frombits(b &^ uint64(int64(b)>>63))
	return m + log1pExpNeg(math.Float64frombits(b&^signBit))
}

// Softplus32 is Softplus64 for float32: it is computed in float64 and rounded once, so it is
// within one ulp of the correctly rounded float32 result (and equal to it except in rare
// double-rounding ties). Softplus32(150) = 150 exactly.
func Softplus32(x float32) float32 { return float32(Softplus64(float64(x))) }

// LogSigmoid64 returns log σ(x) = -softplus(-x) = min(x,0) - log1p(exp(-|x|)), accurate to a
// few ulps for every x: LogSigmoid64(-19.5) = log(1-σ(19.5)) = -19.500000003398, whereas
// log(1 - sigmoid(19.5)) with Gorgonia's float64 sigmoid (exactly 1 above 19) is -Inf.
func LogSigmoid64(x float64) float64 { return -Softplus64(-x) }

// LogSigmoid32 is LogSigmoid64 for float32, computed in float64 and rounded once.
func LogSigmoid32(x float32) float32 { return float32(LogSigmoid64(float64(x))) }

// Sigmoid64 returns σ(x) = 1/(1+exp(-x)), computed as 1/(1+e) for x ≥ 0 and e/(1+e) for x < 0
// with e = exp(-|x|), so it is accurate to a couple of ulps everywhere, in particular in the
// lower tail: Sigmoid64(-700) ≈ 9.86e-305 rather than 0. Sigmoid64(±Inf) is 1 or 0; it never
// returns NaN for a non-NaN input.
func Sigmoid64(x float64) float64 {
	b := math.Float64bits(x)
	e := math.Exp(-math.Float64frombits(b &^ signBit)) // exp(-|x|) in [0, 1]
	s := 1 / (1 + e)                                   // σ(|x|)
	neg := uint64(int64(b) >> 63)                      // all ones when x < 0 (or -0, -NaN)
	return math.Float64frombits(math.Float64bits(s)&^neg | math.Float64bits(e*s)&neg)
}

// Sigmoid32 is Sigmoid64 for float32, computed in float64 and rounded once.
func Sigmoid32(x float32) float32 { return float32(Sigmoid64(float64(x))) }

// log1pExpNeg returns log(1+exp(-a)) for a ≥ 0 (a may be +Inf), using Goldberg's trick
// log1p(e) = log(u)·e/(u-1), u = 1+e, which is accurate to a few ulps and about twice as fast
// as math.Log1p.
func log1pExpNeg(a float64) float64 {
	e := math.Exp(-a)
	u := 1 + e
	if u == 1 {
		// e < 2^-53: log1p(e) = e(1 - e/2 + ...) equals e to within half an ulp.
		return e
	}
	// The conversion rounds the product, so that no compiler fuses it with the caller's addition
	// into an FMA (the vector kernels of vmath_amd64.s round it too).
	return float64(math.Log(u) * (e / (u - 1)))
}

// sigmoidPrime64 returns σ′(x) = σ(x)σ(-x) = e/(1+e)² with e = exp(-|x|): exact in both tails
// (0 when σ saturates, never 1·0 cancellation), 0.25 at 0.
func sigmoidPrime64(x float64) float64 {
	e := math.Exp(-math.Abs(x))
	s := 1 / (1 + e)
	return e * s * s
}

// sigmoidPrime2_64 returns σ″(x) = σ′(x)(1-2σ(x)) = -sign(x)·e(1-e)/(1+e)³, with 1-e computed as
// -expm1(-|x|) so that it stays accurate near 0.
func sigmoidPrime2_64(x float64) float64 {
	a := math.Abs(x)
	e := math.Exp(-a)
	s := 1 / (1 + e)
	v := -math.Expm1(-a) * e * s * s * s
	return math.Copysign(v, -x)
}

// sigmoidPrime3_64 returns σ‴(x) = σ′(x)(1-6σ′(x)).
func sigmoidPrime3_64(x float64) float64 {
	p := sigmoidPrime64(x)
	return p * (1 - 6*p)
}

func sigmoidNeg64(x float64) float64 { return Sigmoid64(-x) }
