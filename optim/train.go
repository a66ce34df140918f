package optim

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/pkg/errors"
	"github.com/schollz/progressbar/v3"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/graph"
	"github.com/ebm-go/ebm/internal/absmax"
	"github.com/ebm-go/ebm/internal/parallel"
	"github.com/ebm-go/ebm/ops"
)

// EpochRecord is what Train records after every epoch. Monitoring values are computed on the first
// Settings.MonitorRows rows of the training and validation data after the epoch's updates.
type EpochRecord struct {
	Epoch        int     `json:"epoch"` // counted from 1
	Seconds      float64 `json:"seconds"`
	LearningRate float64 `json:"learning_rate"`
	Momentum     float64 `json:"momentum"`
	// Cost is the mean over the epoch's minibatches of the CD cost mean F(v0) - mean F(vk), nats.
	Cost       float64  `json:"cd_cost"`
	Train      Metrics  `json:"train"`
	Validation *Metrics `json:"validation,omitempty"`
	// FreeEnergyGap is mean F(validation) - mean F(training subset), nats (Hinton 2010, §6): it
	// grows when the model overfits. Zero without validation data.
	FreeEnergyGap float64 `json:"free_energy_gap"`
	// Clipped is the number of minibatches whose gradient Settings.ClipNorm clipped.
	Clipped int `json:"clipped,omitempty"`
}

// Trainer holds a compiled CD-k or PCD-k training graph for one model and the optimiser state
// (velocities, persistent chains). Use Train for the common case; a Trainer lets one continue
// training with the same momentum state and chains.
type Trainer struct {
	m        Model
	s        Settings
	batch    int
	v0In     *tensor.Dense
	chainIn  *tensor.Dense // persistent chain state (PCD only)
	vk       G.Value
	costVal  G.Value
	params   G.Nodes
	vel      []*tensor.Dense
	vm       G.VM
	shuffle  *rand.Rand
	epoch    int
	eval     *Evaluator
	monitor  rand.Source
	persist  bool
	chainSet bool

	// Per parameter, set once by NewTrainer: value, gradient (read each step) and weight decay.
	values    []*tensor.Dense
	grads     []*tensor.Dense
	gradNodes G.Nodes
	bounds    []paramBound // after the last update, for checkBound
	decay     []float64
	// clipMargin keeps a clipped step's norm at most ClipNorm after rounding.
	clipMargin float64

	// Position in training, saved by checkpoints: n is the row count given to NewTrainer, pos
	// the next minibatch of epoch t.epoch (0 at an epoch boundary), perm that epoch's row order,
	// costSum and clipped the running totals of its minibatches so far.
	n       int
	pos     int
	perm    []int
	costSum float64
	clipped int
}

