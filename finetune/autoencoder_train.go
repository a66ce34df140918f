package finetune

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/graph"
	"github.com/ebm-go/ebm/ops"
	"github.com/ebm-go/ebm/optim"
)

// AutoencoderSettings configures TrainAutoencoder. The zero value of every field except Epochs and
// Shuffle is a documented default.
type AutoencoderSettings struct {
	// Epochs is the maximum number of passes over the training rows; must be ≥ 1.
	Epochs int
	// BatchSize is the minibatch size; 0 means 100 (capped at the training row count). Each epoch
	// uses ⌊N/BatchSize⌋ minibatches of a fresh random permutation.
	BatchSize int
	// LearningRate is the step size per epoch (counted from 0); nil means optim.Constant(0.001),
	// a rate for Adam.
	LearningRate optim.Schedule
	// Momentum is SGD's momentum per epoch; nil means optim.Constant(0). Adam ignores it.
	Momentum optim.Schedule
	// Solver applies the updates; nil means Adam{}.
	Solver Solver
	// WeightDecay is the L2 coefficient λ: the cost gains (λ/2)·Σ ||W||² over every weight matrix.
	// 0 means none.
	WeightDecay float64
	// Validation is optional held-out data (M, n_0); with it, the reconstruction squared error is
	// measured after every epoch and the autoencoder ends with the parameters of its best epoch.
	Validation *tensor.Dense
	// Patience stops training after this many epochs without a lower validation squared error;
	// 0 means never stop early.
	Patience int
	// Shuffle draws the minibatch order. Required.
	Shuffle rand.Source
	// Progress, when not nil, receives a progress bar (one tick per minibatch).
	Progress io.Writer
	// Record, when not nil, receives one JSON object per epoch (an AutoencoderEpoch), one per line.
	Record io.Writer
	// OnEpoch, when not nil, is called after every epoch; a non-nil error stops training and is
	// returned.
	OnEpoch func(AutoencoderEpoch) error
}

// AutoencoderEpoch is what TrainAutoencoder records after every epoch.
type AutoencoderEpoch struct {
	Epoch        int     `json:"epoch"` // counted from 1
	Seconds      float64 `json:"seconds"`
	LearningRate float64 `json:"learning_rate"`
	Momentum     float64 `json:"momentum"`
	// Cost is the mean over the epoch's minibatches of the training cost (cross-entropy per row
	// plus weight decay), nats.
	Cost float64 `json:"cost"`
	// CrossEntropy is the mean over the epoch's minibatches of the reconstruction cross-entropy,
	// nats per row, of each minibatch's forward pass before its update.
	CrossEntropy float64 `json:"cross_entropy"`
	// SquaredError is the mean over the epoch's rows of Σ_i (x̂_i - x_i)² from each minibatch's
	// forward pass before its update.
	SquaredError float64 `json:"squared_error"`
	// Validation is the reconstruction error on the validation data after the epoch (nil without).
	Validation *ReconstructionError `json:"validation,omitempty"`
	// Best is whether this epoch's parameters are the best so far on the validation data.
	Best bool `json:"best"`
}

// AutoencoderResult is what TrainAutoencoder returns.
type AutoencoderResult struct {
	Epochs []AutoencoderEpoch `json:"epochs"`
	// BestEpoch is the epoch (from 1) whose parameters the autoencoder holds: the best on the
	// validation data, or the last one without validation data.
	BestEpoch    int                  `json:"best_epoch"`
	Validation   *ReconstructionError `json:"validation,omitempty"`
	StoppedEarly bool                 `json:"stopped_early"`
	Seconds      float64              `json:"seconds"`
}

