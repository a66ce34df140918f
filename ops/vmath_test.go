package ops

import (
	"math"
	"math/rand/v2"
	"testing"
)

// vmathInputs returns arguments covering every path of the kernels: both signs, zeros, the
// exp over/underflow thresholds, u == 1 in softplus (|x| > 37), the √2/2 branch of the log,
// subnormals, infinities and NaN, plus random values at several scales.
func vmathInputs() []float64 {
	xs := []float64{0, math.Copysign(0, -1), 1, -1, 0.5, -0.5, 16.5, -16.5, 19.5, -19.5, 36.7, 36.8,
		37, 38, -37, -38, 88, -88, 103, -103, 700, -700, 707.9, -707.9, 708, -708, 708.1, -708.1,
		709, -709, 709.8, 745, -745, 746, -746, 1e4, -1e4, 1e300, -1e300, math.MaxFloat64,
		-math.MaxFloat64, math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64, 1e-300,
		math.Inf(1), math.Inf(-1), math.NaN(), -math.NaN(), 0.34657359027997264, -0.34657359027997264,
		math.Ln2, -math.Ln2, 2 * math.Ln2, math.Log(math.Sqrt2), -math.Log(math.Sqrt2 - 1)}
	r := rand.New(rand.NewPCG(7, 8))
	for _, scale := range []float64{1e-8, 1e-3, 0.1, 1, 4, 20, 100, 800} {
		for range 2000 {
			xs = append(xs, scale*r.NormFloat64())
		}
	}
	// Arguments whose exp(-|x|) lands next to the log's √2/2 split and 1+e next to powers of 2.
	for range 2000 {
		xs = append(xs, -math.Log(math.Sqrt2-1)+1e-6*r.NormFloat64())
	}
	return xs
}

func sameBits(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || (math.IsNaN(a) && math.IsNaN(b))
}

// TestVMathBitIdentical pins the slice kernels (AVX2, and AVX-512 where the CPU has it) to the
// scalar functions, bit for bit, at every offset so that vector bodies, blocks of 4 after blocks
// of 8 and scalar tails are all exercised.
func TestVMathBitIdentical(t *testing.T) {
	t.Logf("vector kernels: %v, AVX-512: %v", haveVMath, haveAVX512)
	defer func(old bool) { useAVX512 = old }(useAVX512)
	for _, avx512 := range []bool{false, true} {
		if avx512 && !haveAVX512 {
			continue
		}
		useAVX512 = avx512
		vmathBitIdentical(t)
	}
}

func vmathBitIdentical(t *testing.T) {
	t.Helper()
	xs := vmathInputs()
	for off := 0; off < 8; off++ {
		src := xs[off:]
		d := make([]float64, len(src))
		sigmoid64s(d, src)
		for i, x := range src {
			if w := Sigmoid64(x); !sameBits(d[i], w) {
				t.Fatalf("sigmoid64s(%v) = %v (%#x), Sigmoid64 = %v (%#x)", x, d[i], math.Float64bits(d[i]), w, math.Float64bits(w))
			}
		}
		softplus64s(d, src)
		for i, x := range src {
			if w := Softplus64(x); !sameBits(d[i], w) {
				t.Fatalf("softplus64s(%v) = %v (%#x), Softplus64 = %v (%#x)", x, d[i], math.Float64bits(d[i]), w, math.Float64bits(w))
			}
		}
		s32 := make([]float32, len(src))
		for i, x := range src {
			s32[i] = float32(x)
		}
		d32 := make([]float32, len(src))
		sigmoid32s(d32, s32)
		for i, x := range s32 {
			if w := Sigmoid32(x); !sameBits(float64(d32[i]), float64(w)) {
				t.Fatalf("sigmoid32s(%v) = %v, Sigmoid32 = %v", x, d32[i], w)
			}
		}
		softplus32s(d32, s32)
		for i, x := range s32 {
			if w := Softplus32(x); !sameBits(float64(d32[i]), float64(w)) {
				t.Fatalf("softplus32s(%v) = %v, Softplus32 = %v", x, d32[i], w)
			}
		}
	}
	// In place.
	d := append([]float64(nil), xs...)
	softplus64s(d, d)
	for i, x := range xs {
		if w := Softplus64(x); !sameBits(d[i], w) {
			t.Fatalf("in-place softplus64s(%v) = %v, want %v", x, d[i], w)
		}
	}
}