// NewTrainer validates the settings and compiles the training graph: v0 (batch, nv) → k Gibbs
// steps (from v0, or from the persistent chains) → cost mean F(v0) - mean F(vk) → Grad with
// respect to every parameter. n is the number of training rows (it fixes the batch size).
func NewTrainer(m Model, n int, s Settings) (*Trainer, error) {
	if m == nil {
		return nil, errors.New("optim: nil model")
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	if n < 1 {
		return nil, errors.New("optim: training data is empty (0 rows)")
	}
	dt, nv := m.Dtype(), m.NumVisible()
	if nv < 1 {
		return nil, fmt.Errorf("optim: model has %d visible units; want ≥ 1", nv)
	}
	if !dt.Eq(tensor.Float64) && !dt.Eq(tensor.Float32) {
		return nil, fmt.Errorf("optim: model dtype %v; want Float32 or Float64", dt)
	}
	t := &Trainer{m: m, s: s, n: n, batch: s.batchSize(n), shuffle: rand.New(s.Shuffle), persist: s.Estimator.Persistent}
	g := G.NewGraph()
	b, err := m.Bind(g)
	if err != nil {
		return nil, errors.Wrap(err, "optim: binding model")
	}
	t.params = b.Params()
	if len(t.params) == 0 {
		return nil, errors.New("optim: model has no parameters")
	}
	t.v0In = tensor.New(tensor.WithShape(t.batch, nv), tensor.Of(dt))
	v0 := G.NewMatrix(g, dt, G.WithShape(t.batch, nv), G.WithName("cd.v0"), G.WithValue(t.v0In))
	start := v0
	if t.persist {
		chains := s.Estimator.Chains
		if chains == 0 {
			chains = t.batch
		}
		t.chainIn = tensor.New(tensor.WithShape(chains, nv), tensor.Of(dt))
		start = G.NewMatrix(g, dt, G.WithShape(chains, nv), G.WithName("pcd.chains"), G.WithValue(t.chainIn))
	}
	step := func(v *G.Node) (*G.Node, error) { return b.GibbsStep(v, s.Chains) }
	k := s.Estimator.k()
	if s.Estimator.VisibleProbabilities {
		k--
	}
	vk := start
	if k > 0 {
		if vk, err = graph.Chain(step, start, k); err != nil {
			return nil, err
		}
	}
	if s.Estimator.VisibleProbabilities {
		ms, ok := b.(graph.MeanStepper)
		if !ok {
			return nil, fmt.Errorf("optim: Estimator.VisibleProbabilities needs a model whose bound form implements graph.MeanStepper; %T does not", b)
		}
		if vk, err = ms.GibbsStepMean(vk, s.Chains); err != nil {
			return nil, errors.Wrap(err, "optim: last Gibbs step")
		}
	}
	cost, err := graph.CDCost(b.FreeEnergy, v0, vk)
	if err != nil {
		return nil, err
	}
	roots := G.Nodes{G.Read(cost, &t.costVal)}
	if t.persist {
		roots = append(roots, G.Read(vk, &t.vk))
	}
	grads, err := G.Grad(cost, t.params...)
	if err != nil {
		return nil, errors.Wrap(err, "optim: symbolic gradient of the CD cost")
	}
	roots = append(roots, grads...)
	// The gradients are read from the gradient nodes after each run (no dual values: binding
	// them would make the machine add every gradient into an accumulator, one more pass over W).
	t.gradNodes = grads
	t.vm = G.NewTapeMachine(g.SubgraphRoots(roots...), G.WithEngine(ops.Engine()))
	for _, p := range t.params {
		pv, ok := p.Value().(*tensor.Dense)
		if !ok {
			t.Close()
			return nil, fmt.Errorf("optim: parameter %s has no dense value bound", p.Name())
		}
		t.vel = append(t.vel, tensor.New(tensor.WithShape(pv.Shape().Clone()...), tensor.Of(dt)))
		t.values = append(t.values, pv)
		decay := 0.0
		if p.Shape().Dims() >= 2 {
			decay = s.WeightDecay
		}
		t.decay = append(t.decay, decay)
	}
	t.grads = make([]*tensor.Dense, len(t.params))
	t.bounds = make([]paramBound, len(t.params))
	t.clipMargin = 1 - 1e-9
	if dt.Eq(tensor.Float32) {
		t.clipMargin = 1 - 1e-6
	}
	if rows := s.monitorRows(); rows > 0 {
		if t.eval, err = NewEvaluator(m, min(100, rows)); err != nil {
			t.Close()
			return nil, err
		}
		t.monitor = s.Monitor
		if t.monitor == nil {
			t.monitor = rand.NewPCG(1, 2)
		}
	}
	return t, nil
}

// Close releases the compiled machines.
func (t *Trainer) Close() {
	if t.vm != nil {
		t.vm.Close()
		t.vm = nil
	}
	t.eval.Close()
}

// Chains returns the persistent chains' current visible states (chains, nv), or nil for CD.
// The tensor is the trainer's own: copy it to keep it.
func (t *Trainer) Chains() *tensor.Dense {
	if !t.persist {
		return nil
	}
	return t.chainIn
}

// Train checks the data and runs Settings.Epochs epochs of minibatch training of m on data
// (N, nv), updating m's parameters in place, and returns one record per epoch.
//
// Each update is θ ← θ + Δ with Δ ← μ·Δ - ε·(∇θ[mean F(v0) - mean F(vk)] + λ·θ) (λ only for
// weight matrices): stochastic gradient descent with momentum μ on the CD cost, whose gradient is
// the CD-k / PCD-k estimate of the negative log-likelihood gradient. Training stops with an error
// when ctx is cancelled (checked between minibatches; the model keeps the updates made so far) or
// when the cost, a gradient or an updated parameter would be NaN or infinite (the error names the
// epoch, the minibatch and the parameter; the update is not applied, so the model keeps its last
// finite parameters). Settings.ClipNorm bounds the gradient norm of each step.
//
// PCD chains start at the first minibatch of the first epoch.
//
// With Settings.Checkpoint, Train saves the training state every Settings.CheckpointEvery epochs
// and on cancellation; with Settings.Resume it first restores such a state and runs only the
// epochs left (none when the checkpoint is at or past Settings.Epochs), returning their records.
func Train(ctx context.Context, m Model, data *tensor.Dense, s Settings) ([]EpochRecord, error) {
	if m == nil {
		return nil, errors.New("optim: nil model")
	}
	if err := checkData(m, "training data", data); err != nil {
		return nil, err
	}
	if s.Validation != nil {
		if err := checkData(m, "validation data", s.Validation); err != nil {
			return nil, err
		}
	}
	t, err := NewTrainer(m, data.Shape()[0], s)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	if s.Resume != "" {
		if err := t.LoadCheckpoint(s.Resume); err != nil {
			return nil, err
		}
	}
	return t.Epochs(ctx, data, s.Epochs-t.epoch)
}

func checkData(m Model, name string, x *tensor.Dense) error {
	if err := datasets.CheckMatrix(name, x, m.NumVisible(), m.Dtype()); err != nil {
		return errors.Wrap(err, "optim")
	}
	if c, ok := m.(DataChecker); ok {
		if err := c.CheckData(x); err != nil {
			return errors.Wrapf(err, "optim: %s", name)
		}
	}
	return nil
}

// Epochs runs n more epochs on data (which Train has checked; callers of a Trainer must pass the
// same shape of data they gave NewTrainer's row count for). When the trainer stopped (or was
// restored from a checkpoint) inside an epoch, the first of the n epochs is the rest of that one.
//
// Cancelling ctx stops training between minibatches with an error wrapping ctx.Err(); with
// Settings.Checkpoint set, a checkpoint is saved first, and also after every
// Settings.CheckpointEvery-th epoch.
func (t *Trainer) Epochs(ctx context.Context, data *tensor.Dense, n int) ([]EpochRecord, error) {
	if t.vm == nil {
		return nil, errors.New("optim: trainer is closed")
	}
	if err := datasets.CheckMatrix("training data", data, t.m.NumVisible(), t.m.Dtype()); err != nil {
		return nil, errors.Wrap(err, "optim")
	}
	rows := data.Shape()[0]
	if rows < t.batch {
		return nil, fmt.Errorf("optim: training data has %d rows, fewer than the batch size %d", rows, t.batch)
	}
	if t.pos > 0 && len(t.perm) != rows {
		return nil, fmt.Errorf("optim: training stopped inside epoch %d with %d rows; the data now has %d rows", t.epoch+1, len(t.perm), rows)
	}
	batches := rows / t.batch
	var bar *progressbar.ProgressBar
	if t.s.Progress != nil && n > 0 {
		bar = progressbar.NewOptions(batches*n-t.pos,
			progressbar.OptionSetWriter(t.s.Progress),
			progressbar.OptionSetDescription(fmt.Sprintf("%s training", t.s.Estimator)),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish())
		defer bar.Close()
	}
	var records []EpochRecord
	idx := make([]int, t.batch)
	for e := 0; e < n; e++ {
		// Cancellation is checked before an epoch draws its row order and after each
		// minibatch, so a checkpoint always holds a state between two minibatches.
		if err := ctx.Err(); err != nil {
			return records, t.stopped(err)
		}
		epoch := t.epoch
		lr, mom := t.s.learningRate().At(epoch), t.s.momentum().At(epoch)
		began := time.Now()
		if t.pos == 0 {
			t.perm = t.shuffle.Perm(rows)
			t.costSum, t.clipped = 0, 0
		}
		clear(t.bounds) // the parameters may have been changed since the last update
		for t.pos < batches {
			bi := t.pos
			copy(idx, t.perm[bi*t.batch:(bi+1)*t.batch])
			copyRows(t.v0In, data, idx)
			if t.persist && !t.chainSet {
				t.initChains(data, t.perm)
			}
			c, clipped, err := t.step(lr, mom)
			if err != nil {
				return records, errors.Wrapf(err, "optim: epoch %d, minibatch %d", epoch+1, bi+1)
			}
			t.costSum += c
			if clipped {
				t.clipped++
			}
			t.pos++
			if bar != nil {
				_ = bar.Add(1)
			}
			if t.pos < batches {
				if err := ctx.Err(); err != nil {
					return records, t.stopped(err)
				}
			}
		}
		t.pos, t.perm = 0, nil
		t.epoch++
		rec := EpochRecord{Epoch: t.epoch, Seconds: time.Since(began).Seconds(), LearningRate: lr, Momentum: mom,
			Cost: t.costSum / float64(batches), Clipped: t.clipped}
		if err := t.monitorEpoch(&rec, data); err != nil {
			return records, err
		}
		records = append(records, rec)
		if t.s.Record != nil {
			if err := json.NewEncoder(t.s.Record).Encode(rec); err != nil {
				return records, errors.Wrap(err, "optim: writing epoch record")
			}
		}
		if every := t.s.CheckpointEvery; every > 0 && t.epoch%every == 0 {
			if err := t.SaveCheckpoint(t.s.Checkpoint); err != nil {
				return records, err
			}
		}
		if t.s.OnEpoch != nil {
			if err := t.s.OnEpoch(rec); err != nil {
				return records, err
			}
		}
	}
	return records, nil
}

// stopped is the error for a cancelled context: where training stopped and, with
// Settings.Checkpoint, the checkpoint saved there.
func (t *Trainer) stopped(cause error) error {
	if t.s.Checkpoint == "" {
		return fmt.Errorf("optim: training stopped in epoch %d at minibatch %d: %w", t.epoch+1, t.pos+1, cause)
	}
	if err := t.SaveCheckpoint(t.s.Checkpoint); err != nil {
		return fmt.Errorf("optim: training stopped in epoch %d at minibatch %d (%v): %w", t.epoch+1, t.pos+1, err, cause)
	}
	return fmt.Errorf("optim: training stopped in epoch %d at minibatch %d; checkpoint saved to %s (continue with Settings.Resume): %w", t.epoch+1, t.pos+1, t.s.Checkpoint, cause)
}

// initChains fills the persistent chains with training rows in the epoch's order.
func (t *Trainer) initChains(data *tensor.Dense, perm []int) {
	chains := t.chainIn.Shape()[0]
	idx := make([]int, chains)
	for i := range idx {
		idx[i] = perm[i%len(perm)]
	}
	copyRows(t.chainIn, data, idx)
	t.chainSet = true
}

// step runs one minibatch: forward chain, gradient, parameter update. It returns the CD cost and
// whether the gradient was clipped. Nothing is changed unless every parameter stays finite: all
// updates are checked before any is applied, so on an error the parameters, velocities and
// chains are those from before the step.
func (t *Trainer) step(lr, mom float64) (float64, bool, error) {
	defer t.vm.Reset()
	if err := t.vm.RunAll(); err != nil {
		return 0, false, errors.Wrap(err, "running the CD graph")
	}
	cost := valueFloats(t.costVal)[0]
	if math.IsNaN(cost) || math.IsInf(cost, 0) {
		return cost, false, fmt.Errorf("CD cost is %v (non-finite)%s: lower the learning rate, check the data scale, or use Gaussian visible units for real-valued data", cost, t.nonFiniteParams())
	}
	for i, p := range t.params {
		grad, ok := t.gradNodes[i].Value().(*tensor.Dense)
		if !ok || grad.Shape().TotalSize() != t.values[i].Shape().TotalSize() || grad.RequiresIterator() {
			return cost, false, fmt.Errorf("gradient of %s is not a plain dense tensor of its shape", p.Name())
		}
		if t.aliasesState(grad) {
			// The updates write parameters and velocities: a gradient that shares memory with
			// one (a gradient node whose value is one of its inputs) is copied first, so that
			// every update reads the gradient the graph computed.
			grad = grad.Clone().(*tensor.Dense)
		}
		t.grads[i] = grad
	}
	clipped := false
	if c := t.s.ClipNorm; c > 0 {
		if norm := t.gradNorm(); norm > c {
			lr *= c / norm * t.clipMargin
			clipped = true
		}
	}
	// Every update is checked before any is applied, so a non-finite one leaves all
	// parameters as they were: from bounds when they suffice (one read of each gradient),
	// else entry by entry.
	for i, p := range t.params {
		if t.checkBound(i, lr, mom) {
			continue
		}
		if err := checkStep(t.values[i], t.grads[i], t.vel[i], lr, mom, t.decay[i]); err != nil {
			return cost, false, errors.Wrapf(err, "parameter %s", p.Name())
		}
	}
	for i := range t.params {
		mt, mv := applyStep(t.values[i], t.grads[i], t.vel[i], lr, mom, t.decay[i])
		t.bounds[i] = paramBound{theta: mt, vel: mv, ok: true}
	}
	if t.persist {
		vk, ok := t.vk.(*tensor.Dense)
		if !ok {
			return cost, clipped, errors.New("persistent chain state was not produced")
		}
		if err := copyDense(t.chainIn, vk); err != nil {
			return cost, clipped, err
		}
	}
	return cost, clipped, nil
}

// aliasesState reports whether g shares memory with the minibatch, the persistent chains, a
// parameter or a velocity (a gradient node whose value is one of its inputs).
func (t *Trainer) aliasesState(g *tensor.Dense) bool {
	p := g.Uintptr()
	same := func(x *tensor.Dense) bool { return x != nil && x.Uintptr() == p }
	if same(t.v0In) || same(t.chainIn) {
		return true
	}
	for i := range t.values {
		if same(t.values[i]) || same(t.vel[i]) {
			return true
		}
	}
	return false
}

// gradNorm is the Euclidean norm of g + λθ over all parameters together (the vector the update
// scales by the learning rate), computed in float64 with rescaling when the plain sum of squares
// overflows. NaN or +Inf when an entry is not finite.
func (t *Trainer) gradNorm() float64 {
	sum, big := 0.0, 0.0
	for i := range t.params {
		ss, mx := sumSquares(t.values[i], t.grads[i], t.decay[i], 1)
		sum += ss
		big = max(big, mx)
	}
	if !math.IsInf(sum, 1) || math.IsInf(big, 1) || big == 0 {
		return math.Sqrt(sum)
	}
	sum = 0
	for i := range t.params {
		ss, _ := sumSquares(t.values[i], t.grads[i], t.decay[i], 1/big)
		sum += ss
	}
	return big * math.Sqrt(sum)
}

// sumSquares returns Σ (scale·(g + decay·θ))² and max |g + decay·θ|, in float64.
func sumSquares(theta, grad *tensor.Dense, decay, scale float64) (float64, float64) {
	ss, mx := 0.0, 0.0
	switch th := theta.Data().(type) {
	case []float64:
		g := grad.Data().([]float64)
		for i, x := range th {
			gi := g[i] + float64(decay*x)
			ss += (scale * gi) * (scale * gi)
			mx = max(mx, math.Abs(gi))
		}
	case []float32:
		g, d := grad.Data().([]float32), float32(decay)
		for i, x := range th {
			gi := float64(g[i] + float32(d*x))
			ss += (scale * gi) * (scale * gi)
			mx = max(mx, math.Abs(gi))
		}
	}
	return ss, mx
}

// nonFiniteParams names the parameters holding a NaN or infinite entry (", parameter W entry 3
// is NaN"), or says that all are finite (the overflow is then in the data or the samples).
func (t *Trainer) nonFiniteParams() string {
	msg := ""
	for _, p := range t.params {
		d, ok := p.Value().(*tensor.Dense)
		if !ok {
			continue
		}
		for i, v := range values(d) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				msg += fmt.Sprintf(", parameter %s entry %d is %v", p.Name(), i, v)
				break
			}
		}
	}
	if msg == "" {
		return " with finite parameters (the overflow is in the free energies of the data or the samples)"
	}
	return msg
}

