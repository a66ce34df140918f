package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// TestSplitGEMM: a GEMM cut in row blocks (every transpose combination, row counts that are not
// multiples of the block, α and β ≠ 0 and 1, leading dimensions larger than the rows) equals the
// uncut product of the same BLAS.
func TestSplitGEMM(t *testing.T) {
	var impl gonum.Implementation
	r := rand.New(rand.NewPCG(41, 41))
	fill := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = r.NormFloat64()
		}
		return v
	}
	for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
		for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			const m, n, k, pad = 203, 77, 131, 3
			lda, ldb := k+pad, n+pad
			aRows, bRows := m, k
			if tA == blas.Trans {
				lda, aRows = m+pad, k
			}
			if tB == blas.Trans {
				ldb, bRows = k+pad, n
			}
			a, b, c0 := fill(aRows*lda), fill(bRows*ldb), fill(m*(n+pad))
			want := append([]float64(nil), c0...)
			impl.Dgemm(tA, tB, m, n, k, 0.7, a, lda, b, ldb, -0.3, want, n+pad)
			got := append([]float64(nil), c0...)
			splitGEMM(impl.Dgemm, tA, tB, m, n, k, 0.7, a, lda, b, ldb, -0.3, got, n+pad)
			a32, b32, c32 := f32s(a), f32s(b), f32s(c0)
			want32 := append([]float32(nil), c32...)
			impl.Sgemm(tA, tB, m, n, k, 0.7, a32, lda, b32, ldb, -0.3, want32, n+pad)
			got32 := append([]float32(nil), c32...)
			splitGEMM(impl.Sgemm, tA, tB, m, n, k, 0.7, a32, lda, b32, ldb, -0.3, got32, n+pad)
			for i := range want {
				if math.Abs(got[i]-want[i]) > 1e-12*math.Max(1, math.Abs(want[i])) ||
					math.Abs(float64(got32[i]-want32[i])) > 1e-4*math.Max(1, math.Abs(float64(want32[i]))) {
					t.Fatalf("tA=%v tB=%v: c[%d] = %v / %v (float32), uncut %v / %v", tA, tB, i, got[i], got32[i], want[i], want32[i])
				}
			}
		}
	}
}

func f32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}
