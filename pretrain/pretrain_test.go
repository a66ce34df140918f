package pretrain_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
	"github.com/ebm-go/ebm/pretrain"
)

func values(t *tensor.Dense) []float64 {
	switch d := t.Data().(type) {
	case []float64:
		return append([]float64(nil), d...)
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	}
	return nil
}

func equal(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s[%d] = %v, want %v (bit-identical)", what, i, got[i], want[i])
		}
	}
}

// bars returns n rows of 8 pixels: a random horizontal half lit (1111 0000 or 0000 1111), each
// pixel flipped with probability 0.05, as float64 {0,1}.
func bars(n int, seed uint64) *tensor.Dense {
	r := rand.New(rand.NewPCG(seed, 1))
	v := make([]float64, n*8)
	for i := 0; i < n; i++ {
		half := r.IntN(2)
		for j := 0; j < 8; j++ {
			on := j/4 == half
			if r.Float64() < 0.05 {
				on = !on
			}
			if on {
				v[i*8+j] = 1
			}
		}
	}
	return tensor.New(tensor.WithShape(n, 8), tensor.WithBacking(v))
}

func layerSettings(seed uint64, epochs int) pretrain.Layer {
	return pretrain.Layer{Settings: optim.Settings{
		Epochs: epochs, BatchSize: 10, LearningRate: optim.Constant(0.1), Momentum: optim.Constant(0.5),
		Shuffle: rand.NewPCG(seed, 1), Chains: rand.NewPCG(seed, 2), MonitorRows: -1,
	}}
}

