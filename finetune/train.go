package finetune

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/pkg/errors"
	"github.com/schollz/progressbar/v3"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/graph"
	"github.com/ebm-go/ebm/ops"
	"github.com/ebm-go/ebm/optim"
)

// Solver selects the Gorgonia solver that applies the gradient of the cost: SGD or Adam. Weight
// decay is never left to a solver (Gorgonia's Momentum ignores its L2 option and Vanilla/Adam
// divide it by the batch size); it is a term of the cost, see Settings.WeightDecay.
type Solver interface {
	// String names the solver, e.g. "SGD".
	String() string
	newSolver() G.Solver
	setEpoch(s G.Solver, lr, mom float64)
}

// SGD is stochastic gradient descent with momentum, Gorgonia's Momentum solver:
// Δ ← μΔ - ε∇, θ ← θ + Δ, with ε and μ the epoch's LearningRate and Momentum. Momentum 0 is plain
// SGD.
type SGD struct{}

// String returns "SGD".
func (SGD) String() string { return "SGD" }

func (SGD) newSolver() G.Solver { return G.NewMomentum(G.WithLearnRate(0), G.WithMomentum(0)) }

func (SGD) setEpoch(s G.Solver, lr, mom float64) {
	G.WithLearnRate(lr)(s)
	G.WithMomentum(mom)(s)
}

// Adam is Gorgonia's Adam solver (Kingma & Ba 2015) with step size the epoch's LearningRate (use a
// small one, e.g. 0.001); Settings.Momentum is ignored. Zero fields mean Beta1 0.9, Beta2 0.999,
// Epsilon 1e-8.
type Adam struct {
	Beta1, Beta2, Epsilon float64
}

// String returns "Adam".
func (Adam) String() string { return "Adam" }

func (a Adam) newSolver() G.Solver {
	b1, b2, eps := a.Beta1, a.Beta2, a.Epsilon
	if b1 == 0 {
		b1 = 0.9
	}
	if b2 == 0 {
		b2 = 0.999
	}
	if eps == 0 {
		eps = 1e-8
	}
	return G.NewAdamSolver(G.WithBeta1(b1), G.WithBeta2(b2), G.WithEps(eps), G.WithLearnRate(0))
}

func (Adam) setEpoch(s G.Solver, lr, _ float64) { G.WithLearnRate(lr)(s) }

// Settings configures Train. The zero value of every field except Epochs and Shuffle is a
// documented default.
type Settings struct {
	// Epochs is the maximum number of passes over the training rows; must be ≥ 1.
	Epochs int
	// BatchSize is the minibatch size; 0 means 100. A batch larger than the training rows is cut to
	// their count. Each epoch uses ⌊N/BatchSize⌋ minibatches of a fresh random permutation.
	BatchSize int
	// LearningRate is the step size per epoch (counted from 0); nil means optim.Constant(0.1).
	LearningRate optim.Schedule
	// Momentum is SGD's momentum per epoch; nil means optim.Constant(0).
	Momentum optim.Schedule
	// Solver applies the updates; nil means SGD{}.
	Solver Solver
	// WeightDecay is the L2 coefficient λ: the cost is the mean cross-entropy plus
	// (λ/2)·Σ ||W||² over every weight matrix (hidden and output; biases are not decayed), so the
	// gradient gains λW. 0 means none.
	WeightDecay float64

	// Validation and ValidationLabels are held-out rows (M, n_0) and their labels. When Validation
	// is nil, the last ValidationRows rows of the training data (and their labels) are held out
	// instead.
	Validation       *tensor.Dense
	ValidationLabels []int
	// ValidationRows is how many of the last training rows to hold out when Validation is nil;
	// 0 means ⌊N/6⌋ (10,000 of MNIST's 60,000 training images); a negative value means none.
	ValidationRows int
	// Patience stops training when the validation error has not improved for this many epochs;
	// 0 means never stop early. With validation data the network always ends with the parameters
	// of its best epoch (lowest validation error, ties to the lower validation cross-entropy).
	Patience int

	// Dropout, when its Input or Hidden probability is positive, drops units during training
	// (Srivastava, Hinton, Krizhevsky, Sutskever & Salakhutdinov 2014, JMLR 15:1929). The zero
	// value means no dropout.
	Dropout Dropout

	// Shuffle draws the minibatch order. Required.
	Shuffle rand.Source

	// Progress, when not nil, receives a progress bar (one tick per minibatch).
	Progress io.Writer
	// Record, when not nil, receives one JSON object per epoch (an EpochRecord), one per line.
	Record io.Writer
	// OnEpoch, when not nil, is called after every epoch; a non-nil error stops training and is
	// returned by Train.
	OnEpoch func(EpochRecord) error
}

