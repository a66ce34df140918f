package pretrain_test

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
	"github.com/ebm-go/ebm/pretrain"
)

// clusters returns n rows of 6 real values from two Gaussian clusters with means ±(1,1,1,-1,-1,-1)
// and standard deviation 0.5 per coordinate, the cluster drawn at random; and each row's cluster.
func clusters(n int, seed uint64) (*tensor.Dense, []int) {
	r := rand.New(rand.NewPCG(seed, 7))
	v := make([]float64, n*6)
	label := make([]int, n)
	for i := 0; i < n; i++ {
		s := 1.0
		if r.IntN(2) == 1 {
			s, label[i] = -1, 1
		}
		for j := 0; j < 6; j++ {
			m := s
			if j >= 3 {
				m = -s
			}
			v[i*6+j] = m + 0.5*r.NormFloat64()
		}
	}
	return tensor.New(tensor.WithShape(n, 6), tensor.WithBacking(v)), label
}

// gaussianSettings trains the Gaussian layer with CD-1 and mean-field reconstructions (σ = 1,
// fixed) at a small learning rate, the Bernoulli layer as in layerSettings.
func gaussianSettings(seed uint64, epochs int) pretrain.Layer {
	l := layerSettings(seed, epochs)
	l.Estimator = optim.CD{K: 1, VisibleProbabilities: true}
	l.LearningRate = optim.Constant(0.02)
	return l
}

// reconError is the mean squared error of the Gaussian layer's mean-field reconstruction of x.
func reconError(t *testing.T, g *models.GaussianRBM, x *tensor.Dense) float64 {
	t.Helper()
	rec, err := g.Reconstruct(x)
	if err != nil {
		t.Fatal(err)
	}
	a, b := values(rec), values(x)
	s := 0.0
	for i := range a {
		s += (a[i] - b[i]) * (a[i] - b[i])
	}
	return s / float64(len(a))
}