// copyDense copies src's values into dst (same dtype and size).
func copyDense(dst, src *tensor.Dense) error {
	switch d := dst.Data().(type) {
	case []float64:
		if s, ok := src.Data().([]float64); ok && len(s) == len(d) {
			copy(d, s)
			return nil
		}
	case []float32:
		if s, ok := src.Data().([]float32); ok && len(s) == len(d) {
			copy(d, s)
			return nil
		}
	}
	return fmt.Errorf("chain state: cannot copy %v %v into %v %v", src.Dtype(), src.Shape(), dst.Dtype(), dst.Shape())
}

// update applies Δ ← mom·Δ - lr·(g + decay·θ); θ ← θ + Δ elementwise (g is only read). It first
// checks (checkStep) that every new θ would be finite and otherwise reports the first bad entry
// without changing anything.
func update(theta, grad, vel *tensor.Dense, lr, mom, decay float64) error {
	if err := checkStep(theta, grad, vel, lr, mom, decay); err != nil {
		return err
	}
	applyStep(theta, grad, vel, lr, mom, decay)
	return nil
}

// checkStep reports whether the update Δ' = mom·Δ - lr·(g + decay·θ), θ' = θ + Δ' leaves every
// entry of θ' finite, computing θ' exactly as applyStep does but storing nothing. When it does not,
// the error names the first bad entry: a non-finite gradient entry, or an entry whose new value
// overflows. One read pass, AVX2 where available, two goroutines for large tensors.
func checkStep(theta, grad, vel *tensor.Dense, lr, mom, decay float64) error {
	switch th := theta.Data().(type) {
	case []float64:
		g, v := grad.Data().([]float64), vel.Data().([]float64)
		if len(g) < len(th) || len(v) < len(th) {
			return fmt.Errorf("gradient or velocity shorter than the parameter")
		}
		if !stepFiniteSplit(th, g, v, lr, mom, decay) {
			return badStep(th, g, v, lr, mom, decay)
		}
	case []float32:
		g, v := grad.Data().([]float32), vel.Data().([]float32)
		if len(g) < len(th) || len(v) < len(th) {
			return fmt.Errorf("gradient or velocity shorter than the parameter")
		}
		l, m, d := float32(lr), float32(mom), float32(decay)
		if !stepFiniteSplit(th, g, v, l, m, d) {
			return badStep(th, g, v, l, m, d)
		}
	default:
		return fmt.Errorf("unsupported parameter dtype %v", theta.Dtype())
	}
	return nil
}