// Dropout sets the probability with which each training minibatch's input entries (Input) and
// hidden-unit outputs (Hidden, every hidden layer) are set to 0 — the classic "dropout" of
// Srivastava et al. 2014 (Hinton et al.'s arXiv:1207.0580 fine-tunes a pretrained DBN this way).
// Kept entries are scaled by 1/(1-p) (inverted dropout), so evaluation (Evaluate, Predict,
// validation) uses the network unchanged. The masks are constants of the graph, drawn before
// every minibatch from Source: the gradient flows only through the kept units.
type Dropout struct {
	// Input and Hidden are drop probabilities in [0, 1); typical values 0.2 and 0.5.
	Input, Hidden float64
	// Source draws the masks; required when Input or Hidden is positive.
	Source rand.Source
}

func (d Dropout) on() bool { return d.Input > 0 || d.Hidden > 0 }

func (d Dropout) check() error {
	for _, p := range []struct {
		name string
		v    float64
	}{{"Input", d.Input}, {"Hidden", d.Hidden}} {
		if !(p.v >= 0 && p.v < 1) {
			return fmt.Errorf("finetune: Settings.Dropout.%s = %v; want a probability in [0, 1)", p.name, p.v)
		}
	}
	if d.on() && d.Source == nil {
		return errors.New("finetune: Settings.Dropout.Source (rand.Source for the dropout masks) is nil")
	}
	return nil
}

func (s *Settings) batchSize(n int) int {
	b := s.BatchSize
	if b == 0 {
		b = 100
	}
	return min(b, n)
}

func (s *Settings) learningRate() optim.Schedule {
	if s.LearningRate == nil {
		return optim.Constant(0.1)
	}
	return s.LearningRate
}

func (s *Settings) momentum() optim.Schedule {
	if s.Momentum == nil {
		return optim.Constant(0)
	}
	return s.Momentum
}

func (s *Settings) solver() Solver {
	if s.Solver == nil {
		return SGD{}
	}
	return s.Solver
}

// EpochRecord is what Train records after every epoch.
type EpochRecord struct {
	Epoch        int     `json:"epoch"` // counted from 1
	Seconds      float64 `json:"seconds"`
	LearningRate float64 `json:"learning_rate"`
	Momentum     float64 `json:"momentum"`
	// Cost is the mean over the epoch's minibatches of the training cost (cross-entropy plus weight
	// decay), nats.
	Cost float64 `json:"cost"`
	// CrossEntropy is the mean over the epoch's minibatches of the training cross-entropy, nats per
	// row.
	CrossEntropy float64 `json:"cross_entropy"`
	// TrainError is the fraction of the epoch's training rows that their minibatch's forward pass
	// (before the update) misclassified.
	TrainError float64 `json:"train_error"`
	// Validation is the network's performance on the validation data after the epoch (nil without
	// validation data).
	Validation *Evaluation `json:"validation,omitempty"`
	// Best is whether this epoch's parameters are the best so far on the validation data.
	Best bool `json:"best"`
}

// Result is what Train returns.
type Result struct {
	Epochs []EpochRecord `json:"epochs"`
	// BestEpoch is the epoch (from 1) whose parameters the network holds after training: the best
	// on the validation data, or the last epoch without validation data.
	BestEpoch int `json:"best_epoch"`
	// Validation is the network's performance on the validation data at BestEpoch (nil without).
	Validation *Evaluation `json:"validation,omitempty"`
	// StoppedEarly is whether Patience ended training before Epochs.
	StoppedEarly   bool    `json:"stopped_early"`
	TrainRows      int     `json:"train_rows"`
	ValidationRows int     `json:"validation_rows"`
	Seconds        float64 `json:"seconds"`
}

