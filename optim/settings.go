package optim

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"

	"gorgonia.org/tensor"
)

// CD selects the gradient estimator: contrastive divergence with K steps of Gibbs sampling started
// at the data (Hinton 2002), or, with Persistent set, persistent contrastive divergence whose chains
// carry their state from one minibatch to the next (Tieleman 2008, "stochastic maximum
// likelihood"). The zero value is CD-1.
type CD struct {
	// K is the number of Gibbs steps per update; 0 means 1.
	K int
	// Persistent selects PCD-K.
	Persistent bool
	// Chains is the number of persistent chains; 0 means the minibatch size. Ignored for CD.
	Chains int
	// VisibleProbabilities ends each CD chain with the visible probabilities p(v|h_{k-1}) instead
	// of a sample (Hinton 2010, §3.2: less sampling noise; the classic numpy CD-1 does this). The
	// model's bound form must implement graph.MeanStepper. Not allowed with Persistent, whose
	// chains must stay Markov chains.
	VisibleProbabilities bool
}

// String gives the usual name: "CD-1", "PCD-5".
func (c CD) String() string {
	k := c.K
	if k == 0 {
		k = 1
	}
	if c.Persistent {
		return fmt.Sprintf("PCD-%d", k)
	}
	if c.VisibleProbabilities {
		return fmt.Sprintf("CD-%d (visible probabilities)", k)
	}
	return fmt.Sprintf("CD-%d", k)
}

func (c CD) k() int {
	if c.K == 0 {
		return 1
	}
	return c.K
}

// Schedule gives a hyper-parameter's value for an epoch (counted from 0).
type Schedule interface {
	At(epoch int) float64
}

// Constant is a Schedule that never changes.
type Constant float64

// At returns c.
func (c Constant) At(int) float64 { return float64(c) }

// Switch is a Schedule that is Before for the first Epoch epochs and After from then on. Hinton's
// practical guide (2010, §9) uses momentum Switch{Before: 0.5, After: 0.9, Epoch: 5}.
type Switch struct {
	Before, After float64
	Epoch         int
}

// At returns Before for epoch < s.Epoch, else After.
func (s Switch) At(epoch int) float64 {
	if epoch < s.Epoch {
		return s.Before
	}
	return s.After
}

// InverseDecay is the schedule Rate / (1 + Decay·epoch).
type InverseDecay struct {
	Rate, Decay float64
}

// At returns d.Rate / (1 + d.Decay·epoch).
func (d InverseDecay) At(epoch int) float64 { return d.Rate / (1 + d.Decay*float64(epoch)) }

// HintonMomentum is the momentum schedule of Hinton's practical guide: 0.5 for the first five
// epochs, 0.9 after.
func HintonMomentum() Schedule { return Switch{Before: 0.5, After: 0.9, Epoch: 5} }

// Settings configures Train. The zero value of every field except Epochs, Shuffle and Chains is a
// documented default.
type Settings struct {
	// Estimator is the gradient estimator; the zero value is CD-1.
	Estimator CD
	// Epochs is the number of passes over the training data; must be ≥ 1.
	Epochs int
	// BatchSize is the minibatch size; 0 means 100. A batch larger than the data is cut to the
	// data's row count. Each epoch uses ⌊N/BatchSize⌋ minibatches of a fresh random permutation;
	// the remainder rows of an epoch are left out of that epoch only.
	BatchSize int
	// LearningRate is the step size per epoch; nil means Constant(0.1).
	LearningRate Schedule
	// Momentum is the momentum coefficient per epoch; nil means Constant(0) (plain SGD). See
	// HintonMomentum.
	Momentum Schedule
	// WeightDecay is the L2 coefficient λ: the update adds λ·W to the gradient of every parameter
	// with two or more dimensions (weight matrices; biases are never decayed). 0 means none.
	WeightDecay float64

	// Shuffle draws the minibatch order. Required.
	Shuffle rand.Source
	// Chains draws every sample of the negative phase. Required.
	Chains rand.Source

	// Validation is optional held-out data (M, nv) of the model's dtype, monitored every epoch.
	Validation *tensor.Dense
	// MonitorRows is how many rows of the training data (its first rows) and of the validation
	// data are used for the per-epoch metrics; 0 means 1000. A negative value turns monitoring off.
	MonitorRows int
	// Monitor draws the bit positions of the one-bit pseudo-likelihood estimator. nil means a PCG
	// seeded with (1, 2), so metrics are comparable between runs.
	Monitor rand.Source

	// Progress, when not nil, receives a progress bar (one tick per minibatch).
	Progress io.Writer
	// Record, when not nil, receives one JSON object per epoch (an EpochRecord), one per line.
	Record io.Writer
	// OnEpoch, when not nil, is called after every epoch; a non-nil error stops training and is
	// returned by Train.
	OnEpoch func(EpochRecord) error

	// ClipNorm, when > 0, bounds the Euclidean norm of the gradient: when ‖g + λθ‖ over all
	// parameters together exceeds ClipNorm, the minibatch's step uses the learning rate scaled by
	// ClipNorm/‖g + λθ‖ (gradient-norm clipping, Pascanu, Mikolov & Bengio 2013), so the
	// gradient step ε·(g + λθ) has norm at most ε·ClipNorm (a relative margin of 1e-9 for
	// Float64, 1e-6 for Float32 keeps rounding from exceeding it); momentum then adds μ·Δ as
	// usual. EpochRecord.Clipped counts the clipped minibatches. 0 means no clipping; it costs one
	// extra pass over the gradients per minibatch when on.
	ClipNorm float64

	// Checkpoint, when not empty, is the file a Trainer saves its full training state to (see
	// Trainer.SaveCheckpoint): after every CheckpointEvery-th epoch, and when the context is
	// cancelled (the error then says where the checkpoint is). The file is replaced atomically.
	// Shuffle, Chains and Monitor must then implement encoding.BinaryMarshaler and
	// encoding.BinaryUnmarshaler (*rand.PCG and *rand.ChaCha8 do).
	Checkpoint string
	// CheckpointEvery is the number of epochs between checkpoints; 0 means only on cancellation.
	CheckpointEvery int
	// Resume, when not empty, is a checkpoint file (Trainer.SaveCheckpoint) Train continues from:
	// it restores the parameters, velocities, persistent chains, position (epoch and minibatch)
	// and random-source states, then runs the epochs left of Epochs (counted from the start of
	// the original run). The model and the other settings must be those of the original run
	// (shapes, dtype, estimator, batch size and row count are checked); the result is then bit
	// for bit that of an uninterrupted run.
	Resume string
}