// applyStep is update without the check (checkStep has passed). It returns the largest |θ'| and
// |Δ'| of the new values (the bound checkBound uses at the next step).
func applyStep(theta, grad, vel *tensor.Dense, lr, mom, decay float64) (maxTheta, maxVel float64) {
	var mu sync.Mutex
	keep := func(mt, mv float64) {
		mu.Lock()
		maxTheta, maxVel = max(maxTheta, mt), max(maxVel, mv)
		mu.Unlock()
	}
	switch th := theta.Data().(type) {
	case []float64:
		g, v := grad.Data().([]float64), vel.Data().([]float64)
		split(len(th), func(lo, hi int) { keep(update64(th[lo:hi], g[lo:hi], v[lo:hi], lr, mom, decay)) })
	case []float32:
		g, v := grad.Data().([]float32), vel.Data().([]float32)
		split(len(th), func(lo, hi int) {
			keep(update32(th[lo:hi], g[lo:hi], v[lo:hi], float32(lr), float32(mom), float32(decay)))
		})
	}
	return maxTheta, maxVel
}

func update64(th, g, v []float64, lr, mom, decay float64) (maxTheta, maxVel float64) {
	g, v = g[:len(th)], v[:len(th)]
	done := 0
	if haveAVX2 && len(th) >= 4 {
		done = len(th) &^ 3
		var mx [8]float64
		momentum64AVX2(unsafe.Pointer(&th[0]), unsafe.Pointer(&g[0]), unsafe.Pointer(&v[0]), done, lr, mom, decay, &mx)
		maxTheta, maxVel = max(mx[0], mx[1], mx[2], mx[3]), max(mx[4], mx[5], mx[6], mx[7])
	}
	for i := done; i < len(th); i++ {
		gi := g[i] + float64(decay*th[i])
		v[i] = float64(mom*v[i]) - float64(lr*gi)
		th[i] += v[i]
		maxTheta, maxVel = max(maxTheta, math.Abs(th[i])), max(maxVel, math.Abs(v[i]))
	}
	return maxTheta, maxVel
}

