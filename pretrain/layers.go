package pretrain

import (
	"context"
	"fmt"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/optim"
)

// layerJob is one layer of a greedy stack, as trainLayers sees it.
type layerJob struct {
	// model is what optim.Train trains; init sets the visible biases from the data (usually the
	// same model; the RBM inside a replicated wrapper for TrainDBM).
	model optim.Model
	init  interface{ InitVisibleBiases(*tensor.Dense) error }
	// visible and hidden are the layer's sizes and estimator its label, for the record.
	visible, hidden int
	estimator       string
	// up maps this layer's input to the next layer's (hidden probabilities); nil on the top layer.
	up func(*tensor.Dense) (*tensor.Dense, error)
}

// checkLayers checks the per-layer settings shared by Train, TrainAutoencoder and TrainDBM:
// epochs, sources, and each layer's own validation data (visible(l) columns of dtype dt).
// name(l) names layer l in errors.
func checkLayers(s Settings, name func(l int) string, visible func(l int) int, dt tensor.Dtype) error {
	for l, ls := range s.Layers {
		switch {
		case ls.Epochs < 1:
			return fmt.Errorf("pretrain: %s: Epochs = %d; want ≥ 1", name(l), ls.Epochs)
		case ls.Shuffle == nil:
			return fmt.Errorf("pretrain: %s: Settings.Shuffle (rand.Source for minibatch order) is nil", name(l))
		case ls.Chains == nil:
			return fmt.Errorf("pretrain: %s: Settings.Chains (rand.Source for the Gibbs chains) is nil", name(l))
		case ls.SampleInput && s.Input == nil:
			return fmt.Errorf("pretrain: %s samples its input but Settings.Input (rand.Source) is nil", name(l))
		}
		if ls.Validation != nil {
			if err := datasets.CheckMatrix("validation data", ls.Validation, visible(l), dt); err != nil {
				return errors.Wrapf(err, "pretrain: %s", name(l))
			}
		}
	}
	return nil
}

// layerName is the default name of layer l in errors.
func layerName(l int) string { return fmt.Sprintf("layer %d", l) }

// trainLayers runs the greedy layer-wise loop (Hinton, Osindero & Teh 2006) shared by Train,
// TrainAutoencoder and TrainDBM: for each layer job(l), it samples the input if the layer asks,
// initialises the visible biases if asked, trains with optim.Train (the stack's validation data
// and OnEpoch wired in), then passes the unsampled input and the validation data up. It returns
// the records of the layers trained, the failing one included.
func trainLayers(ctx context.Context, data *tensor.Dense, s Settings, job func(l int) layerJob) ([]LayerRecord, error) {
	var records []LayerRecord
	input, valid := data, s.Validation
	for l, ls := range s.Layers {
		if err := ctx.Err(); err != nil {
			return records, errors.Wrapf(err, "pretrain: stopped before layer %d", l)
		}
		began := time.Now()
		j := job(l)
		x := input
		if ls.SampleInput {
			var err error
			if x, err = datasets.Binarize(input, s.Input); err != nil {
				return records, errors.Wrapf(err, "pretrain: layer %d: sampling the input", l)
			}
		}
		if ls.InitVisibleBiases {
			if err := j.init.InitVisibleBiases(x); err != nil {
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
		epochs, err := optim.Train(ctx, j.model, x, ts)
		rec := LayerRecord{Layer: l, Visible: j.visible, Hidden: j.hidden, Estimator: j.estimator, Epochs: epochs}
		if err != nil {
			rec.Seconds = time.Since(began).Seconds()
			return append(records, rec), errors.Wrapf(err, "pretrain: layer %d (%d×%d)", l, j.visible, j.hidden)
		}
		if j.up != nil {
			// The next layer's data: this layer's hidden probabilities. A sampled input x only
			// trained this layer; the recognition pass uses the probabilities of the layer below.
			if input, err = j.up(input); err != nil {
				return records, errors.Wrapf(err, "pretrain: layer %d: hidden probabilities", l)
			}
			if valid != nil {
				if valid, err = j.up(valid); err != nil {
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
