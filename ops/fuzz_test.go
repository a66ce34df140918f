package ops

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// FuzzBernoulli: for p all in [0,1] the samples are in {0,1}, with p == 0 → 0 and p == 1 → 1;
// a NaN or out-of-range p gives a *DomainError naming the first bad entry, never a panic. Both
// dtypes (validity is judged after conversion to float32) and both value kinds (tensor, scalar).
func FuzzBernoulli(f *testing.F) {
	f.Add(0.0, 0.5, 1.0, uint64(1))
	f.Add(math.NaN(), 0.5, 1.0, uint64(2))
	f.Add(math.Copysign(0, -1), 1.0000000000000002, 0.3, uint64(3))
	f.Add(math.Inf(1), -1e-300, 5e-324, uint64(4))
	f.Add(1e-45, 0.99999999, -1e-46, uint64(5))
	f.Fuzz(func(t *testing.T, p0, p1, p2 float64, seed uint64) {
		ps := []float64{p0, p1, p2}
		for _, dt := range floatDtypes {
			conv := make([]float64, len(ps))
			firstBad := -1
			for i, p := range ps {
				conv[i] = p
				if dt == tensor.Float32 {
					conv[i] = float64(float32(p))
				}
				if firstBad < 0 && !(conv[i] >= 0 && conv[i] <= 1) {
					firstBad = i
				}
			}
			op := &sampleOp{kind: sampleBernoulli, id: 1, rng: rand.New(rand.NewPCG(seed, seed^0x5bd1e995))}
			for _, shape := range []tensor.Shape{{3}, {}} {
				in := conv
				if len(shape) == 0 {
					in = conv[:1]
				}
				v, err := op.Do(valueOf(dt, shape, in))
				bad := firstBad
				if len(shape) == 0 && firstBad > 0 {
					bad = -1
				}
				if bad >= 0 {
					var de *DomainError
					if !errors.As(err, &de) || de.Index != bad {
						t.Fatalf("%v %v p=%v: err = %v, want a DomainError at %d", dt, shape, in, err, bad)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%v %v p=%v: %v", dt, shape, in, err)
				}
				if !G.TypeOf(v).Eq(G.TypeOf(valueOf(dt, shape, in))) || !v.Shape().Eq(shape) {
					t.Fatalf("%v %v: output %v %v", dt, shape, G.TypeOf(v), v.Shape())
				}
				for i, s := range floats64(t, v) {
					switch {
					case s != 0 && s != 1:
						t.Fatalf("%v p=%v: sample %v", dt, in[i], s)
					case in[i] == 0 && s != 0, in[i] == 1 && s != 1:
						t.Fatalf("%v p=%v: sample %v", dt, in[i], s)
					}
				}
			}
		}
	})
}