// TestSoftplusSumAVX512 checks that the AVX-512 row sums equal the AVX2 ones bit for bit: the
// 8-lane kernel folds each block into the 4-lane accumulators low half first, in the AVX2
// kernel's order.
func TestSoftplusSumAVX512(t *testing.T) {
	if !haveAVX512 {
		t.Skip("no AVX-512")
	}
	defer func(old bool) { useAVX512 = old }(useAVX512)
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{4, 8, 12, 13, 500, 784, 4003, 4004, 9000} {
		x := make([]float64, n)
		x32 := make([]float32, n)
		for i := range x {
			x[i] = 5 * r.NormFloat64()
			x32[i] = float32(x[i])
		}
		x[n/2] = 720 // a lane beyond the exponential's range
		useAVX512 = false
		want, want32 := softplusSum(x), softplusSum(x32)
		useAVX512 = true
		if got, got32 := softplusSum(x), softplusSum(x32); !sameBits(got, want) || !sameBits(got32, want32) {
			t.Fatalf("n=%d: AVX-512 sums %v, %v; AVX2 %v, %v", n, got, got32, want, want32)
		}
		x[n-1] = math.NaN()
		if got := softplusSum(x); !math.IsNaN(got) {
			t.Fatalf("n=%d: NaN entry gave %v", n, got)
		}
	}
}

func BenchmarkVMath(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, 50000)
	for i := range x {
		x[i] = 4 * r.NormFloat64()
	}
	d := make([]float64, len(x))
	x32, d32 := make([]float32, len(x)), make([]float32, len(x))
	for i := range x {
		x32[i] = float32(x[i])
	}
	b.Run("sigmoid64/50000", func(b *testing.B) {
		for b.Loop() {
			sigmoid64s(d, x)
		}
	})
	b.Run("softplus64/50000", func(b *testing.B) {
		for b.Loop() {
			softplus64s(d, x)
		}
	})
	b.Run("sigmoid32/50000", func(b *testing.B) {
		for b.Loop() {
			sigmoid32s(d32, x32)
		}
	})
	b.Run("softplus32/50000", func(b *testing.B) {
		for b.Loop() {
			softplus32s(d32, x32)
		}
	})
	b.Run("scalar-softplus64/50000", func(b *testing.B) {
		for b.Loop() {
			for i, v := range x {
				d[i] = Softplus64(v)
			}
		}
	})
}

// TestSoftplusSum checks the log-of-products row sum against a compensated sum of Softplus64
// values, within the error bound of summing n non-negative terms (n·ε relative) plus a few
// ulps of n from the logarithm of the products, and the exact cases: softplus(150)·k = 150·k,
// NaN and ±Inf.
func TestSoftplusSum(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 3, 4, 5, 500, 4003, 9000} {
		for _, scale := range []float64{0.01, 1, 10, 1000} {
			x := make([]float64, n)
			x32 := make([]float32, n)
			for i := range x {
				x[i] = scale * r.NormFloat64()
				x32[i] = float32(x[i])
			}
			want, want32 := neumaier(x, Softplus64), neumaier(x32, func(v float32) float64 { return float64(Softplus32(v)) })
			tol := float64(n+1) * 0x1p-52 * (4 + want)
			if got := softplusSum(x); math.Abs(got-want) > tol {
				t.Errorf("n=%d scale %v: softplusSum = %v, Σ Softplus64 = %v (diff %g > %g)", n, scale, got, want, got-want, tol)
			}
			// float32 inputs: each softplus is the float64 value before rounding to float32.
			tol32 := float64(n+1) * 0x1p-24 * (1 + want32/float64(n+1))
			if got := softplusSum(x32); math.Abs(got-want32) > tol32 {
				t.Errorf("float32 n=%d scale %v: softplusSum = %v, Σ Softplus32 = %v", n, scale, got, want32)
			}
		}
	}
	exact := []float64{150, 150, 150, 150, 150, 150, -150, -800, math.Inf(-1)}
	if got := softplusSum(exact); got != 900 {
		t.Errorf("softplusSum(150 ×6, -150, -800, -Inf) = %v, want 900 exactly", got)
	}
	if got := softplusSum([]float64{1, 2, math.NaN(), 4, 5}); !math.IsNaN(got) {
		t.Errorf("softplusSum with a NaN = %v", got)
	}
	if got := softplusSum([]float64{1, 2, math.Inf(1), 4, 5}); !math.IsInf(got, 1) {
		t.Errorf("softplusSum with +Inf = %v", got)
	}
}

// neumaier returns the compensated sum of f(x[i]).
func neumaier[T any](x []T, f func(T) float64) float64 {
	s, c := 0.0, 0.0
	for _, v := range x {
		y := f(v)
		t := s + y
		if math.Abs(s) >= math.Abs(y) {
			c += (s - t) + y
		} else {
			c += (y - t) + s
		}
		s = t
	}
	return s + c
}