// TestGreedyEqualsLayerByLayer checks the wiring of greedy pretraining: it gives bit-identical
// parameters to training layer 0 with optim.Train on the data and then layer 1 on layer 0's hidden
// probabilities (and, with SampleInput, on datasets.Binarize of them), with the same seeds.
func TestGreedyEqualsLayerByLayer(t *testing.T) {
	data := bars(60, 1)
	for _, sample := range []bool{false, true} {
		d, err := models.NewDBN([]int{8, 6, 4}, tensor.Float64, rand.NewPCG(2, 2))
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := d.Clone()
		s := pretrain.Settings{Layers: []pretrain.Layer{layerSettings(3, 3), layerSettings(4, 2)}, Input: rand.NewPCG(5, 5)}
		s.Layers[1].SampleInput = sample
		s.Layers[0].InitVisibleBiases = true
		recs, err := pretrain.Train(context.Background(), d, data, s)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2 || len(recs[0].Epochs) != 3 || len(recs[1].Epochs) != 2 || recs[1].Visible != 6 || recs[1].Hidden != 4 || recs[0].Estimator != "CD-1" {
			t.Errorf("records %+v", recs)
		}

		if err := ref.Layers[0].InitVisibleBiases(data); err != nil {
			t.Fatal(err)
		}
		if _, err := optim.Train(context.Background(), ref.Layers[0], data, layerSettings(3, 3).Settings); err != nil {
			t.Fatal(err)
		}
		h, err := ref.Layers[0].HiddenProbs(data)
		if err != nil {
			t.Fatal(err)
		}
		if sample {
			if h, err = datasets.Binarize(h, rand.NewPCG(5, 5)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := optim.Train(context.Background(), ref.Layers[1], h, layerSettings(4, 2).Settings); err != nil {
			t.Fatal(err)
		}
		for l := range d.Layers {
			equal(t, "W", values(d.Layers[l].W), values(ref.Layers[l].W))
			equal(t, "B", values(d.Layers[l].B), values(ref.Layers[l].B))
			equal(t, "C", values(d.Layers[l].C), values(ref.Layers[l].C))
		}
	}
}

// TestB15DBNTrains is case B15's "the DBN [2,1,1] trains": hidden layers of width 1 pretrain
// without error, and the bottom RBM's exact log-likelihood of its data improves.
func TestB15DBNTrains(t *testing.T) {
	// Two visible units that agree 90% of the time: an RBM with one hidden unit can model that.
	r := rand.New(rand.NewPCG(1, 1))
	v := make([]float64, 200*2)
	for i := 0; i < 200; i++ {
		a := float64(r.IntN(2))
		b := a
		if r.Float64() < 0.1 {
			b = 1 - a
		}
		v[2*i], v[2*i+1] = a, b
	}
	data := tensor.New(tensor.WithShape(200, 2), tensor.WithBacking(v))
	var counts [4]float64
	for i := 0; i < 200; i++ {
		counts[int(2*v[2*i]+v[2*i+1])]++
	}
	bound := 0.0 // Σ p̂ log p̂
	for _, c := range counts {
		if c > 0 {
			bound += c / 200 * math.Log(c/200)
		}
	}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		d, err := models.NewDBN([]int{2, 1, 1}, dt, rand.NewPCG(2, 2))
		if err != nil {
			t.Fatal(err)
		}
		x := data
		if dt == tensor.Float32 {
			f := make([]float32, len(v))
			for i := range v {
				f[i] = float32(v[i])
			}
			x = tensor.New(tensor.WithShape(200, 2), tensor.WithBacking(f))
		}
		mean := func() float64 {
			ll, err := d.Layers[0].LogLikelihood(x)
			if err != nil {
				t.Fatal(err)
			}
			s := 0.0
			for _, l := range ll {
				s += l
			}
			return s / float64(len(ll))
		}
		before := mean()
		l0, l1 := layerSettings(3, 30), layerSettings(4, 5)
		l0.LearningRate = optim.Constant(0.5)
		l1.BatchSize = 1 // 1-row minibatches through a 1×1 layer
		if _, err := pretrain.Train(context.Background(), d, x, pretrain.Settings{Layers: []pretrain.Layer{l0, l1}}); err != nil {
			t.Fatalf("%v: %v", dt, err)
		}
		after := mean()
		// Independent fair bits give -2 ln 2 = -1.386 nats per row; no model beats minus the
		// entropy of the data's empirical distribution (≈ -(ln 2 + H(0.1)) = -1.018).
		t.Logf("%v: mean log-likelihood %.4f → %.4f (bound %.4f)", dt, before, after, bound)
		if !(after > before+0.2) || !(after > bound-0.1) || !(after < bound+1e-9) {
			t.Errorf("%v: mean log-likelihood %.4f → %.4f; want a rise to within 0.1 of the bound %.4f", dt, before, after, bound)
		}
		if err := d.Check(); err != nil {
			t.Errorf("%v: %v", dt, err)
		}
		if w := values(d.Layers[1].W)[0]; w == 0 || math.IsNaN(w) {
			t.Errorf("%v: top weight %v", dt, w)
		}
	}
}

// TestSettingsErrors checks that bad settings fail before anything is trained, naming the layer.
func TestSettingsErrors(t *testing.T) {
	data := bars(20, 2)
	d, _ := models.NewDBN([]int{8, 4, 3}, tensor.Float64, rand.NewPCG(1, 1))
	orig, _ := d.Clone()
	ok := func() []pretrain.Layer { return []pretrain.Layer{layerSettings(1, 1), layerSettings(2, 1)} }
	cases := map[string]struct {
		s    pretrain.Settings
		x    *tensor.Dense
		want string
	}{
		"count":      {pretrain.Settings{Layers: ok()[:1]}, data, "1 layer settings for a DBN of 2 layers"},
		"epochs":     {pretrain.Settings{Layers: []pretrain.Layer{layerSettings(1, 1), layerSettings(2, 0)}}, data, "layer 1: Epochs = 0"},
		"shuffle":    {pretrain.Settings{Layers: func() []pretrain.Layer { l := ok(); l[1].Shuffle = nil; return l }()}, data, "layer 1: Settings.Shuffle"},
		"chains":     {pretrain.Settings{Layers: func() []pretrain.Layer { l := ok(); l[0].Chains = nil; return l }()}, data, "layer 0: Settings.Chains"},
		"input":      {pretrain.Settings{Layers: func() []pretrain.Layer { l := ok(); l[1].SampleInput = true; return l }()}, data, "Settings.Input"},
		"width":      {pretrain.Settings{Layers: ok()}, tensor.New(tensor.WithShape(4, 5), tensor.Of(tensor.Float64)), "model has 8 visible units, data has 5 columns"},
		"empty":      {pretrain.Settings{Layers: ok()}, tensor.New(tensor.WithShape(0, 8), tensor.Of(tensor.Float64)), "empty"},
		"range":      {pretrain.Settings{Layers: ok()}, tensor.New(tensor.WithShape(1, 8), tensor.WithBacking([]float64{183, -2, 0.5, 0, 0, 0, 0, 0})), "row 0 column 0 is 183"},
		"validation": {pretrain.Settings{Layers: ok(), Validation: tensor.New(tensor.WithShape(2, 3), tensor.Of(tensor.Float64))}, data, "validation data"},
		"layer validation": {pretrain.Settings{Layers: func() []pretrain.Layer {
			l := ok()
			l[1].Validation = tensor.New(tensor.WithShape(2, 3), tensor.Of(tensor.Float64))
			return l
		}()}, data, "layer 1"},
	}
	for name, tc := range cases {
		_, err := pretrain.Train(context.Background(), d, tc.x, tc.s)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v; want one containing %q", name, err, tc.want)
		}
	}
	for l := range d.Layers {
		equal(t, "W after rejected settings", values(d.Layers[l].W), values(orig.Layers[l].W))
	}
	if _, err := pretrain.Train(context.Background(), nil, data, pretrain.Settings{Layers: ok()}); err == nil {
		t.Error("nil DBN: no error")
	}
}

