package optim

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/models"
)

// stepNorm is the Euclidean norm of the trainer's velocities: with momentum 0, the step it has
// just applied.
func stepNorm(t *Trainer) float64 {
	s := 0.0
	for _, v := range t.vel {
		for _, x := range velFloats(v) {
			s += x * x
		}
	}
	return math.Sqrt(s)
}

func velFloats(x *tensor.Dense) []float64 {
	switch d := x.Data().(type) {
	case []float64:
		return d
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	}
	return nil
}

// TestClipNorm trains one minibatch of a 12×5 RBM on 60 random binary rows (weight decay on)
// with and without Settings.ClipNorm, momentum 0: the applied step Δ (the velocity) of the
// clipped run has norm at most ε·ClipNorm (so at most ClipNorm for ε = 1), it points the same way
// as the unclipped step, and the record counts one clipped minibatch; a ClipNorm above the
// gradient's norm changes nothing, bit for bit.
func TestClipNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	rows := make([]float64, 60*12)
	for i := range rows {
		if r.Float64() < 0.3 {
			rows[i] = 1
		}
	}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		data := tensor.New(tensor.WithShape(60, 12), tensor.Of(dt))
		switch d := data.Data().(type) {
		case []float64:
			copy(d, rows)
		case []float32:
			for i := range d {
				d[i] = float32(rows[i])
			}
		}
		for _, lr := range []float64{1, 0.05} {
			run := func(clip float64) (*Trainer, EpochRecord) {
				m, err := models.NewRBM(12, 5, dt, rand.NewPCG(1, 1))
				if err != nil {
					t.Fatal(err)
				}
				tr, err := NewTrainer(m, 60, Settings{Epochs: 1, BatchSize: 60, LearningRate: Constant(lr), WeightDecay: 0.01,
					ClipNorm: clip, MonitorRows: -1, Shuffle: rand.NewPCG(1, 2), Chains: rand.NewPCG(3, 4)})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(tr.Close)
				recs, err := tr.Epochs(context.Background(), data, 1)
				if err != nil {
					t.Fatal(err)
				}
				return tr, recs[0]
			}
			free, freeRec := run(0)
			gnorm := stepNorm(free) / lr // ‖g + λθ‖
			clip := gnorm / 3
			clipped, rec := run(clip)
			n := stepNorm(clipped)
			if !(n <= lr*clip) || n < lr*clip*(1-2e-6) {
				t.Errorf("%v lr %g: step norm %.17g with clip %.17g; want ≤ ε·clip = %.17g and within 2e-6 of it", dt, lr, n, clip, lr*clip)
			}
			if rec.Clipped != 1 || freeRec.Clipped != 0 {
				t.Errorf("%v lr %g: Clipped %d (unclipped run %d), want 1 (0)", dt, lr, rec.Clipped, freeRec.Clipped)
			}
			tol := 1e-8
			if dt.Eq(tensor.Float32) {
				tol = 1e-5
			}
			for i := range free.vel {
				a, b := velFloats(clipped.vel[i]), velFloats(free.vel[i])
				for j := range a {
					if math.Abs(a[j]-b[j]/3) > tol*(math.Abs(b[j])+1e-3*lr) {
						t.Fatalf("%v lr %g: parameter %d entry %d: clipped step %v, want the unclipped %v / 3", dt, lr, i, j, a[j], b[j])
					}
				}
			}
			loose, looseRec := run(gnorm * 2)
			for i := range free.vel {
				a, b := velFloats(loose.vel[i]), velFloats(free.vel[i])
				for j := range a {
					if a[j] != b[j] {
						t.Fatalf("%v lr %g: a clip above the norm changed the step: %v vs %v", dt, lr, a[j], b[j])
					}
				}
			}
			if looseRec.Clipped != 0 {
				t.Errorf("clip above the norm: Clipped = %d", looseRec.Clipped)
			}
		}
	}
	for _, bad := range []float64{-1, math.NaN(), math.Inf(1)} {
		if err := (Settings{Epochs: 1, ClipNorm: bad, Shuffle: rand.NewPCG(1, 1), Chains: rand.NewPCG(1, 1)}).validate(); err == nil || !strings.Contains(err.Error(), "ClipNorm") {
			t.Errorf("ClipNorm %v: error %v", bad, err)
		}
	}
}

