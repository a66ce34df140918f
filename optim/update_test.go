package optim

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// TestUpdateMatchesScalar pins the momentum update (AVX2 body and scalar tail) to the plain
// formula Δ ← mom·Δ - lr·(g + decay·θ), θ ← θ + Δ, g unchanged, bit for bit, and the finiteness
// check to report the first non-finite entry without touching the parameters.
func TestUpdateMatchesScalar(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 3, 7, 8, 9, 100, 70001} {
		th64, g64, v64 := make([]float64, n), make([]float64, n), make([]float64, n)
		th32, g32, v32 := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range n {
			th64[i], g64[i], v64[i] = r.NormFloat64(), r.NormFloat64(), r.NormFloat64()
			th32[i], g32[i], v32[i] = float32(th64[i]), float32(g64[i]), float32(v64[i])
		}
		wt64, wv64 := append([]float64(nil), th64...), append([]float64(nil), v64...)
		wt32, wv32 := append([]float32(nil), th32...), append([]float32(nil), v32...)
		wg64, wg32 := append([]float64(nil), g64...), append([]float32(nil), g32...)
		const lr, mom, decay = 0.05, 0.9, 0.0002
		for i := range n {
			gi := g64[i] + float64(decay*wt64[i])
			wv64[i] = float64(mom*wv64[i]) - float64(lr*gi)
			wt64[i] += wv64[i]
			gi32 := g32[i] + float32(float32(decay)*wt32[i])
			wv32[i] = float32(float32(mom)*wv32[i]) - float32(float32(lr)*gi32)
			wt32[i] += wv32[i]
		}
		dense := func(x any) *tensor.Dense { return tensor.New(tensor.WithShape(n), tensor.WithBacking(x)) }
		if err := checkStep(dense(th64), dense(g64), dense(v64), lr, mom, decay); err != nil {
			t.Fatal(err)
		}
		mt64, mv64 := applyStep(dense(th64), dense(g64), dense(v64), lr, mom, decay)
		if err := checkStep(dense(th32), dense(g32), dense(v32), lr, mom, decay); err != nil {
			t.Fatal(err)
		}
		mt32, mv32 := applyStep(dense(th32), dense(g32), dense(v32), lr, mom, decay)
		// The maxima the update reports for the next step's bound.
		wmt64, wmv64, wmt32, wmv32 := 0.0, 0.0, 0.0, 0.0
		for i := range n {
			wmt64, wmv64 = max(wmt64, math.Abs(wt64[i])), max(wmv64, math.Abs(wv64[i]))
			wmt32, wmv32 = max(wmt32, math.Abs(float64(wt32[i]))), max(wmv32, math.Abs(float64(wv32[i])))
		}
		if mt64 != wmt64 || mv64 != wmv64 || mt32 != wmt32 || mv32 != wmv32 {
			t.Fatalf("n=%d: maxima |θ'| %v/%v |Δ'| %v/%v, want %v/%v %v/%v", n, mt64, mt32, mv64, mv32, wmt64, wmt32, wmv64, wmv32)
		}
		for i := range n {
			if th64[i] != wt64[i] || v64[i] != wv64[i] || g64[i] != wg64[i] || th32[i] != wt32[i] || v32[i] != wv32[i] || g32[i] != wg32[i] {
				t.Fatalf("n=%d entry %d: θ %v/%v Δ %v/%v g %v/%v, want θ %v/%v Δ %v/%v g %v/%v", n, i,
					th64[i], th32[i], v64[i], v32[i], g64[i], g32[i], wt64[i], wt32[i], wv64[i], wv32[i], wg64[i], wg32[i])
			}
		}
		// A non-finite gradient entry: an error naming it, nothing changed.
		for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
			j := r.IntN(n)
			g64[j], g32[j] = bad, float32(bad)
			before64, before32 := append([]float64(nil), th64...), append([]float32(nil), th32...)
			err64 := update(dense(th64), dense(g64), dense(v64), lr, mom, decay)
			err32 := update(dense(th32), dense(g32), dense(v32), lr, mom, decay)
			for _, err := range []error{err64, err32} {
				if err == nil || !strings.Contains(err.Error(), "gradient entry") {
					t.Fatalf("n=%d: %v at %d: error %v", n, bad, j, err)
				}
			}
			if want := "entry " + itoa(j) + " "; !strings.Contains(err64.Error(), want) || !strings.Contains(err32.Error(), want) {
				t.Fatalf("errors %q / %q do not name entry %d", err64, err32, j)
			}
			for i := range n {
				if th64[i] != before64[i] || th32[i] != before32[i] {
					t.Fatalf("n=%d: parameter %d changed by a failed update", n, i)
				}
			}
			g64[j], g32[j] = 0, 0
		}
	}
}

func itoa(i int) string {
	s := ""
	for {
		s = string(rune('0'+i%10)) + s
		if i /= 10; i == 0 {
			return s
		}
	}
}

// TestStepBoundedSound: whenever the bound says an update is finite, the exact check agrees
// (random parameters, velocities and gradients over many magnitudes, with learning rates up to
// overflow), and the bound does say so for ordinary steps.
func TestStepBoundedSound(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const n = 64
	passed := 0
	for trial := range 3000 {
		scale := math.Pow(10, float64(r.IntN(80)-10))
		lr := math.Pow(10, float64(r.IntN(80)-40))
		mom, decay := r.Float64(), r.Float64()*1e-3
		th, g, v := make([]float32, n), make([]float32, n), make([]float32, n)
		b := paramBound{ok: true}
		gamma := 0.0
		for i := range n {
			th[i] = float32(scale * r.NormFloat64())
			v[i] = float32(scale * r.NormFloat64())
			g[i] = float32(scale * r.NormFloat64())
			b.theta, b.vel = max(b.theta, math.Abs(float64(th[i]))), max(b.vel, math.Abs(float64(v[i])))
			gamma = max(gamma, math.Abs(float64(g[i])))
		}
		if stepBounded(b, gamma, lr, mom, decay, true) {
			passed++
			if !stepFinite(th, g, v, float32(lr), float32(mom), float32(decay)) {
				t.Fatalf("trial %d: the bound passed a step that overflows (scale %g, lr %g)", trial, scale, lr)
			}
		}
	}
	if passed < 300 {
		t.Fatalf("only %d of 3000 steps passed the bound", passed)
	}
	if stepBounded(paramBound{theta: 1, vel: 1, ok: true}, math.Inf(1), 0.1, 0.9, 0, true) ||
		stepBounded(paramBound{theta: 1, vel: 1, ok: true}, math.NaN(), 0.1, 0.9, 0, false) {
		t.Fatal("a non-finite gradient passed the bound")
	}
}