func update32(th, g, v []float32, l, m, d float32) (maxTheta, maxVel float64) {
	g, v = g[:len(th)], v[:len(th)]
	done := 0
	var mt, mv float32
	if haveAVX2 && len(th) >= 8 {
		done = len(th) &^ 7
		var mx [16]float32
		momentum32AVX2(unsafe.Pointer(&th[0]), unsafe.Pointer(&g[0]), unsafe.Pointer(&v[0]), done, l, m, d, &mx)
		mt, mv = slices.Max(mx[:8]), slices.Max(mx[8:])
	}
	for i := done; i < len(th); i++ {
		// The conversions round each product, so that no compiler fuses them into FMAs and the
		// tail matches the vector loop.
		gi := g[i] + float32(d*th[i])
		v[i] = float32(m*v[i]) - float32(l*gi)
		th[i] += v[i]
		mt, mv = max(mt, float32(math.Abs(float64(th[i])))), max(mv, float32(math.Abs(float64(v[i]))))
	}
	return float64(mt), float64(mv)
}

// checkBound reports whether the update of parameter i is certainly finite from bounds alone:
// with |θ| ≤ Θ and |Δ| ≤ V after the previous update and |g| ≤ γ now (one read of the gradient,
// which the machine has just written), every |θ'| is at most Θ + |mom|·V + |lr|·(γ + |decay|·Θ)
// up to a few roundings; below a quarter of the dtype's largest value that leaves no room for an
// overflow. When it cannot tell (no bound yet, a NaN or infinite gradient entry, or big values)
// it returns false and the caller runs the exact check, checkStep.
func (t *Trainer) checkBound(i int, lr, mom float64) bool {
	if !t.bounds[i].ok {
		return false
	}
	return stepBounded(t.bounds[i], absMaxOf(t.grads[i]), lr, mom, t.decay[i], t.values[i].Dtype() == tensor.Float32)
}