// TestGradNormOverflow checks the rescaled norm when the plain sum of squares overflows.
func TestGradNormOverflow(t *testing.T) {
	th := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float64{0, 0, 0}))
	g := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float64{3e200, 4e200, 0}))
	tr := &Trainer{params: make(G.Nodes, 1), values: []*tensor.Dense{th}, grads: []*tensor.Dense{g}, decay: []float64{0}}
	if got := tr.gradNorm(); math.Abs(got-5e200) > 1e186 {
		t.Errorf("norm of (3e200, 4e200, 0) = %v, want 5e200", got)
	}
}

// TestCheckStepOverflow checks that an update overflowing a finite parameter with a finite
// gradient is refused with an error naming the entry, nothing changed, in the AVX2 body and the
// scalar tail, and that stepFinite agrees with a plain scalar evaluation entry by entry.
func TestCheckStepOverflow(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	outcomes := map[bool]bool{}
	for _, n := range []int{1, 5, 8, 13, 100, 70001} {
		for _, j := range []int{0, n / 2, n - 1} {
			th64, g64, v64 := make([]float64, n), make([]float64, n), make([]float64, n)
			th32, g32, v32 := make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range n {
				th64[i], g64[i], v64[i] = r.NormFloat64(), r.NormFloat64()*1e-3, r.NormFloat64()
				th32[i], g32[i], v32[i] = float32(th64[i]), float32(g64[i]), float32(v64[i])
			}
			dense := func(x any) *tensor.Dense { return tensor.New(tensor.WithShape(n), tensor.WithBacking(x)) }
			// θ near the top of the range and a gradient pushing it over.
			th64[j], g64[j] = math.MaxFloat64*0.9, -1
			th32[j], g32[j] = math.MaxFloat32*0.9, -1
			const lr64, lr32 = math.MaxFloat64 * 0.5, math.MaxFloat32 * 0.5
			w64, w32 := append([]float64(nil), th64...), append([]float32(nil), th32...)
			e64 := update(dense(th64), dense(g64), dense(v64), lr64, 0, 0)
			e32 := update(dense(th32), dense(g32), dense(v32), lr32, 0, 0)
			for _, err := range []error{e64, e32} {
				if want := "entry " + itoa(j) + " would become +Inf"; err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("n=%d j=%d: error %v; want one containing %q", n, j, err, want)
				}
			}
			for i := range n {
				if th64[i] != w64[i] || th32[i] != w32[i] {
					t.Fatalf("n=%d: entry %d changed by a refused update", n, i)
				}
			}
		}
		// stepFinite against the scalar formula on random data with a few huge entries.
		th, g, v := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range n {
			th[i], g[i], v[i] = float32(r.NormFloat64()*1e38), float32(r.NormFloat64()), float32(r.NormFloat64()*1e38)
		}
		want := true
		for i := range n {
			gi := g[i] + float32(0.5*th[i])
			d := float32(0.9*v[i]) - float32(1*gi)
			if f := float64(th[i] + d); math.IsInf(f, 0) || math.IsNaN(f) {
				want = false
			}
		}
		if got := stepFinite(th, g, v, 1, 0.9, 0.5); got != want {
			t.Errorf("n=%d: stepFinite %v, scalar evaluation %v", n, got, want)
		}
		outcomes[want] = true
	}
	if !outcomes[true] || !outcomes[false] {
		t.Errorf("the random cases gave only %v; want both finite and overflowing steps", outcomes)
	}
}