// Train fine-tunes n by minibatch backpropagation on x (N, n_0) with integer labels (N) in
// [0, K), minimising the mean cross-entropy -log softmax(d + h_L V)_y (computed with a stable
// log-softmax) plus weight decay, with a Gorgonia solver (Settings.Solver). The graph is compiled
// once and run with a TapeMachine (Let inputs, RunAll, Solver.Step, Reset); validation uses a
// separate inference graph. n's tensors are updated in place; a Network from FromDBN holds copies,
// so the DBN it came from is never changed.
//
// Every epoch shuffles the training rows with Settings.Shuffle, so the same seeds give
// bit-identical results. After each epoch the validation error is measured; with validation data
// the network ends with the parameters of its best epoch, and Patience > 0 stops training after
// that many epochs without improvement (early stopping).
//
// Errors before training: a malformed network, data of the wrong shape or dtype or with
// non-finite values, labels outside [0, K) or of the wrong count, bad settings (Epochs < 1, nil
// Shuffle, a negative BatchSize or WeightDecay, a validation split that leaves no training rows).
// During training a non-finite cost stops with an error naming the epoch and minibatch, and a
// cancelled context stops between minibatches; the network then holds the best parameters found
// so far (or the current ones before the first validation), and the records so far are returned.
func Train(ctx context.Context, n *Network, x *tensor.Dense, labels []int, s Settings) (*Result, error) {
	if err := n.Check(); err != nil {
		return nil, err
	}
	if err := n.checkInput("training data", x); err != nil {
		return nil, err
	}
	if err := n.checkLabels("labels", labels, x.Shape()[0]); err != nil {
		return nil, err
	}
	switch {
	case s.Epochs < 1:
		return nil, fmt.Errorf("finetune: Settings.Epochs = %d; want ≥ 1", s.Epochs)
	case s.Shuffle == nil:
		return nil, errors.New("finetune: Settings.Shuffle (rand.Source for minibatch order) is nil")
	case s.BatchSize < 0:
		return nil, fmt.Errorf("finetune: Settings.BatchSize = %d; want ≥ 0", s.BatchSize)
	case s.WeightDecay < 0 || math.IsNaN(s.WeightDecay) || math.IsInf(s.WeightDecay, 0):
		return nil, fmt.Errorf("finetune: Settings.WeightDecay = %v; want a finite value ≥ 0", s.WeightDecay)
	case s.Patience < 0:
		return nil, fmt.Errorf("finetune: Settings.Patience = %d; want ≥ 0", s.Patience)
	}
	if err := s.Dropout.check(); err != nil {
		return nil, err
	}
	train, trainY, valid, validY := x, labels, s.Validation, s.ValidationLabels
	if valid != nil {
		if err := n.checkInput("validation data", valid); err != nil {
			return nil, err
		}
		if err := n.checkLabels("validation labels", validY, valid.Shape()[0]); err != nil {
			return nil, err
		}
	} else if validY != nil {
		return nil, errors.New("finetune: Settings.ValidationLabels without Settings.Validation")
	} else if s.ValidationRows >= 0 {
		rows := x.Shape()[0]
		m := s.ValidationRows
		if m == 0 {
			m = rows / 6
		}
		if m >= rows {
			return nil, fmt.Errorf("finetune: holding out %d validation rows of %d leaves no training data", m, rows)
		}
		if m > 0 {
			train, trainY = sliceRows(x, 0, rows-m), labels[:rows-m]
			valid, validY = sliceRows(x, rows-m, m), labels[rows-m:]
		}
	}

	t, err := newTrainer(n, train.Shape()[0], s)
	if err != nil {
		return nil, err
	}
	defer t.close()
	res := &Result{TrainRows: train.Shape()[0]}
	if valid != nil {
		res.ValidationRows = valid.Shape()[0]
	}
	began := time.Now()
	keep := &bestKeeper{params: n.tensors} // parameters of the best epoch
	restore := keep.restore
	batches := train.Shape()[0] / t.batch
	bar := newProgress(s.Progress, batches*s.Epochs, fmt.Sprintf("fine-tuning (%v)", s.solver()))
	if bar != nil {
		defer bar.Close()
	}
	shuffle := rand.New(s.Shuffle)
	idx := make([]int, t.batch)
	for e := 0; e < s.Epochs; e++ {
		lr, mom := s.learningRate().At(e), s.momentum().At(e)
		s.solver().setEpoch(t.solver, lr, mom)
		start := time.Now()
		perm := shuffle.Perm(train.Shape()[0])
		var costSum, ceSum float64
		wrong := 0
		for bi := 0; bi < batches; bi++ {
			if err := ctx.Err(); err != nil {
				restore()
				res.Seconds = time.Since(began).Seconds()
				return res, errors.Wrapf(err, "finetune: stopped in epoch %d at minibatch %d", e+1, bi+1)
			}
			copy(idx, perm[bi*t.batch:(bi+1)*t.batch])
			cost, ce, miss, err := t.step(train, trainY, idx)
			if err != nil {
				restore()
				res.Seconds = time.Since(began).Seconds()
				return res, errors.Wrapf(err, "finetune: epoch %d, minibatch %d", e+1, bi+1)
			}
			costSum += cost
			ceSum += ce
			wrong += miss
			if bar != nil {
				_ = bar.Add(1)
			}
		}
		rec := EpochRecord{Epoch: e + 1, LearningRate: lr, Momentum: mom, Cost: costSum / float64(batches),
			CrossEntropy: ceSum / float64(batches), TrainError: float64(wrong) / float64(batches*t.batch)}
		if valid != nil {
			ev, err := n.Evaluate(valid, validY)
			if err != nil {
				restore()
				return res, errors.Wrapf(err, "finetune: epoch %d: validation", e+1)
			}
			rec.Validation = &ev
			if res.Validation == nil || ev.Error < res.Validation.Error ||
				(ev.Error == res.Validation.Error && ev.CrossEntropy < res.Validation.CrossEntropy) {
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

// tensors returns the network's parameter tensors in bound.params order.
func (n *Network) tensors() []*tensor.Dense {
	var out []*tensor.Dense
	for _, l := range n.layers() {
		out = append(out, l.W, l.C)
	}
	return out
}

// bestKeeper keeps a copy of the parameters of the best epoch so far and counts the epochs since
// (early stopping on validation data); params returns the live parameter tensors.
type bestKeeper struct {
	params    func() []*tensor.Dense
	best      []*tensor.Dense
	sinceBest int
}

// improved records that the current parameters are the best so far.
func (k *bestKeeper) improved() { k.best, k.sinceBest = snapshot(k.params(), k.best), 0 }

// notImproved counts an epoch without a better validation score.
func (k *bestKeeper) notImproved() { k.sinceBest++ }

// restore copies the best parameters back, if any were kept.
func (k *bestKeeper) restore() {
	if k.best != nil {
		for i, p := range k.params() {
			copyAt(p, 0, k.best[i])
		}
	}
}

// exhausted reports whether patience (> 0) epochs have passed without improvement.
func (k *bestKeeper) exhausted(patience int) bool { return patience > 0 && k.sinceBest >= patience }

// emitEpoch writes rec as a JSON line to w and passes it to on, each when set.
func emitEpoch[R any](rec R, w io.Writer, on func(R) error) error {
	if w != nil {
		if err := json.NewEncoder(w).Encode(rec); err != nil {
			return errors.Wrap(err, "finetune: writing epoch record")
		}
	}
	if on != nil {
		return on(rec)
	}
	return nil
}

// newProgress returns a progress bar of n steps written to w, or nil when w is nil.
func newProgress(w io.Writer, n int, desc string) *progressbar.ProgressBar {
	if w == nil {
		return nil
	}
	return progressbar.NewOptions(n,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish())
}

// snapshot copies the values of ps into dst (allocated on first use) and returns dst.
func snapshot(ps, dst []*tensor.Dense) []*tensor.Dense {
	if dst == nil {
		for _, p := range ps {
			dst = append(dst, p.Clone().(*tensor.Dense))
		}
		return dst
	}
	for i, p := range ps {
		copyAt(dst[i], 0, p)
	}
	return dst
}

// trainer holds the compiled training graph of one network.
type trainer struct {
	n        *Network
	batch    int
	xIn, yIn *tensor.Dense
	vm       G.VM
	vgs      []G.ValueGrad
	solver   G.Solver
	cost, ce G.Value
	logits   G.Value
	// Dropout: masks[0] multiplies the input (nil without input dropout), masks[l] hidden layer
	// l's output; each entry is 0 or 1/(1-p), redrawn before every minibatch.
	masks   []*tensor.Dense
	dropP   []float64
	dropRNG *rand.Rand
}

// newTrainer compiles x (batch, n_0) → forward pass → cost = -(1/batch) Σ y ⊙ logsoftmax(logits)
// + (λ/2) Σ ||W||² → Grad with respect to every parameter, on a graph of its own whose parameter
// nodes alias n's tensors.
func newTrainer(n *Network, rows int, s Settings) (*trainer, error) {
	dt := n.Dtype()
	t := &trainer{n: n, batch: s.batchSize(rows), solver: s.solver().newSolver()}
	t.xIn = tensor.New(tensor.WithShape(t.batch, n.NumInputs()), tensor.Of(dt))
	t.yIn = tensor.New(tensor.WithShape(t.batch, n.NumClasses()), tensor.Of(dt))
	g := G.NewGraph()
	b := n.bind(g)
	x := G.NewMatrix(g, dt, G.WithShape(t.batch, n.NumInputs()), G.WithName("ft.x"), G.WithValue(t.xIn))
	y := G.NewMatrix(g, dt, G.WithShape(t.batch, n.NumClasses()), G.WithName("ft.y"), G.WithValue(t.yIn))
	var maskNodes G.Nodes
	if s.Dropout.on() {
		t.dropRNG = rand.New(s.Dropout.Source)
		widths := append([]int{n.NumInputs()}, n.Sizes()[1:]...)
		for l, w := range widths {
			p := s.Dropout.Hidden
			if l == 0 {
				p = s.Dropout.Input
			}
			if p == 0 {
				t.masks, t.dropP, maskNodes = append(t.masks, nil), append(t.dropP, 0), append(maskNodes, nil)
				continue
			}
			m := tensor.New(tensor.WithShape(t.batch, w), tensor.Of(dt))
			t.masks, t.dropP = append(t.masks, m), append(t.dropP, p)
			maskNodes = append(maskNodes, G.NewMatrix(g, dt, G.WithShape(t.batch, w),
				G.WithName(fmt.Sprintf("ft.dropout%d", l)), G.WithValue(m)))
		}
	}
	_, logits, err := b.forward(x, maskNodes...)
	if err != nil {
		return nil, err
	}
	logp, err := logSoftmax(logits)
	if err != nil {
		return nil, err
	}
	yl, err := G.HadamardProd(y, logp)
	if err != nil {
		return nil, errors.Wrap(err, "finetune: y ⊙ log p")
	}
	sum, err := G.Sum(yl)
	if err != nil {
		return nil, errors.Wrap(err, "finetune: Σ y ⊙ log p")
	}
	ce, err := graph.Scale(sum, -1/float64(t.batch))
	if err != nil {
		return nil, err
	}
	cost := ce
	if s.WeightDecay > 0 {
		ws := G.Nodes{b.outW}
		for _, h := range b.hidden {
			ws = append(ws, h.W)
		}
		for _, w := range ws {
			sq, err := G.Square(w)
			if err != nil {
				return nil, err
			}
			ssq, err := G.Sum(sq)
			if err != nil {
				return nil, err
			}
			term, err := graph.Scale(ssq, s.WeightDecay/2)
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
		return nil, errors.Wrap(err, "finetune: symbolic gradient of the cost")
	}
	roots := append(G.Nodes{G.Read(cost, &t.cost), G.Read(ce, &t.ce), G.Read(logits, &t.logits)}, grads...)
	t.vm = G.NewTapeMachine(g.SubgraphRoots(roots...), G.BindDualValues(params...), G.WithEngine(ops.Engine()))
	// One slice for the whole run: adaptive solvers keep their state by position in it.
	t.vgs = G.NodesToValueGrads(params)
	return t, nil
}

func (t *trainer) close() { t.vm.Close() }

// step runs one minibatch (rows idx of x with labels y): forward, gradient, solver step. It
// returns the cost, the cross-entropy and the number of rows misclassified before the update.
func (t *trainer) step(x *tensor.Dense, y []int, idx []int) (cost, ce float64, wrong int, err error) {
	copyRows(t.xIn, x, idx)
	k := t.n.NumClasses()
	labels := make([]int, len(idx))
	one := make([]float64, t.batch*k)
	for r, i := range idx {
		labels[r] = y[i]
		one[r*k+y[i]] = 1
	}
	setFloats(t.yIn, one)
	t.drawMasks()
	defer t.vm.Reset()
	if err := t.vm.RunAll(); err != nil {
		return 0, 0, 0, errors.Wrap(ops.Transparent(err), "running the training graph")
	}
	cost, ce = scalar(t.cost), scalar(t.ce)
	if math.IsNaN(cost) || math.IsInf(cost, 0) {
		return cost, ce, 0, fmt.Errorf("cost is %v (non-finite): lower the learning rate or check the data scale", cost)
	}
	logits, ok := t.logits.(*tensor.Dense)
	if !ok {
		return cost, ce, 0, errors.New("training graph produced no logits")
	}
	lv := floats(logits)
	for r, lab := range labels {
		if argmax(lv[r*k:(r+1)*k]) != lab {
			wrong++
		}
	}
	if err := t.solver.Step(t.vgs); err != nil {
		return cost, ce, wrong, errors.Wrap(err, "solver step")
	}
	return cost, ce, wrong, nil
}

// drawMasks fills every dropout mask: each entry is 0 with probability p, else 1/(1-p). One
// uniform draw per entry, in mask order, row-major.
func (t *trainer) drawMasks() {
	for l, m := range t.masks {
		if m == nil {
			continue
		}
		p := t.dropP[l]
		keep := 1 / (1 - p)
		switch d := m.Data().(type) {
		case []float64:
			for i := range d {
				d[i] = 0
				if t.dropRNG.Float64() >= p {
					d[i] = keep
				}
			}
		case []float32:
			k32 := float32(keep)
			for i := range d {
				d[i] = 0
				if t.dropRNG.Float64() >= p {
					d[i] = k32
				}
			}
		}
	}
}

func scalar(v G.Value) float64 {
	switch x := v.(type) {
	case *G.F64:
		return float64(*x)
	case *G.F32:
		return float64(*x)
	case *tensor.Dense:
		return floats(x)[0]
	}
	return math.NaN()
}

// copyRows copies rows idx of src into consecutive rows of dst.
func copyRows(dst, src *tensor.Dense, idx []int) {
	w := src.Shape()[1]
	switch d := dst.Data().(type) {
	case []float64:
		s := src.Data().([]float64)
		for r, i := range idx {
			copy(d[r*w:(r+1)*w], s[i*w:(i+1)*w])
		}
	case []float32:
		s := src.Data().([]float32)
		for r, i := range idx {
			copy(d[r*w:(r+1)*w], s[i*w:(i+1)*w])
		}
	}
}

func setFloats(x *tensor.Dense, v []float64) {
	switch d := x.Data().(type) {
	case []float64:
		copy(d, v)
	case []float32:
		for i := range d {
			d[i] = float32(v[i])
		}
	}
}

// sliceRows returns rows [start, start+rows) of x as a tensor sharing x's backing.
func sliceRows(x *tensor.Dense, start, rows int) *tensor.Dense {
	w := x.Shape()[1]
	var backing any
	switch d := x.Data().(type) {
	case []float64:
		backing = d[start*w : (start+rows)*w]
	case []float32:
		backing = d[start*w : (start+rows)*w]
	}
	return tensor.New(tensor.WithShape(rows, w), tensor.WithBacking(backing))
}