// stepBounded is checkBound's test for a parameter with bounds b and gradient entries of size at
// most gamma (+Inf when one is NaN or infinite).
func stepBounded(b paramBound, gamma, lr, mom, decay float64, float32 bool) bool {
	bound := b.theta + math.Abs(mom)*b.vel + math.Abs(lr)*(gamma+math.Abs(decay)*b.theta)
	limit := math.MaxFloat64 / 4
	if float32 {
		limit = math.MaxFloat32 / 4
	}
	// The step's factors are rounded to the dtype too: a learning rate beyond its range is
	// infinite there, whatever the gradient.
	return bound <= limit && math.Abs(lr) <= limit && math.Abs(mom) <= limit && math.Abs(decay) <= limit // false for NaN
}

// absMaxOf is absmax.Of on a tensor's data (float32 or float64).
func absMaxOf(x *tensor.Dense) float64 {
	switch d := x.Data().(type) {
	case []float32:
		return absmax.Of(d)
	case []float64:
		return absmax.Of(d)
	}
	return math.Inf(1)
}

// paramBound is the largest |θ| and |Δ| of a parameter after the trainer's last update (ok:
// known; every epoch starts without, since the parameters may have been changed in between).
type paramBound struct {
	theta, vel float64
	ok         bool
}

// stepFinite reports whether every θ' = θ + (mom·Δ - lr·(g + decay·θ)) is finite: Σ θ'·0 is 0
// exactly then, NaN otherwise. No per-entry branch; AVX2 where available; the same roundings as
// update32/update64.
func stepFinite[T float32 | float64](th, g, v []T, lr, mom, decay T) bool {
	g, v = g[:len(th)], v[:len(th)]
	done := 0
	if haveAVX2 {
		switch t := any(th).(type) {
		case []float32:
			if done = len(t) &^ 7; done > 0 && !stepFinite32AVX2(unsafe.Pointer(&t[0]), unsafe.Pointer(&any(g).([]float32)[0]),
				unsafe.Pointer(&any(v).([]float32)[0]), done, any(lr).(float32), any(mom).(float32), any(decay).(float32)) {
				return false
			}
		case []float64:
			if done = len(t) &^ 3; done > 0 && !stepFinite64AVX2(unsafe.Pointer(&t[0]), unsafe.Pointer(&any(g).([]float64)[0]),
				unsafe.Pointer(&any(v).([]float64)[0]), done, any(lr).(float64), any(mom).(float64), any(decay).(float64)) {
				return false
			}
		}
	}
	var acc T
	for i := done; i < len(th); i++ {
		gi := g[i] + T(decay*th[i])
		d := T(mom*v[i]) - T(lr*gi)
		acc += (th[i] + d) * 0
	}
	return acc == 0
}