// TestProgressAndCancel checks the per-layer callbacks, validation passed up the stack, a
// callback's error stopping training, and cancellation.
func TestProgressAndCancel(t *testing.T) {
	data, valid := bars(40, 3), bars(20, 4)
	d, _ := models.NewDBN([]int{8, 5, 3}, tensor.Float64, rand.NewPCG(1, 1))
	var epochs []int
	var layers []int
	l0, l1 := layerSettings(1, 2), layerSettings(2, 3)
	l0.MonitorRows, l1.MonitorRows = 0, 0
	recs, err := pretrain.Train(context.Background(), d, data, pretrain.Settings{
		Layers:     []pretrain.Layer{l0, l1},
		Validation: valid,
		OnEpoch: func(layer int, r optim.EpochRecord) error {
			epochs = append(epochs, layer*10+r.Epoch)
			if r.Validation == nil || r.Validation.Rows != 20 {
				t.Errorf("layer %d epoch %d: validation metrics %+v", layer, r.Epoch, r.Validation)
			}
			return nil
		},
		OnLayer: func(r pretrain.LayerRecord) error { layers = append(layers, r.Layer); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{1, 2, 11, 12, 13}; len(epochs) != len(want) || epochs[2] != 11 || epochs[4] != 13 {
		t.Errorf("epoch callbacks %v, want %v", epochs, want)
	}
	if len(layers) != 2 || layers[1] != 1 || len(recs) != 2 || !(recs[1].Seconds > 0) {
		t.Errorf("layer callbacks %v, records %+v", layers, recs)
	}

	stop := errors.New("stop here")
	before, _ := d.Clone()
	recs, err = pretrain.Train(context.Background(), d, data, pretrain.Settings{
		Layers: []pretrain.Layer{layerSettings(1, 1), layerSettings(2, 1)},
		OnLayer: func(r pretrain.LayerRecord) error {
			if r.Layer == 0 {
				return stop
			}
			return nil
		},
	})
	if !errors.Is(err, stop) || len(recs) != 1 {
		t.Errorf("OnLayer error: %v, %d records", err, len(recs))
	}
	equal(t, "layer 1 untouched after stopping at layer 0", values(d.Layers[1].W), values(before.Layers[1].W))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := pretrain.Train(ctx, d, data, pretrain.Settings{Layers: []pretrain.Layer{layerSettings(1, 1), layerSettings(2, 1)}}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: error %v", err)
	}
}
