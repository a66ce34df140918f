package pretrain

import (
	"context"
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

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
		if d.Gaussian != nil {
			return nil, errors.New("pretrain: TrainAutoencoder: a DBN with a Gaussian visible layer is not supported (the autoencoder's decoder ends in logistic units); use a Bernoulli stack")
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
	name := func(l int) string {
		if l == len(stack)-1 {
			return "code layer"
		}
		return layerName(l)
	}
	if err := checkLayers(s, name, func(l int) int { return stack[l].NumVisible() }, code.Dtype()); err != nil {
		return nil, err
	}
	return trainLayers(ctx, data, s, func(l int) layerJob {
		m := stack[l]
		j := layerJob{model: m, init: m, visible: m.NumVisible(), hidden: m.NumHidden(), estimator: s.Layers[l].Estimator.String()}
		if r, ok := m.(*models.RBM); ok {
			j.up = r.HiddenProbs
		}
		return j
	})
}

// layerModel is what TrainAutoencoder needs of a layer: models.RBM and models.GaussianHiddenRBM.
type layerModel interface {
	optim.Model
	NumHidden() int
	InitVisibleBiases(data *tensor.Dense) error
}
