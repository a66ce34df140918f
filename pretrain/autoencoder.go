package pretrain

import (
	"context"
	"fmt"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
)

// TrainAutoencoder pretrains the stack of a deep autoencoder greedily (Hinton & Salakhutdinov
// 2006, "Reducing the dimensionality of data with neural networks", Science 313): the Bernoulli
// RBMs of d exactly as Train does, then the code layer code, a models.GaussianHiddenRBM with linear
// (Gaussian) hidden units, on the hidden probabilities of d's top layer (the up-pass of data).
// The stack is then unrolled into an encoder and a decoder by finetune.UnrollAutoencoder.
//
// s.Layers holds one Layer per RBM of d plus one, the last, for the code layer (its settings
// usually carry a learning rate about 100 times smaller: the paper's code uses 0.001 for the linear
// layer against 0.1 for the others). d may be nil: the code layer is then trained on data itself.
// s.Validation, s.Input, s.OnEpoch and s.OnLayer apply to every layer, the code layer's index
// being d.NumLayers(). Both models are trained in place; d's layers end bit-identical to
// Train(ctx, d, data, s without the code layer's settings). Errors are those of Train, all checked
// before anything is trained, plus a code layer whose visible size or dtype does not match d's top
// layer; errors during training name the layer.
func TrainAutoencoder(ctx context.Context, d *models.DBN, code *models.GaussianHiddenRBM, data *tensor.Dense, s Settings) ([]LayerRecord, error) {
	if code == nil {
		return nil, errors.New("pretrain: nil code layer")
	}
	if err := code.Check(); err != nil {
		return nil, errors.Wrap(err, "pretrain")
	}
	var stack []layerModel
	check := code.CheckData
	if d != nil {
		if err := d.Check(); err != nil {
			return nil, errors.Wrap(err, "pretrain")
		}
		if code.NumVisible() != d.NumHidden() || !code.Dtype().Eq(d.Dtype()) {
			return nil, fmt.Errorf("pretrain: code layer is %d×%d %v; the DBN's top layer has %d %v units", code.NumVisible(), code.NumHidden(), code.Dtype(), d.NumHidden(), d.Dtype())
		}
		for _, m := range d.Layers {
			stack = append(stack, m)
		}
		check = d.CheckData
	}
	stack = append(stack, code)
	if len(s.Layers) != len(stack) {
		return nil, fmt.Errorf("pretrain: %d layer settings for %d RBMs and a code layer; give exactly %d", len(s.Layers), len(stack)-1, len(stack))
	}
	if err := check(data); err != nil {
		return nil, errors.Wrap(err, "pretrain: training data")
	}
	if s.Validation != nil {
		if err := check(s.Validation); err != nil {
			return nil, errors.Wrap(err, "pretrain: validation data")
		}
	}
	for l, ls := range s.Layers {
		name := fmt.Sprintf("layer %d", l)
		if l == len(stack)-1 {
			name = "code layer"
		}
		switch {
		case ls.Epochs < 1:
			return nil, fmt.Errorf("pretrain: %s: Epochs = %d; want ≥ 1", name, ls.Epochs)
		case ls.Shuffle == nil:
			return nil, fmt.Errorf("pretrain: %s: Settings.Shuffle (rand.Source for minibatch order) is nil", name)
		case ls.Chains == nil:
			return nil, fmt.Errorf("pretrain: %s: Settings.Chains (rand.Source for the Gibbs chains) is nil", name)
		case ls.SampleInput && s.Input == nil:
			return nil, fmt.Errorf("pretrain: %s samples its input but Settings.Input (rand.Source) is nil", name)
		}
		if ls.Validation != nil {
			if err := datasets.CheckMatrix("validation data", ls.Validation, stack[l].NumVisible(), code.Dtype()); err != nil {
				return nil, errors.Wrapf(err, "pretrain: %s", name)
			}
		}
	}

	var records []LayerRecord
	input, valid := data, s.Validation
	for l, m := range stack {
		if err := ctx.Err(); err != nil {
			return records, errors.Wrapf(err, "pretrain: stopped before layer %d", l)
		}
		began := time.Now()
		ls := s.Layers[l]
		x := input
		if ls.SampleInput {
			var err error
			if x, err = datasets.Binarize(input, s.Input); err != nil {
				return records, errors.Wrapf(err, "pretrain: layer %d: sampling the input", l)
			}
		}
		if ls.InitVisibleBiases {
			if err := m.InitVisibleBiases(x); err != nil {
				return records, errors.Wrapf(err, "pretrain: layer %d", l)
			}
		}
		ts := ls.Settings
		if ts.Validation == nil {
			ts.Validation = valid
		}
		if s.OnEpoch != nil {
			own, layer := ts.OnEpoch, l
			ts.OnEpoch = func(r optim.EpochRecord) error {
				if own != nil {
					if err := own(r); err != nil {
						return err
					}
				}
				return s.OnEpoch(layer, r)
			}
		}
		epochs, err := optim.Train(ctx, m, x, ts)
		rec := LayerRecord{Layer: l, Visible: m.NumVisible(), Hidden: m.NumHidden(), Estimator: ls.Estimator.String(), Epochs: epochs}
		if err != nil {
			rec.Seconds = time.Since(began).Seconds()
			return append(records, rec), errors.Wrapf(err, "pretrain: layer %d (%d×%d)", l, m.NumVisible(), m.NumHidden())
		}
		if r, ok := m.(*models.RBM); ok {
			// The next layer's input: this layer's hidden probabilities of its (unsampled) input.
			if input, err = r.HiddenProbs(input); err != nil {
				return records, errors.Wrapf(err, "pretrain: layer %d: hidden probabilities", l)
			}
			if valid != nil {
				if valid, err = r.HiddenProbs(valid); err != nil {
					return records, errors.Wrapf(err, "pretrain: layer %d: validation hidden probabilities", l)
				}
			}
		}
		rec.Seconds = time.Since(began).Seconds()
		records = append(records, rec)
		if s.OnLayer != nil {
			if err := s.OnLayer(rec); err != nil {
				return records, err
			}
		}
	}
	return records, nil
}

// layerModel is what TrainAutoencoder needs of a layer: models.RBM and models.GaussianHiddenRBM.
type layerModel interface {
	optim.Model
	NumHidden() int
	InitVisibleBiases(data *tensor.Dense) error
}