// TrainAutoencoder fine-tunes a by minibatch backpropagation on x (N, n_0), values in [0,1],
// minimising the mean reconstruction cross-entropy
//
//	(1/batch) Σ_n Σ_i [softplus(a_ni) - x_ni a_ni]  =  -(1/batch) Σ_n Σ_i [x_ni log x̂_ni + (1-x_ni) log(1-x̂_ni)]
//
// (a the decoder's logits, x̂ = σ(a); computed with the exact softplus, so any logits give a finite
// cost) plus weight decay, as Hinton & Salakhutdinov (2006) do for their MNIST autoencoder
// (they use conjugate gradients; here SGD with momentum or Adam, Settings.Solver). The graph is
// compiled once and run with a TapeMachine; a's tensors are updated in place. With validation data
// the autoencoder ends with the parameters of its epoch of lowest validation squared error.
//
// Errors before training: a malformed autoencoder, data of the wrong shape or dtype or outside
// [0,1], bad settings. A non-finite cost stops training with an error naming the epoch and
// minibatch; a cancelled context stops between minibatches. The autoencoder then holds the best
// parameters so far (or the current ones before the first validation).
func TrainAutoencoder(ctx context.Context, a *Autoencoder, x *tensor.Dense, s AutoencoderSettings) (*AutoencoderResult, error) {
	if err := a.Check(); err != nil {
		return nil, err
	}
	if err := a.checkInput("training data", x); err != nil {
		return nil, err
	}
	if s.Validation != nil {
		if err := a.checkInput("validation data", s.Validation); err != nil {
			return nil, err
		}
	}
	switch {
	case s.Epochs < 1:
		return nil, fmt.Errorf("finetune: AutoencoderSettings.Epochs = %d; want ≥ 1", s.Epochs)
	case s.Shuffle == nil:
		return nil, errors.New("finetune: AutoencoderSettings.Shuffle (rand.Source for minibatch order) is nil")
	case s.BatchSize < 0:
		return nil, fmt.Errorf("finetune: AutoencoderSettings.BatchSize = %d; want ≥ 0", s.BatchSize)
	case s.WeightDecay < 0 || math.IsNaN(s.WeightDecay) || math.IsInf(s.WeightDecay, 0):
		return nil, fmt.Errorf("finetune: AutoencoderSettings.WeightDecay = %v; want a finite value ≥ 0", s.WeightDecay)
	case s.Patience < 0:
		return nil, fmt.Errorf("finetune: AutoencoderSettings.Patience = %d; want ≥ 0", s.Patience)
	}
	lrs, moms := s.LearningRate, s.Momentum
	if lrs == nil {
		lrs = optim.Constant(0.001)
	}
	if moms == nil {
		moms = optim.Constant(0)
	}
	solver := s.Solver
	if solver == nil {
		solver = Adam{}
	}
	rows := x.Shape()[0]
	batch := s.BatchSize
	if batch == 0 {
		batch = 100
	}
	batch = min(batch, rows)
	t, err := newAETrainer(a, batch, s.WeightDecay, solver)
	if err != nil {
		return nil, err
	}
	defer t.vm.Close()

	res := &AutoencoderResult{}
	began := time.Now()
	keep := &bestKeeper{params: a.tensors} // parameters of the best epoch
	restore := keep.restore
	batches := rows / batch
	bar := newProgress(s.Progress, batches*s.Epochs, fmt.Sprintf("fine-tuning the autoencoder (%v)", solver))
	if bar != nil {
		defer bar.Close()
	}
	shuffle := rand.New(s.Shuffle)
	idx := make([]int, batch)
	for e := 0; e < s.Epochs; e++ {
		lr, mom := lrs.At(e), moms.At(e)
		solver.setEpoch(t.solver, lr, mom)
		start := time.Now()
		perm := shuffle.Perm(rows)
		var costSum, ceSum, sqSum float64
		for bi := 0; bi < batches; bi++ {
			if err := ctx.Err(); err != nil {
				restore()
				res.Seconds = time.Since(began).Seconds()
				return res, errors.Wrapf(err, "finetune: autoencoder stopped in epoch %d at minibatch %d", e+1, bi+1)
			}
			copy(idx, perm[bi*batch:(bi+1)*batch])
			cost, ce, sq, err := t.step(x, idx)
			if err != nil {
				restore()
				res.Seconds = time.Since(began).Seconds()
				return res, errors.Wrapf(err, "finetune: autoencoder epoch %d, minibatch %d", e+1, bi+1)
			}
			costSum += cost
			ceSum += ce
			sqSum += sq
			if bar != nil {
				_ = bar.Add(1)
			}
		}
		rec := AutoencoderEpoch{Epoch: e + 1, LearningRate: lr, Momentum: mom, Cost: costSum / float64(batches),
			CrossEntropy: ceSum / float64(batches), SquaredError: sqSum / float64(batches*batch)}
		if s.Validation != nil {
			ev, err := a.Evaluate(s.Validation)
			if err != nil {
				restore()
				return res, errors.Wrapf(err, "finetune: autoencoder epoch %d: validation", e+1)
			}
			rec.Validation = &ev
			if res.Validation == nil || ev.SquaredError < res.Validation.SquaredError {
				rec.Best, res.Validation, res.BestEpoch = true, &ev, e+1
				keep.improved()
			} else {
				keep.notImproved()
			}
		} else {
			rec.Best, res.BestEpoch = true, e+1
		}
		rec.Seconds = time.Since(start).Seconds()
		res.Epochs = append(res.Epochs, rec)
		if err := emitEpoch(rec, s.Record, s.OnEpoch); err != nil {
			restore()
			return res, err
		}
		if keep.exhausted(s.Patience) && e+1 < s.Epochs {
			res.StoppedEarly = true
			break
		}
	}
	restore()
	res.Seconds = time.Since(began).Seconds()
	return res, nil
}