// stepFiniteSplit is stepFinite over chunks shared among the CPUs (split).
func stepFiniteSplit[T float32 | float64](th, g, v []T, lr, mom, decay T) bool {
	var bad atomic.Bool
	split(len(th), func(lo, hi int) {
		if !stepFinite(th[lo:hi], g[lo:hi], v[lo:hi], lr, mom, decay) {
			bad.Store(true)
		}
	})
	return !bad.Load()
}

// badStep describes the first entry whose update is not finite (stepFinite has failed).
func badStep[T float32 | float64](th, g, v []T, lr, mom, decay T) error {
	if i := firstNonFinite(th, g, decay); i >= 0 {
		return fmt.Errorf("gradient entry %d is %v (non-finite)", i, g[i])
	}
	for i := range th {
		gi := g[i] + T(decay*th[i])
		d := T(mom*v[i]) - T(lr*gi)
		if f := float64(th[i] + d); math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("entry %d would become %v (non-finite) from %v with gradient %v, learning rate %v and momentum %v: lower the learning rate", i, f, th[i], g[i], lr, mom)
		}
	}
	return fmt.Errorf("update is not finite")
}

// firstNonFinite returns the index of the first entry of g + decay·θ that is NaN or infinite,
// or -1.
func firstNonFinite[T float32 | float64](th, g []T, decay T) int {
	for i := range th {
		if f := float64(g[i] + decay*th[i]); math.IsNaN(f) || math.IsInf(f, 0) {
			return i
		}
	}
	return -1
}