// TestGaussianDBNTrains: greedy pretraining of a 6 → 8 → 3 DBN with a Gaussian bottom layer on
// two real-valued clusters. The bottom layer's reconstruction error falls well below its initial
// value, the top features tell the clusters apart, and the result is bit for bit that of training
// the GaussianRBM with optim.Train on the data and then the RBM on its hidden probabilities.
func TestGaussianDBNTrains(t *testing.T) {
	data, label := clusters(200, 1)
	valid, _ := clusters(50, 2)
	d, err := models.NewGaussianDBN([]int{6, 8, 3}, tensor.Float64, rand.NewPCG(3, 3))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := d.Clone()
	if err != nil {
		t.Fatal(err)
	}
	before := reconError(t, d.Gaussian, data)
	s := pretrain.Settings{Layers: []pretrain.Layer{gaussianSettings(4, 30), layerSettings(5, 30)}, Validation: valid}
	s.Layers[0].MonitorRows, s.Layers[1].MonitorRows = 50, 50
	s.Layers[0].InitVisibleBiases = true
	recs, err := pretrain.Train(context.Background(), d, data, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Visible != 6 || recs[0].Hidden != 8 || recs[1].Visible != 8 || recs[1].Hidden != 3 || len(recs[1].Epochs) != 30 {
		t.Fatalf("records %+v", recs)
	}
	if recs[0].Epochs[0].Validation == nil || recs[1].Epochs[0].Validation == nil {
		t.Error("the validation data did not reach both layers")
	}
	after := reconError(t, d.Gaussian, data)
	t.Logf("Gaussian layer reconstruction MSE %.4f → %.4f", before, after)
	if !(after < 0.5*before) {
		t.Errorf("reconstruction MSE %.4f → %.4f; want it at least halved", before, after)
	}

	f, err := d.Features(data)
	if err != nil {
		t.Fatal(err)
	}
	fv := values(f)
	var mean [2][3]float64
	var count [2]float64
	for i, c := range label {
		count[c]++
		for k := 0; k < 3; k++ {
			mean[c][k] += fv[i*3+k]
		}
	}
	gap := 0.0
	for k := 0; k < 3; k++ {
		gap = math.Max(gap, math.Abs(mean[0][k]/count[0]-mean[1][k]/count[1]))
	}
	t.Logf("largest difference of the clusters' mean top features: %.3f", gap)
	if !(gap > 0.5) {
		t.Errorf("top features differ by at most %.3f between the clusters; want > 0.5", gap)
	}

	// The same by hand: InitVisibleBiases of a Gaussian layer is b = column means.
	nv := 6
	b := make([]float64, nv)
	x := values(data)
	for i, v := range x {
		b[i%nv] += v
	}
	for i := range b {
		b[i] /= float64(len(x) / nv)
	}
	copy(ref.Gaussian.B.Data().([]float64), b)
	l0 := gaussianSettings(4, 30).Settings
	l0.Validation, l0.MonitorRows = valid, 50
	if _, err := optim.Train(context.Background(), ref.Gaussian, data, l0); err != nil {
		t.Fatal(err)
	}
	h, err := ref.Gaussian.HiddenProbs(data)
	if err != nil {
		t.Fatal(err)
	}
	hv, err := ref.Gaussian.HiddenProbs(valid)
	if err != nil {
		t.Fatal(err)
	}
	l1 := layerSettings(5, 30).Settings
	l1.Validation, l1.MonitorRows = hv, 50
	if _, err := optim.Train(context.Background(), ref.Layers[0], h, l1); err != nil {
		t.Fatal(err)
	}
	equal(t, "Gaussian W", values(d.Gaussian.W), values(ref.Gaussian.W))
	equal(t, "Gaussian b", values(d.Gaussian.B), values(ref.Gaussian.B))
	equal(t, "Gaussian c", values(d.Gaussian.C), values(ref.Gaussian.C))
	equal(t, "layer 1 W", values(d.Layers[0].W), values(ref.Layers[0].W))
	equal(t, "layer 1 c", values(d.Layers[0].C), values(ref.Layers[0].C))
}

// TestGaussianDBNSettingsErrors: the settings count includes the Gaussian layer, which cannot
// sample its input; real values are accepted but not NaN.
func TestGaussianDBNSettingsErrors(t *testing.T) {
	data, _ := clusters(20, 3)
	d, err := models.NewGaussianDBN([]int{6, 4, 3, 2}, tensor.Float64, rand.NewPCG(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := d.Clone()
	ok := func() []pretrain.Layer {
		return []pretrain.Layer{gaussianSettings(1, 1), layerSettings(2, 1), layerSettings(3, 1)}
	}
	nan := tensor.New(tensor.WithShape(1, 6), tensor.WithBacking([]float64{0, 0, math.NaN(), 0, 0, 0}))
	cases := map[string]struct {
		s    pretrain.Settings
		x    *tensor.Dense
		want string
	}{
		"count low":  {pretrain.Settings{Layers: ok()[:2]}, data, "2 layer settings for a DBN of 3 layers (sizes [6 4 3 2])"},
		"count high": {pretrain.Settings{Layers: append(ok(), layerSettings(4, 1))}, data, "4 layer settings for a DBN of 3 layers"},
		"sample":     {pretrain.Settings{Layers: func() []pretrain.Layer { l := ok(); l[0].SampleInput = true; return l }(), Input: rand.NewPCG(1, 2)}, data, "layer 0 (Gaussian) has SampleInput"},
		"NaN":        {pretrain.Settings{Layers: ok()}, nan, "NaN"},
		"layer validation": {pretrain.Settings{Layers: func() []pretrain.Layer {
			l := ok()
			l[1].Validation = tensor.New(tensor.WithShape(2, 6), tensor.Of(tensor.Float64))
			return l
		}()}, data, "layer 1"},
	}
	for name, tc := range cases {
		_, err := pretrain.Train(context.Background(), d, tc.x, tc.s)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v; want one containing %q", name, err, tc.want)
		}
	}
	equal(t, "Gaussian W after rejected settings", values(d.Gaussian.W), values(orig.Gaussian.W))
	// A layer-1 validation set of the right width (4 = the Gaussian layer's hidden units) passes.
	s := pretrain.Settings{Layers: ok()}
	s.Layers[1].Validation = tensor.New(tensor.WithShape(2, 4), tensor.Of(tensor.Float64))
	if _, err := pretrain.Train(context.Background(), d, data, s); err != nil {
		t.Errorf("valid settings with layer-1 validation data: %v", err)
	}
}

// TestGaussianAutoencoderRefused: TrainAutoencoder refuses a Gaussian-visible DBN with an error
// that says so.
func TestGaussianAutoencoderRefused(t *testing.T) {
	d, err := models.NewGaussianDBN([]int{5, 4, 3}, tensor.Float64, rand.NewPCG(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	code, err := models.NewGaussianHiddenRBM(3, 2, tensor.Float64, rand.NewPCG(2, 2))
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(tensor.WithShape(10, 5), tensor.Of(tensor.Float64))
	_, err = pretrain.TrainAutoencoder(context.Background(), d, code, x, pretrain.Settings{})
	if err == nil || !strings.Contains(err.Error(), "Gaussian visible layer") {
		t.Fatalf("error %v, want one naming the Gaussian visible layer", err)
	}
}
