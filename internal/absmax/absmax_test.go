package absmax

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestOf checks the largest magnitude against a plain loop and +Inf for a NaN or infinite entry
// anywhere (vector body, tail, either CPU's share), in both dtypes and with the vector kernels on
// and off.
func TestOf(t *testing.T) {
	defer func(old bool) { useAVX2 = old }(useAVX2)
	for _, vec := range []bool{false, true} {
		if vec && !haveAVX2 {
			continue
		}
		useAVX2 = vec
		r := rand.New(rand.NewPCG(3, 4))
		for _, n := range []int{0, 1, 5, 8, 9, 16, 17, 100, 70001} {
			x64 := make([]float64, n)
			x32 := make([]float32, n)
			for i := range x64 {
				x64[i] = r.NormFloat64() * 1e3
				x32[i] = float32(x64[i])
			}
			want64, want32 := 0.0, 0.0
			for i := range n {
				want64, want32 = max(want64, math.Abs(x64[i])), max(want32, math.Abs(float64(x32[i])))
			}
			if got64, got32 := Of(x64), Of(x32); got64 != want64 || got32 != want32 {
				t.Fatalf("avx2 %v n=%d: Of %v/%v, want %v/%v", vec, n, got64, got32, want64, want32)
			}
			if n == 0 {
				continue
			}
			for _, j := range []int{0, n / 2, n - 1} {
				for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
					x64[j], x32[j] = bad, float32(bad)
					if got64, got32 := Of(x64), Of(x32); !math.IsInf(got64, 1) || !math.IsInf(got32, 1) {
						t.Fatalf("avx2 %v n=%d: %v at %d: Of %v/%v, want +Inf", vec, n, bad, j, got64, got32)
					}
					x64[j], x32[j] = 1, 1
				}
			}
		}
	}
}
