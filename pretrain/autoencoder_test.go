package pretrain_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
	"github.com/ebm-go/ebm/pretrain"
)

// TestAutoencoderEqualsLayerByLayer checks the wiring of TrainAutoencoder: the DBN's layers are
// those of Train with the same settings, and the code layer equals a GaussianHiddenRBM trained with
// optim.Train on the DBN's up-pass of the data, bit for bit; the records cover all three layers
// and the code layer's exact log-likelihood of its input rises.
func TestAutoencoderEqualsLayerByLayer(t *testing.T) {
	data := bars(60, 1)
	d, err := models.NewDBN([]int{8, 6, 4}, tensor.Float64, rand.NewPCG(2, 2))
	if err != nil {
		t.Fatal(err)
	}
	code, err := models.NewGaussianHiddenRBM(4, 2, tensor.Float64, rand.NewPCG(3, 3))
	if err != nil {
		t.Fatal(err)
	}
	refD, _ := d.Clone()
	refCode, _ := models.NewGaussianHiddenRBM(4, 2, tensor.Float64, rand.NewPCG(3, 3))
	codeLayer := func() pretrain.Layer {
		l := layerSettings(6, 20)
		l.LearningRate = optim.Constant(0.01)
		l.Estimator = optim.CD{VisibleProbabilities: true}
		l.InitVisibleBiases = true
		return l
	}
	var layersSeen []int
	recs, err := pretrain.TrainAutoencoder(context.Background(), d, code, data, pretrain.Settings{
		Layers: []pretrain.Layer{layerSettings(4, 3), layerSettings(5, 2), codeLayer()},
		OnLayer: func(r pretrain.LayerRecord) error {
			layersSeen = append(layersSeen, r.Layer)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[2].Layer != 2 || recs[2].Visible != 4 || recs[2].Hidden != 2 || len(recs[2].Epochs) != 20 || len(layersSeen) != 3 {
		t.Fatalf("records %+v, OnLayer saw %v", recs, layersSeen)
	}
	if _, err := pretrain.Train(context.Background(), refD, data, pretrain.Settings{Layers: []pretrain.Layer{layerSettings(4, 3), layerSettings(5, 2)}}); err != nil {
		t.Fatal(err)
	}
	top, err := refD.Features(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := refCode.InitVisibleBiases(top); err != nil {
		t.Fatal(err)
	}
	logLik := func() float64 {
		logZ, err := refCode.LogZ()
		if err != nil {
			t.Fatal(err)
		}
		f, err := refCode.FreeEnergy(top)
		if err != nil {
			t.Fatal(err)
		}
		s := 0.0
		for _, v := range f {
			s -= v + logZ
		}
		return s / float64(len(f))
	}
	before := logLik()
	if _, err := optim.Train(context.Background(), refCode, top, codeLayer().Settings); err != nil {
		t.Fatal(err)
	}
	if after := logLik(); !(after > before) {
		t.Errorf("the code layer's mean log-likelihood of its input went from %v to %v", before, after)
	}
	for l := range d.Layers {
		equal(t, "W", values(d.Layers[l].W), values(refD.Layers[l].W))
	}
	equal(t, "code W", values(code.W), values(refCode.W))
	equal(t, "code b", values(code.B), values(refCode.B))
	equal(t, "code c", values(code.C), values(refCode.C))

	// Without a DBN the code layer trains on the data.
	solo, _ := models.NewGaussianHiddenRBM(8, 2, tensor.Float64, rand.NewPCG(1, 1))
	if recs, err := pretrain.TrainAutoencoder(context.Background(), nil, solo, data, pretrain.Settings{Layers: []pretrain.Layer{codeLayer()}}); err != nil || len(recs) != 1 {
		t.Errorf("code layer alone: %v, %d records", err, len(recs))
	}
}

// TestAutoencoderSettingsErrors checks the errors given before training.
func TestAutoencoderSettingsErrors(t *testing.T) {
	data := bars(20, 1)
	d, _ := models.NewDBN([]int{8, 6}, tensor.Float64, rand.NewPCG(2, 2))
	code, _ := models.NewGaussianHiddenRBM(6, 2, tensor.Float64, rand.NewPCG(3, 3))
	wrong, _ := models.NewGaussianHiddenRBM(5, 2, tensor.Float64, rand.NewPCG(3, 3))
	ok := func() pretrain.Settings {
		return pretrain.Settings{Layers: []pretrain.Layer{layerSettings(1, 1), layerSettings(2, 1)}}
	}
	for name, tc := range map[string]struct {
		code *models.GaussianHiddenRBM
		s    func() pretrain.Settings
		want string
	}{
		"count":  {code, func() pretrain.Settings { s := ok(); s.Layers = s.Layers[:1]; return s }, "give exactly 2"},
		"size":   {wrong, ok, "code layer is 5×2"},
		"nil":    {nil, ok, "nil code layer"},
		"epochs": {code, func() pretrain.Settings { s := ok(); s.Layers[1].Epochs = 0; return s }, "code layer: Epochs"},
		"below":  {code, func() pretrain.Settings { s := ok(); s.Layers[0].Shuffle = nil; return s }, "layer 0: Settings.Shuffle"},
		"valid": {code, func() pretrain.Settings {
			s := ok()
			s.Validation = bars(3, 1).Clone().(*tensor.Dense)
			s.Validation.Data().([]float64)[0] = 3
			return s
		}, "validation data"},
		"chains":  {code, func() pretrain.Settings { s := ok(); s.Layers[1].Chains = nil; return s }, "Chains"},
		"sampled": {code, func() pretrain.Settings { s := ok(); s.Layers[1].SampleInput = true; return s }, "Settings.Input"},
	} {
		before := values(d.Layers[0].W)
		_, err := pretrain.TrainAutoencoder(context.Background(), d, tc.code, data, tc.s())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v; want one containing %q", name, err, tc.want)
		}
		equal(t, name+": DBN untouched", values(d.Layers[0].W), before)
	}
}