func (s Settings) batchSize(n int) int {
	b := s.BatchSize
	if b == 0 {
		b = 100
	}
	if b > n {
		b = n
	}
	return b
}

func (s Settings) learningRate() Schedule {
	if s.LearningRate == nil {
		return Constant(0.1)
	}
	return s.LearningRate
}

func (s Settings) momentum() Schedule {
	if s.Momentum == nil {
		return Constant(0)
	}
	return s.Momentum
}

func (s Settings) monitorRows() int {
	if s.MonitorRows == 0 {
		return 1000
	}
	return s.MonitorRows
}

func (s Settings) validate() error {
	if s.Epochs < 1 {
		return fmt.Errorf("optim: Settings.Epochs = %d; want ≥ 1", s.Epochs)
	}
	if s.BatchSize < 0 {
		return fmt.Errorf("optim: Settings.BatchSize = %d; want ≥ 0 (0 means 100)", s.BatchSize)
	}
	if s.Estimator.K < 0 {
		return fmt.Errorf("optim: Settings.Estimator.K = %d; want ≥ 0 (0 means 1)", s.Estimator.K)
	}
	if s.Estimator.Chains < 0 {
		return fmt.Errorf("optim: Settings.Estimator.Chains = %d; want ≥ 0", s.Estimator.Chains)
	}
	if s.Estimator.Persistent && s.Estimator.VisibleProbabilities {
		return fmt.Errorf("optim: Estimator.VisibleProbabilities is for CD only; persistent chains must keep sampled states")
	}
	if s.WeightDecay < 0 || math.IsNaN(s.WeightDecay) || math.IsInf(s.WeightDecay, 0) {
		return fmt.Errorf("optim: Settings.WeightDecay = %v; want a finite value ≥ 0", s.WeightDecay)
	}
	if !(s.ClipNorm >= 0) || math.IsInf(s.ClipNorm, 0) {
		return fmt.Errorf("optim: Settings.ClipNorm = %v; want a finite value ≥ 0 (0 means no clipping)", s.ClipNorm)
	}
	if s.CheckpointEvery < 0 {
		return fmt.Errorf("optim: Settings.CheckpointEvery = %d; want ≥ 0 (0 means only on cancellation)", s.CheckpointEvery)
	}
	if s.CheckpointEvery > 0 && s.Checkpoint == "" {
		return fmt.Errorf("optim: Settings.CheckpointEvery = %d but Settings.Checkpoint (the file) is empty", s.CheckpointEvery)
	}
	if s.Shuffle == nil {
		return fmt.Errorf("optim: Settings.Shuffle is nil; pass a seeded math/rand/v2 Source, e.g. rand.NewPCG(1, 2)")
	}
	if s.Chains == nil {
		return fmt.Errorf("optim: Settings.Chains is nil; pass a seeded math/rand/v2 Source, e.g. rand.NewPCG(3, 4)")
	}
	if s.Checkpoint != "" || s.Resume != "" {
		for _, src := range []struct {
			name string
			src  rand.Source
		}{{"Shuffle", s.Shuffle}, {"Chains", s.Chains}, {"Monitor", s.Monitor}} {
			if err := checkpointable(src.name, src.src); err != nil {
				return err
			}
		}
	}
	for e := 0; e < s.Epochs; e++ {
		lr, mom := s.learningRate().At(e), s.momentum().At(e)
		if !(lr > 0) || math.IsInf(lr, 0) {
			return fmt.Errorf("optim: learning rate at epoch %d is %v; want a finite value > 0", e, lr)
		}
		if !(mom >= 0 && mom < 1) {
			return fmt.Errorf("optim: momentum at epoch %d is %v; want a value in [0, 1)", e, mom)
		}
	}
	return nil
}
