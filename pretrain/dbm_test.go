package pretrain

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
)

// TestB26Copies: the doubled weights are used only where they belong — bottom-up for the first
// RBM, top-down for the last, both in between, neither for a one-layer DBM.
func TestB26Copies(t *testing.T) {
	cases := []struct{ l, L, up, down int }{
		{0, 1, 1, 1},
		{0, 2, 2, 1}, {1, 2, 1, 2},
		{0, 3, 2, 1}, {1, 3, 2, 2}, {2, 3, 1, 2},
	}
	for _, c := range cases {
		up, down := Copies(c.l, c.L)
		if up != c.up || down != c.down {
			t.Errorf("Copies(%d, %d) = (%d, %d), want (%d, %d)", c.l, c.L, up, down, c.up, c.down)
		}
	}
}

// TestB26DoubledUpPass: the input handed to the second RBM is σ(2vᵀW1) for case B26's weights.
func TestB26DoubledUpPass(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		w := tensor.New(tensor.WithShape(3, 2), tensor.Of(dt))
		b := tensor.New(tensor.WithShape(3), tensor.Of(dt))
		c := tensor.New(tensor.WithShape(2), tensor.Of(dt))
		setBias(w, []float64{1, -1, 0.5, 0.5, -1, 1})
		m, err := models.NewRBMFromParams(w, b, c)
		if err != nil {
			t.Fatal(err)
		}
		v := tensor.New(tensor.WithShape(1, 3), tensor.Of(dt))
		setBias(v, []float64{1, 1, 0})
		for up, want := range map[int][]float64{1: {0.817574, 0.377541}, 2: {0.952574, 0.268941}} {
			h, err := upPass(m, up, v)
			if err != nil {
				t.Fatal(err)
			}
			got := floatsOf(h)
			for j := range want {
				if math.Abs(got[j]-want[j]) > 1e-6 {
					t.Errorf("%v up ×%d: h[%d] = %.6f, want %.6f", dt, up, j, got[j], want[j])
				}
			}
		}
		if floatsOf(w)[0] != 1 {
			t.Error("upPass changed the RBM's weights")
		}
	}
}

// TestTrainDBMTiny: greedy pretraining of a 6-4-3 DBM on two patterns raises the exact
// log-likelihood well above the random start, the weights are the DBM's own (trained in place),
// and a wrong settings count is an error.
func TestTrainDBMTiny(t *testing.T) {
	data := tensor.New(tensor.WithShape(60, 6), tensor.Of(tensor.Float64))
	pats := [][]float64{{1, 1, 1, 0, 0, 0}, {0, 0, 0, 1, 1, 1}}
	r := rand.New(rand.NewPCG(2, 2))
	x := data.Data().([]float64)
	for i := 0; i < 60; i++ {
		copy(x[i*6:], pats[r.IntN(2)])
	}
	d, err := models.NewDBM([]int{6, 4, 3}, tensor.Float64, rand.NewPCG(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	ll := func() float64 {
		logZ, err := d.ExactLogZ()
		if err != nil {
			t.Fatal(err)
		}
		_, lp, err := d.ExactPosterior(data)
		if err != nil {
			t.Fatal(err)
		}
		s := 0.0
		for _, v := range lp {
			s += v - logZ
		}
		return s / float64(len(lp))
	}
	before := ll()
	w0 := d.W[0]
	layer := func(seed uint64) Layer {
		return Layer{Settings: optim.Settings{Epochs: 100, BatchSize: 10, LearningRate: optim.Constant(0.1),
			Momentum: optim.HintonMomentum(), Shuffle: rand.NewPCG(seed, 1), Chains: rand.NewPCG(seed, 2), MonitorRows: -1}}
	}
	if _, err := TrainDBM(context.Background(), d, data, Settings{Layers: []Layer{layer(1)}}); err == nil {
		t.Error("one layer setting for a two-layer DBM: no error")
	}
	recs, err := TrainDBM(context.Background(), d, data, Settings{Layers: []Layer{layer(1), layer(2)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Estimator != "CD-1 (up ×2, down ×1)" || recs[1].Estimator != "CD-1 (up ×1, down ×2)" {
		t.Errorf("records %+v", recs)
	}
	if d.W[0] != w0 {
		t.Error("TrainDBM replaced W[0] instead of training it in place")
	}
	after := ll()
	t.Logf("mean log p(v): %.4f before, %.4f after pretraining (log 2 = %.4f is the best)", before, after, math.Log(2))
	if !(after > before+0.5) {
		t.Errorf("pretraining moved the log-likelihood from %.4f to %.4f; expected a clear rise", before, after)
	}
}
