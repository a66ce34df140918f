package ops

import (
	"math/rand/v2"
	"testing"
)

// TestPCGUniforms checks the out-of-order draws against math/rand/v2 itself: every Float64 of
// rand.New(PCG) for streams of many lengths and seeds, draws starting at any offset
// (pcgAdvance), and the generator's state after k steps.
func TestPCGUniforms(t *testing.T) {
	defer func(old bool) { usePCG512 = old }(usePCG512)
	for _, vec := range []bool{false, true} {
		if vec && !havePCG512 {
			continue
		}
		usePCG512 = vec
		pcgUniformsMatch(t)
	}
}

func pcgUniformsMatch(t *testing.T) {
	t.Helper()
	for _, seed := range [][2]uint64{{0, 0}, {1, 2}, {^uint64(0), 12345}, {0x9E3779B97F4A7C15, 1 << 63}} {
		ref := rand.NewPCG(seed[0], seed[1])
		hi, lo := pcgState(ref)
		if hi != seed[0] || lo != seed[1] {
			t.Fatalf("pcgState = (%d, %d), want %v", hi, lo, seed)
		}
		r := rand.New(ref)
		want := make([]float64, 3000)
		for i := range want {
			want[i] = r.Float64()
		}
		for _, n := range []int{0, 1, 3, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 23, 24, 25, 1000, 2999, 3000} {
			got := make([]float64, n)
			pcgUniforms(got, seed[0], seed[1])
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("seed %v, n %d: draw %d = %v, want %v", seed, n, i, got[i], want[i])
				}
			}
		}
		for _, off := range []int{0, 1, 5, 64, 1023, 2047} {
			h, l := pcgAdvance(seed[0], seed[1], uint64(off))
			got := make([]float64, 500)
			pcgUniforms(got, h, l)
			for i := range got {
				if got[i] != want[off+i] {
					t.Fatalf("seed %v, offset %d: draw %d = %v, want %v", seed, off, i, got[i], want[off+i])
				}
			}
		}
		// The state after 3000 draws.
		h, l := pcgAdvance(seed[0], seed[1], 3000)
		if gh, gl := pcgState(ref); gh != h || gl != l {
			t.Fatalf("seed %v: state after 3000 draws (%d, %d), pcgAdvance gives (%d, %d)", seed, gh, gl, h, l)
		}
	}
}

func BenchmarkPCGUniforms(b *testing.B) {
	u := make([]float64, 50000)
	defer func(old bool) { usePCG512 = old }(usePCG512)
	b.Run("scalar", func(b *testing.B) {
		usePCG512 = false
		for b.Loop() {
			pcgUniforms(u, 1, 2)
		}
	})
	if havePCG512 {
		b.Run("avx512", func(b *testing.B) {
			usePCG512 = true
			for b.Loop() {
				pcgUniforms(u, 1, 2)
			}
		})
	}
	b.Run("rand.Float64", func(b *testing.B) {
		r := rand.New(rand.NewPCG(1, 2))
		for b.Loop() {
			for i := range u {
				u[i] = r.Float64()
			}
		}
	})
}
