package pretrain

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
)

// Layer configures the training of one layer of the stack: optim.Settings (estimator, epochs,
// batch size, schedules, weight decay, random sources, monitoring, progress) plus how the layer's
// input is formed. The Settings' Validation, if nil, is filled in by Train from
// Settings.Validation.
type Layer struct {
	optim.Settings
	// SampleInput trains the layer on binary samples of its input, each entry 1 with the
	// probability given by the input (drawn once, before the layer's first epoch, from
	// Settings.Input), instead of on the probabilities themselves. For layer 0 the input is the
	// data. Hinton, Osindero & Teh (2006) sample; using probabilities has less noise (Hinton 2010,
	// §3.3).
	SampleInput bool
	// InitVisibleBiases sets the layer's visible biases to log(p/(1-p)) of the column means of its
	// input before training (RBM.InitVisibleBiases; Hinton 2010, §8).
	InitVisibleBiases bool
}

// Settings configures Train: one Layer per layer of the DBN, bottom first.
type Settings struct {
	// Layers holds the settings of each layer; its length must equal the DBN's layer count.
	Layers []Layer
	// Input draws the binary samples of layers with SampleInput. Required when one sets it.
	Input rand.Source
	// Validation is optional held-out data (M, n_0), in the DBN's dtype with values in [0,1] (any
	// finite reals for a Gaussian bottom layer). It is
	// passed up the stack with the trained layers (probabilities) and becomes the Validation of
	// every layer whose own Settings.Validation is nil, so each layer reports its free-energy gap.
	Validation *tensor.Dense
	// OnEpoch, when not nil, is called after every epoch of every layer (after the layer's own
	// OnEpoch) with the layer's index; a non-nil error stops training and is returned.
	OnEpoch func(layer int, r optim.EpochRecord) error
	// OnLayer, when not nil, is called after each layer has been trained; a non-nil error stops
	// training and is returned.
	OnLayer func(r LayerRecord) error
}

// LayerRecord is what Train records for each layer.
type LayerRecord struct {
	Layer   int `json:"layer"` // counted from 0, bottom first
	Visible int `json:"visible"`
	Hidden  int `json:"hidden"`
	// Estimator is the gradient estimator's name, e.g. "CD-1".
	Estimator string `json:"estimator"`
	// Seconds is the wall time of the layer: training, plus computing the next layer's input.
	Seconds float64             `json:"seconds"`
	Epochs  []optim.EpochRecord `json:"epochs"`
}

// Train pretrains d greedily, bottom layer first: layer l is trained with optim.Train on its
// input, where the input of layer 0 is data (N, n_0) and the input of layer l > 0 is the hidden
// probabilities p(h_l = 1 | input of layer l-1) of the layer below after its training (optionally
// sampled, see Layer.SampleInput). d's layers are updated in place; layers above the one being
// trained are not touched.
//
// When d has a Gaussian bottom layer (models.NewGaussianDBN) it is layer 0 and is trained, like a
// models.GaussianRBM, on the real-valued data (standardise it, or set LearnSigma); its hidden
// probabilities σ(c + (v/σ)W) feed layer 1. Settings.Layers then counts it: one Layer per layer,
// d.NumLayers() in all. For the Gaussian layer, SampleInput is an error (real values have no
// binary samples) and InitVisibleBiases sets b to the column means of the data (the mean of
// p(v) when W = 0).
//
// Errors before anything is trained: a nil or malformed DBN, a settings count different from the
// DBN's layer count, data or validation data of the wrong shape, dtype or range (values must lie
// in [0,1], or be finite for a Gaussian bottom layer), a layer without Epochs, Shuffle or Chains,
// SampleInput without Settings.Input or on the Gaussian layer. Errors during training (a
// non-finite cost, a cancelled context, a callback's error) name the layer; the records of the
// layers finished so far are returned with them, and the layers keep the updates made so far.
func Train(ctx context.Context, d *models.DBN, data *tensor.Dense, s Settings) ([]LayerRecord, error) {
	if d == nil {
		return nil, errors.New("pretrain: nil DBN")
	}
	if err := d.Check(); err != nil {
		return nil, errors.Wrap(err, "pretrain")
	}
	if len(s.Layers) != d.NumLayers() {
		return nil, fmt.Errorf("pretrain: %d layer settings for a DBN of %d layers (sizes %v); give exactly one per layer", len(s.Layers), d.NumLayers(), d.Sizes())
	}
	if err := d.CheckData(data); err != nil {
		return nil, errors.Wrap(err, "pretrain: training data")
	}
	if s.Validation != nil {
		if err := d.CheckData(s.Validation); err != nil {
			return nil, errors.Wrap(err, "pretrain: validation data")
		}
	}
	if d.Gaussian != nil && s.Layers[0].SampleInput {
		return nil, errors.New("pretrain: layer 0 (Gaussian) has SampleInput set; its real-valued input cannot be sampled as binary")
	}
	sizes := d.Sizes()
	if err := checkLayers(s, layerName, func(l int) int { return sizes[l] }, d.Dtype()); err != nil {
		return nil, err
	}
	return trainLayers(ctx, data, s, func(l int) layerJob {
		var j layerJob
		if g := d.Gaussian; g != nil && l == 0 {
			j = layerJob{model: g, init: gaussianBiases{g}, visible: g.NumVisible(), hidden: g.NumHidden(), up: g.HiddenProbs}
		} else {
			k := l // index into d.Layers
			if d.Gaussian != nil {
				k--
			}
			m := d.Layers[k]
			j = layerJob{model: m, init: m, visible: m.NumVisible(), hidden: m.NumHidden()}
			if k+1 < len(d.Layers) {
				j.up = m.HiddenProbs
			}
		}
		j.estimator = s.Layers[l].Estimator.String()
		return j
	})
}

// gaussianBiases gives a Gaussian layer InitVisibleBiases: b_i = the mean of column i of the data.
type gaussianBiases struct{ m *models.GaussianRBM }

func (g gaussianBiases) InitVisibleBiases(x *tensor.Dense) error {
	if err := g.m.CheckData(x); err != nil {
		return err
	}
	nv := g.m.NumVisible()
	mean := make([]float64, nv)
	var rows int
	switch v := x.Data().(type) {
	case []float64:
		rows = len(v) / nv
		for k, a := range v {
			mean[k%nv] += a
		}
	case []float32:
		rows = len(v) / nv
		for k, a := range v {
			mean[k%nv] += float64(a)
		}
	}
	switch b := g.m.B.Data().(type) {
	case []float64:
		for i := range b {
			b[i] = mean[i] / float64(rows)
		}
	case []float32:
		for i := range b {
			b[i] = float32(mean[i] / float64(rows))
		}
	}
	return nil
}
