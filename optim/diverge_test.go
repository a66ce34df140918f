package optim_test

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
)

func allFinite(t *testing.T, what string, m *models.RBM) {
	t.Helper()
	for i, b := range paramBits(m) {
		if v := math.Float64frombits(b); math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("%s: parameter entry %d is %v", what, i, v)
		}
	}
}

// runUntilError trains one minibatch per epoch (batch = all rows) and returns the error of the
// first failing epoch, the parameters from just before it, and its number (counted from 1).
func runUntilError(t *testing.T, m *models.RBM, data *tensor.Dense, s optim.Settings) (error, []uint64, int) {
	t.Helper()
	s.BatchSize, s.MonitorRows = data.Shape()[0], -1
	tr, err := optim.NewTrainer(m, data.Shape()[0], s)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	for e := 1; e <= s.Epochs; e++ {
		before := paramBits(m)
		if _, err := tr.Epochs(context.Background(), data, 1); err != nil {
			return err, before, e
		}
	}
	return nil, nil, 0
}

// TestDivergenceKeepsLastFiniteParameters drives the learning rate up until training fails and
// checks that the error names the epoch, the minibatch and the tensor (or the cost), and that
// the model keeps the last finite parameters: bit for bit those from before the failing step.
// (a) float32 with a learning rate of 1e39 from epoch 3 (+Inf in float32): the first update
// would make W infinite. (b) float32 with a constant learning rate of 1e38: the parameters grow
// by ~1e37 per step until the free energies overflow. (c) float64 with a learning rate of
// 1.7e308 from epoch 3: that step still gives finite parameters (the gradient entries of a
// Bernoulli RBM are at most 1 in size), of order 1e308, whose free energies overflow in epoch 4.
func TestDivergenceKeepsLastFiniteParameters(t *testing.T) {
	for name, c := range map[string]struct {
		dt    tensor.Dtype
		lr    optim.Schedule
		epoch int // the failing epoch, 0 when any
		want  []string
	}{
		"float32 lr +Inf": {tensor.Float32, optim.Switch{Before: 0.1, After: 1e39, Epoch: 2}, 3, []string{"epoch 3, minibatch 1", "parameter rbm", ".W: entry", "non-finite", "lower the learning rate"}},
		"float32 lr 1e38": {tensor.Float32, optim.Constant(1e38), 0, []string{", minibatch 1", "non-finite"}},
		"float64 lr 1.7e308": {tensor.Float64, optim.Switch{Before: 0.1, After: 1.7e308, Epoch: 2}, 4,
			[]string{"epoch 4, minibatch 1", "CD cost is NaN (non-finite) with finite parameters", "lower the learning rate"}},
	} {
		t.Run(name, func(t *testing.T) {
			m := ckptModel(t, c.dt, 1)
			s := ckptSettings(optim.CD{}, 50, 1)
			s.LearningRate, s.Momentum = c.lr, optim.Constant(0.9)
			err, before, epoch := runUntilError(t, m, ckptData(c.dt), s)
			if err == nil {
				t.Fatal("no error in 50 epochs")
			}
			if c.epoch != 0 && epoch != c.epoch {
				t.Errorf("failed in epoch %d, want %d: %v", epoch, c.epoch, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			allFinite(t, "after the error", m)
			sameBits(t, "parameters after the error", paramBits(m), before)
		})
	}
}

// TestB19ValueDomain is case B19: a Bernoulli RBM fed [183, -2, 0.5] or a row with NaN/Inf gets
// an error naming row, column and value that suggests rescaling or Gaussian visible units
// (TestB15InputValidation checks the same for models.RBM's own methods; this is Train). With the
// check off — a Trainer driven directly checks shape, dtype and finiteness but not the model's
// value domain — the parameters stay finite after every step, or training stops with a clear
// non-finite error and keeps the last finite parameters.
func TestB19ValueDomain(t *testing.T) {
	s := ckptSettings(optim.CD{}, 1, 1)
	s.BatchSize = 2
	for name, c := range map[string]struct {
		rows []float64
		want []string
	}{
		"range": {[]float64{183, -2, 0.5, 1, 0, 1}, []string{"row 0 column 0 is 183", "rescale", "Gaussian visible units"}},
		"below": {[]float64{0, 0, 1, 1, -2, 1}, []string{"row 1 column 1 is -2", "rescale"}},
		"NaN":   {[]float64{0, 0, 1, 1, math.NaN(), 1}, []string{"row 1 column 1 is NaN", "finite"}},
		"Inf":   {[]float64{0, math.Inf(-1), 1, 1, 0, 1}, []string{"row 0 column 1 is -Inf", "finite"}},
	} {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			m, err := models.NewRBM(3, 2, dt, rand.NewPCG(1, 1))
			if err != nil {
				t.Fatal(err)
			}
			before := paramBits(m)
			_, err = optim.Train(context.Background(), m, dense(dt, []int{2, 3}, c.rows), s)
			for _, w := range c.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("%s %v: error %v; want one containing %q", name, dt, err, w)
				}
			}
			sameBits(t, name+": parameters after a refused Train", paramBits(m), before)
		}
	}

	// Check off: unscaled data through a Trainer. At lr 0.1 the parameters stay finite; with
	// values of 1e30 the second step's free energies overflow and training stops.
	for _, c := range []struct {
		dt    tensor.Dtype
		scale float64
		lr    float64
		fails bool
	}{{tensor.Float64, 183, 0.1, false}, {tensor.Float32, 183, 0.1, false}, {tensor.Float32, 1e30, 1, true}, {tensor.Float64, 1e300, 1, true}} {
		rows := []float64{183, -2, 0.5, 1, 0, 1, 0, 1, 0, 1, 1, 0}
		rows[0] = c.scale
		data := dense(c.dt, []int{4, 3}, rows)
		m, err := models.NewRBM(3, 2, c.dt, rand.NewPCG(1, 1))
		if err != nil {
			t.Fatal(err)
		}
		s := ckptSettings(optim.CD{}, 30, 1)
		s.LearningRate = optim.Constant(c.lr)
		err, before, epoch := runUntilError(t, m, data, s)
		allFinite(t, "unchecked data", m)
		if !c.fails {
			if err != nil {
				t.Errorf("%v value %g: %v", c.dt, c.scale, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "non-finite") || !strings.Contains(err.Error(), "epoch") {
			t.Errorf("%v value %g: error %v; want a non-finite error naming the epoch", c.dt, c.scale, err)
			continue
		}
		if epoch < 2 {
			t.Errorf("%v value %g: failed in epoch %d; the first step should succeed with finite parameters", c.dt, c.scale, epoch)
		}
		sameBits(t, "unchecked data: parameters after the error", paramBits(m), before)
	}
}

// TestDivergenceWithinEpoch is the float32 lr 1e38 case with four minibatches per epoch, so that
// the failing step comes after updates of the same epoch and the trainer's bound check (not only
// the entry-by-entry check every epoch starts with) has to catch it: training stops with a
// non-finite error and finite parameters.
func TestDivergenceWithinEpoch(t *testing.T) {
	m := ckptModel(t, tensor.Float32, 1)
	data := ckptData(tensor.Float32)
	s := ckptSettings(optim.CD{}, 50, 1)
	s.LearningRate, s.Momentum = optim.Constant(1e38), optim.Constant(0.9)
	s.BatchSize, s.MonitorRows = data.Shape()[0]/4, -1
	tr, err := optim.NewTrainer(m, data.Shape()[0], s)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	_, err = tr.Epochs(context.Background(), data, 50)
	if err == nil || !strings.Contains(err.Error(), "non-finite") {
		t.Fatalf("error %v, want a non-finite update or cost", err)
	}
	if strings.Contains(err.Error(), ", minibatch 1:") {
		t.Logf("note: failed at the first minibatch of an epoch: %v", err)
	}
	allFinite(t, "after the error", m)
}