// aeTrainer holds the compiled training graph of one autoencoder.
type aeTrainer struct {
	batch       int
	xIn         *tensor.Dense
	vm          G.VM
	vgs         []G.ValueGrad
	solver      G.Solver
	cost, ce    G.Value
	logits      G.Value
	nInputs     int
	xb, logitsB []float64
}

// newAETrainer compiles x (batch, n_0) → forward pass → cost = (1/batch) Σ [softplus(a) - x⊙a]
// + (λ/2) Σ ||W||² → Grad with respect to every parameter.
func newAETrainer(a *Autoencoder, batch int, decay float64, solver Solver) (*aeTrainer, error) {
	dt := a.Dtype()
	t := &aeTrainer{batch: batch, solver: solver.newSolver(), nInputs: a.NumInputs()}
	t.xIn = tensor.New(tensor.WithShape(batch, a.NumInputs()), tensor.Of(dt))
	g := G.NewGraph()
	b := a.bind(g)
	x := G.NewMatrix(g, dt, G.WithShape(batch, a.NumInputs()), G.WithName("ae.x"), G.WithValue(t.xIn))
	_, logits, err := b.forward(x)
	if err != nil {
		return nil, err
	}
	sp, err := ops.SoftplusSum(logits)
	if err != nil {
		return nil, err
	}
	spSum, err := G.Sum(sp)
	if err != nil {
		return nil, err
	}
	xa, err := G.HadamardProd(x, logits)
	if err != nil {
		return nil, errors.Wrap(err, "finetune: x ⊙ a")
	}
	xaSum, err := G.Sum(xa)
	if err != nil {
		return nil, err
	}
	total, err := G.Sub(spSum, xaSum)
	if err != nil {
		return nil, err
	}
	ce, err := graph.Scale(total, 1/float64(batch))
	if err != nil {
		return nil, err
	}
	cost := ce
	if decay > 0 {
		for _, w := range b.w {
			sq, err := G.Square(w)
			if err != nil {
				return nil, err
			}
			ssq, err := G.Sum(sq)
			if err != nil {
				return nil, err
			}
			term, err := graph.Scale(ssq, decay/2)
			if err != nil {
				return nil, err
			}
			if cost, err = G.Add(cost, term); err != nil {
				return nil, errors.Wrap(err, "finetune: weight decay")
			}
		}
	}
	params := b.params()
	grads, err := G.Grad(cost, params...)
	if err != nil {
		return nil, errors.Wrap(err, "finetune: symbolic gradient of the autoencoder cost")
	}
	roots := append(G.Nodes{G.Read(cost, &t.cost), G.Read(ce, &t.ce), G.Read(logits, &t.logits)}, grads...)
	t.vm = G.NewTapeMachine(g.SubgraphRoots(roots...), G.BindDualValues(params...), G.WithEngine(ops.Engine()))
	t.vgs = G.NodesToValueGrads(params)
	return t, nil
}

// step runs one minibatch (rows idx of x): forward, gradient, solver step. It returns the cost,
// the cross-entropy and the summed squared error of the minibatch before the update.
func (t *aeTrainer) step(x *tensor.Dense, idx []int) (cost, ce, sq float64, err error) {
	copyRows(t.xIn, x, idx)
	defer t.vm.Reset()
	if err := t.vm.RunAll(); err != nil {
		return 0, 0, 0, errors.Wrap(ops.Transparent(err), "running the training graph")
	}
	cost, ce = scalar(t.cost), scalar(t.ce)
	if math.IsNaN(cost) || math.IsInf(cost, 0) {
		return cost, ce, 0, fmt.Errorf("cost is %v (non-finite): lower the learning rate", cost)
	}
	logits, ok := t.logits.(*tensor.Dense)
	if !ok {
		return cost, ce, 0, errors.New("training graph produced no logits")
	}
	t.xb = floatsInto(t.xb, t.xIn)
	t.logitsB = floatsInto(t.logitsB, logits)
	for k, a := range t.logitsB {
		d := ops.Sigmoid64(a) - t.xb[k]
		sq += d * d
	}
	if err := t.solver.Step(t.vgs); err != nil {
		return cost, ce, sq, errors.Wrap(err, "solver step")
	}
	return cost, ce, sq, nil
}

// floatsInto returns x's values as float64s in dst (reallocated when too short).
func floatsInto(dst []float64, x *tensor.Dense) []float64 {
	switch d := x.Data().(type) {
	case []float64:
		return append(dst[:0], d...)
	case []float32:
		dst = dst[:0]
		for _, v := range d {
			dst = append(dst, float64(v))
		}
	}
	return dst
}
