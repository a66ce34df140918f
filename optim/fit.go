package optim

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
)

// GradientModel is a model that estimates the gradient of its own mean negative log-likelihood,
// for learning rules that are not the gradient of a free-energy difference: for example the
// Boltzmann-machine rule -(⟨s_i s_j⟩_clamped - ⟨s_i s_j⟩_free) (Ackley, Hinton & Sejnowski 1985)
// with exact or Gibbs-sampled expectations.
type GradientModel interface {
	// NumVisible is the number of visible units, the column count of every data batch.
	NumVisible() int
	// Dtype is the dtype of the data and of every parameter.
	Dtype() tensor.Dtype
	// Params are the tensors Fit updates, always in the same order.
	Params() []*tensor.Dense
	// Gradient returns, for each of Params (same shapes and order), the gradient of the mean
	// negative log-likelihood of batch (rows, nv), drawing any random numbers from src.
	Gradient(batch *tensor.Dense, src rand.Source) ([]*tensor.Dense, error)
}

// Fit trains a GradientModel with the same minibatch loop, schedules, momentum, weight decay
// (matrices only), seeded shuffling (Settings.Shuffle), cancellation, progress records and OnEpoch
// callback as Train; Settings.Chains is the source passed to Gradient. Estimator, Validation and
// the monitoring fields do not apply (records carry no metrics: compute them in OnEpoch), nor do
// ClipNorm and checkpoints (an error). A step whose update would make any parameter non-finite
// stops training with an error and changes nothing.
func Fit(ctx context.Context, m GradientModel, data *tensor.Dense, s Settings) ([]EpochRecord, error) {
	if m == nil {
		return nil, errors.New("optim: nil model")
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	if err := datasets.CheckMatrix("training data", data, m.NumVisible(), m.Dtype()); err != nil {
		return nil, errors.Wrap(err, "optim")
	}
	if c, ok := m.(DataChecker); ok {
		if err := c.CheckData(data); err != nil {
			return nil, errors.Wrap(err, "optim: training data")
		}
	}
	if s.Checkpoint != "" || s.Resume != "" || s.ClipNorm != 0 {
		return nil, errors.New("optim: Fit does not support Settings.Checkpoint, Resume or ClipNorm (Train does)")
	}
	decay := func(p *tensor.Dense) float64 {
		if p.Shape().Dims() >= 2 {
			return s.WeightDecay
		}
		return 0
	}
	params := m.Params()
	vel := make([]*tensor.Dense, len(params))
	for i, p := range params {
		if p == nil || !p.Dtype().Eq(m.Dtype()) {
			return nil, fmt.Errorf("optim: parameter %d is nil or not of the model's dtype %v", i, m.Dtype())
		}
		vel[i] = tensor.New(tensor.WithShape(p.Shape().Clone()...), tensor.Of(m.Dtype()))
	}
	rows := data.Shape()[0]
	batch := s.batchSize(rows)
	in := tensor.New(tensor.WithShape(batch, m.NumVisible()), tensor.Of(m.Dtype()))
	shuffle := rand.New(s.Shuffle)
	var records []EpochRecord
	for epoch := 0; epoch < s.Epochs; epoch++ {
		lr, mom := s.learningRate().At(epoch), s.momentum().At(epoch)
		began := time.Now()
		perm := shuffle.Perm(rows)
		for bi := 0; bi+batch <= rows; bi += batch {
			if err := ctx.Err(); err != nil {
				return records, errors.Wrapf(err, "optim: training stopped in epoch %d", epoch+1)
			}
			copyRows(in, data, perm[bi:bi+batch])
			grads, err := m.Gradient(in, s.Chains)
			if err != nil {
				return records, errors.Wrapf(err, "optim: epoch %d, minibatch %d", epoch+1, bi/batch+1)
			}
			if len(grads) != len(params) {
				return records, fmt.Errorf("optim: model returned %d gradients for %d parameters", len(grads), len(params))
			}
			// Check every update before applying any, so a non-finite one leaves all
			// parameters as they were.
			for i, p := range params {
				if !grads[i].Shape().Eq(p.Shape()) {
					return records, fmt.Errorf("optim: gradient %d has shape %v, parameter has %v", i, grads[i].Shape(), p.Shape())
				}
				if err := checkStep(p, grads[i], vel[i], lr, mom, decay(p)); err != nil {
					return records, errors.Wrapf(err, "optim: epoch %d, minibatch %d, parameter %d", epoch+1, bi/batch+1, i)
				}
			}
			for i, p := range params {
				applyStep(p, grads[i], vel[i], lr, mom, decay(p))
			}
		}
		rec := EpochRecord{Epoch: epoch + 1, Seconds: time.Since(began).Seconds(), LearningRate: lr, Momentum: mom}
		records = append(records, rec)
		if s.Record != nil {
			if err := json.NewEncoder(s.Record).Encode(rec); err != nil {
				return records, errors.Wrap(err, "optim: writing epoch record")
			}
		}
		if s.OnEpoch != nil {
			if err := s.OnEpoch(rec); err != nil {
				return records, err
			}
		}
	}
	return records, nil
}