// split calls f on [0, n) in chunks of at least 16,384 entries shared among the CPUs (package
// parallel), or once when n is smaller.
func split(n int, f func(lo, hi int)) { parallel.For(n, n>>14, f) }

func (t *Trainer) monitorEpoch(rec *EpochRecord, data *tensor.Dense) error {
	if t.eval == nil {
		return nil
	}
	rows := t.s.monitorRows()
	tr, err := t.eval.Metrics(firstRows(data, rows), t.monitor)
	if err != nil {
		return errors.Wrap(err, "optim: monitoring training data")
	}
	rec.Train = tr
	if t.s.Validation != nil {
		va, err := t.eval.Metrics(firstRows(t.s.Validation, rows), t.monitor)
		if err != nil {
			return errors.Wrap(err, "optim: monitoring validation data")
		}
		rec.Validation = &va
		rec.FreeEnergyGap = va.FreeEnergy - tr.FreeEnergy
	}
	return nil
}

// firstRows returns a (min(n, N), nv) tensor sharing the first rows of x.
func firstRows(x *tensor.Dense, n int) *tensor.Dense {
	s := x.Shape()
	if n >= s[0] {
		return x
	}
	var backing any
	switch d := x.Data().(type) {
	case []float64:
		backing = d[:n*s[1]]
	case []float32:
		backing = d[:n*s[1]]
	}
	return tensor.New(tensor.WithShape(n, s[1]), tensor.WithBacking(backing))
}
