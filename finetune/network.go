package finetune

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/graph"
	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/ops"
)

// OutputStd is the standard deviation of the initial softmax weights: V ~ N(0, 0.01²), as for the
// RBM weights (Hinton 2010, §8).
const OutputStd = 0.01

// Layer is one affine layer of a Network: weights W (in, out) and biases C (out), of one dtype.
type Layer struct {
	W, C *tensor.Dense
}

// Network is a feed-forward classifier of dtype Float32 or Float64:
//
//	h_0 = x,   h_l = σ(c_l + h_{l-1} W_l)  (l = 1..L, the Hidden layers),   p(y | x) = softmax(d + h_L V)
//
// for inputs x (N, n_0) and classes 0..K-1, with V, d the Output layer (n_L, K), (K). Built from a
// pretrained DBN by FromDBN (the unrolled recognition network of Hinton & Salakhutdinov 2006,
// "Reducing the dimensionality of data with neural networks", Science 313) or from random
// weights by NewRandom; trained by Train. A Network owns its tensors: Train updates them in place.
type Network struct {
	Hidden []Layer // sigmoid layers, bottom first
	Output Layer   // softmax layer
}

// FromDBN unrolls d into a Network: hidden layer l gets copies of the weights W and hidden biases
// C of d.Layers[l] (the visible biases are not used), and a softmax layer of the given number of
// classes (≥ 2) is added on top with weights drawn from N(0, OutputStd²) with src (row-major) and
// zero biases. The Network shares no memory with d, so training it leaves d unchanged.
//
// A Gaussian bottom layer (d.Gaussian) becomes the first hidden layer with the 1/σ of its
// recognition pass σ(c + (v/σ)W) folded into the weights, W'_ij = W_ij/σ_i, so the network stays a
// plain sigmoid stack and its first layer computes p(h_1 = 1 | v) for real-valued v (equal to the
// DBN's up-pass up to rounding, not bit for bit: v(W/σ) rounds differently from (v/σ)W). σ is
// then no longer a parameter: fine-tuning trains W' and c.
func FromDBN(d *models.DBN, classes int, src rand.Source) (*Network, error) {
	if d == nil {
		return nil, errors.New("finetune: nil DBN")
	}
	if err := d.Check(); err != nil {
		return nil, errors.Wrap(err, "finetune")
	}
	if classes < 2 {
		return nil, fmt.Errorf("finetune: %d classes; want ≥ 2", classes)
	}
	if src == nil {
		return nil, errors.New("finetune: nil rand.Source for the output layer")
	}
	n := &Network{}
	if g := d.Gaussian; g != nil {
		nv, nh := g.NumVisible(), g.NumHidden()
		w, sigma := append([]float64(nil), floats(g.W)...), g.Sigma()
		for i := 0; i < nv; i++ {
			for j := 0; j < nh; j++ {
				w[i*nh+j] /= sigma[i]
			}
		}
		n.Hidden = append(n.Hidden, Layer{W: newDense(d.Dtype(), w, nv, nh), C: g.C.Clone().(*tensor.Dense)})
	}
	for _, m := range d.Layers {
		n.Hidden = append(n.Hidden, Layer{W: m.W.Clone().(*tensor.Dense), C: m.C.Clone().(*tensor.Dense)})
	}
	n.Output = normalLayer(d.NumHidden(), classes, d.Dtype(), OutputStd, rand.New(src))
	return n, nil
}

// NewRandom returns a Network with layer sizes sizes[0] (inputs), …, sizes[L] (top hidden layer),
// at least one hidden layer, and a softmax layer of classes outputs, initialised without
// pretraining: each sigmoid layer's weights uniform on ±4·√(6/(n_in + n_out)) (Glorot & Bengio
// 2010, the sigmoid variant of the Theano tutorial), the softmax weights from N(0, OutputStd²), all
// biases zero. Every draw comes from src, layer after layer, row-major. It is the random-start
// baseline against which pretraining is compared.
func NewRandom(sizes []int, classes int, dt tensor.Dtype, src rand.Source) (*Network, error) {
	if len(sizes) < 2 {
		return nil, fmt.Errorf("finetune: need at least two sizes (inputs and one hidden layer), got %v", sizes)
	}
	for i, s := range sizes {
		if s < 1 {
			return nil, fmt.Errorf("finetune: layer %d has %d units; sizes must be ≥ 1 (got %v)", i, s, sizes)
		}
	}
	if classes < 2 {
		return nil, fmt.Errorf("finetune: %d classes; want ≥ 2", classes)
	}
	if !dt.Eq(tensor.Float32) && !dt.Eq(tensor.Float64) {
		return nil, fmt.Errorf("finetune: dtype %v is not supported; use tensor.Float32 or tensor.Float64", dt)
	}
	if src == nil {
		return nil, errors.New("finetune: nil rand.Source for the initial weights")
	}
	rng := rand.New(src)
	n := &Network{}
	for l := 0; l+1 < len(sizes); l++ {
		r := 4 * math.Sqrt(6/float64(sizes[l]+sizes[l+1]))
		w := make([]float64, sizes[l]*sizes[l+1])
		for i := range w {
			w[i] = r * (2*rng.Float64() - 1)
		}
		n.Hidden = append(n.Hidden, Layer{W: newDense(dt, w, sizes[l], sizes[l+1]), C: tensor.New(tensor.WithShape(sizes[l+1]), tensor.Of(dt))})
	}
	n.Output = normalLayer(sizes[len(sizes)-1], classes, dt, OutputStd, rng)
	return n, nil
}

func normalLayer(in, out int, dt tensor.Dtype, std float64, rng *rand.Rand) Layer {
	w := make([]float64, in*out)
	for i := range w {
		w[i] = std * rng.NormFloat64()
	}
	return Layer{W: newDense(dt, w, in, out), C: tensor.New(tensor.WithShape(out), tensor.Of(dt))}
}

// newDense returns a tensor of dtype dt and the given shape holding v (rounded for Float32).
func newDense(dt tensor.Dtype, v []float64, shape ...int) *tensor.Dense {
	t := tensor.New(tensor.WithShape(shape...), tensor.Of(dt))
	switch d := t.Data().(type) {
	case []float64:
		copy(d, v)
	case []float32:
		for i := range d {
			d[i] = float32(v[i])
		}
	}
	return t
}

// layers returns the hidden layers followed by the output layer.
func (n *Network) layers() []Layer { return append(append([]Layer(nil), n.Hidden...), n.Output) }

// Check reports whether the network has at least one hidden layer, every tensor is present and
// contiguous, shapes chain (W_l is (n_{l-1}, n_l), C_l is (n_l)), there are at least two classes,
// one float dtype is used throughout and every value is finite.
func (n *Network) Check() error {
	if n == nil {
		return errors.New("finetune: nil Network")
	}
	if len(n.Hidden) == 0 {
		return errors.New("finetune: Network has no hidden layers")
	}
	var dt tensor.Dtype
	for l, ly := range n.layers() {
		name := fmt.Sprintf("hidden layer %d", l)
		if l == len(n.Hidden) {
			name = "output layer"
		}
		if ly.W == nil || ly.C == nil {
			return fmt.Errorf("finetune: %s needs W and C", name)
		}
		ws, cs := ly.W.Shape(), ly.C.Shape()
		if ws.Dims() != 2 || ws[0] < 1 || ws[1] < 1 {
			return fmt.Errorf("finetune: %s W must be a non-empty (in, out) matrix, has shape %v", name, ws)
		}
		if cs.Dims() != 1 || cs[0] != ws[1] {
			return fmt.Errorf("finetune: %s C must have shape (%d), has %v", name, ws[1], cs)
		}
		if l == 0 {
			dt = ly.W.Dtype()
			if !dt.Eq(tensor.Float32) && !dt.Eq(tensor.Float64) {
				return fmt.Errorf("finetune: dtype %v is not supported; use Float32 or Float64", dt)
			}
		} else if prev := n.layers()[l-1].W.Shape()[1]; ws[0] != prev {
			return fmt.Errorf("finetune: %s has %d inputs but the layer below has %d outputs", name, ws[0], prev)
		}
		for _, t := range []*tensor.Dense{ly.W, ly.C} {
			if !t.Dtype().Eq(dt) {
				return fmt.Errorf("finetune: %s has dtype %v, the network %v", name, t.Dtype(), dt)
			}
			if !t.IsNativelyAccessible() || t.RequiresIterator() {
				return fmt.Errorf("finetune: %s tensors must be contiguous", name)
			}
			for i, v := range floats(t) {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return fmt.Errorf("finetune: %s entry %d is %v (non-finite)", name, i, v)
				}
			}
		}
	}
	if n.Output.W.Shape()[1] < 2 {
		return fmt.Errorf("finetune: %d classes; want ≥ 2", n.Output.W.Shape()[1])
	}
	return nil
}

// Dtype is the network's dtype.
func (n *Network) Dtype() tensor.Dtype { return n.Hidden[0].W.Dtype() }

// NumInputs is n_0, the column count of the data.
func (n *Network) NumInputs() int { return n.Hidden[0].W.Shape()[0] }

// NumClasses is the number of softmax outputs K.
func (n *Network) NumClasses() int { return n.Output.W.Shape()[1] }

// Sizes returns n_0, …, n_L, K.
func (n *Network) Sizes() []int {
	s := []int{n.NumInputs()}
	for _, ly := range n.layers() {
		s = append(s, ly.W.Shape()[1])
	}
	return s
}

// Clone returns a deep copy of the network.
func (n *Network) Clone() *Network {
	c := &Network{Output: cloneLayer(n.Output)}
	for _, ly := range n.Hidden {
		c.Hidden = append(c.Hidden, cloneLayer(ly))
	}
	return c
}

func cloneLayer(l Layer) Layer {
	return Layer{W: l.W.Clone().(*tensor.Dense), C: l.C.Clone().(*tensor.Dense)}
}

// bound holds a network's parameters as nodes of one graph.
type bound struct {
	hidden []graph.RBM // W and C are the layer's; B is an unused zero node graph.RBM requires
	outW   *G.Node
	outC   *G.Node
}

// params returns the trainable nodes in a fixed order: W_1, C_1, …, W_L, C_L, V, d.
func (b *bound) params() G.Nodes {
	var p G.Nodes
	for _, h := range b.hidden {
		p = append(p, h.W, h.C)
	}
	return append(p, b.outW, b.outC)
}

// bind adds the network's tensors to g as input nodes whose values are the tensors themselves
// (aliased: an update of a node's value is an update of the network).
func (n *Network) bind(g *G.ExprGraph) *bound {
	dt := n.Dtype()
	b := &bound{}
	for l, ly := range n.Hidden {
		in, out := ly.W.Shape()[0], ly.W.Shape()[1]
		b.hidden = append(b.hidden, graph.RBM{
			W: G.NewMatrix(g, dt, G.WithShape(in, out), G.WithName(fmt.Sprintf("ft.W%d", l+1)), G.WithValue(ly.W)),
			// The visible biases take no part in the recognition pass; the node only completes
			// graph.RBM so that each layer is built by graph.HiddenProbs, the very builder
			// models.RBM.HiddenProbs uses (the unrolled network reproduces the DBN's up-pass).
			B: G.NewVector(g, dt, G.WithShape(in), G.WithName(fmt.Sprintf("ft.b%d.unused", l+1)), G.WithValue(tensor.New(tensor.WithShape(in), tensor.Of(dt)))),
			C: G.NewVector(g, dt, G.WithShape(out), G.WithName(fmt.Sprintf("ft.c%d", l+1)), G.WithValue(ly.C)),
		})
	}
	k := n.NumClasses()
	b.outW = G.NewMatrix(g, dt, G.WithShape(n.Output.W.Shape()[0], k), G.WithName("ft.V"), G.WithValue(n.Output.W))
	b.outC = G.NewVector(g, dt, G.WithShape(k), G.WithName("ft.d"), G.WithValue(n.Output.C))
	return b
}

// forward adds the network's pass on x (batch, n_0) and returns the top hidden layer h_L
// (batch, n_L) and the softmax logits d + h_L V (batch, K).
//
// masks, when given (training with dropout), has one entry per layer input: masks[0] multiplies x
// elementwise, masks[l] the output of hidden layer l; a nil entry means none.
func (b *bound) forward(x *G.Node, masks ...*G.Node) (top, logits *G.Node, err error) {
	drop := func(l int, h *G.Node) (*G.Node, error) {
		if l >= len(masks) || masks[l] == nil {
			return h, nil
		}
		out, err := G.HadamardProd(h, masks[l])
		return out, errors.Wrapf(err, "finetune: dropout on layer %d's input", l+1)
	}
	h := x
	for l, p := range b.hidden {
		if h, err = drop(l, h); err != nil {
			return nil, nil, err
		}
		if h, err = graph.HiddenProbs(p, h); err != nil {
			return nil, nil, errors.Wrapf(err, "finetune: hidden layer %d", l+1)
		}
	}
	top = h
	if h, err = drop(len(b.hidden), h); err != nil {
		return nil, nil, err
	}
	hv, err := G.Mul(h, b.outW)
	if err != nil {
		return nil, nil, errors.Wrap(err, "finetune: output layer")
	}
	logits, err = G.BroadcastAdd(hv, b.outC, nil, []byte{0})
	if err != nil {
		return nil, nil, errors.Wrap(err, "finetune: output biases")
	}
	return top, logits, nil
}

// logSoftmax adds log softmax(a) row by row for a (batch, K): a - m - log Σ_k exp(a_k - m) with m
// the row maximum, so it is finite for logits of any size. m is wrapped in ops.StopGradient: the
// value is exact for any m, so its gradient is the softmax gradient without differentiating max.
func logSoftmax(a *G.Node) (*G.Node, error) {
	m, err := G.Max(a, 1)
	if err != nil {
		return nil, errors.Wrap(err, "finetune: row maximum")
	}
	if m, err = ops.StopGradient(m); err != nil {
		return nil, err
	}
	shifted, err := G.BroadcastSub(a, m, nil, []byte{1})
	if err != nil {
		return nil, errors.Wrap(err, "finetune: a - max")
	}
	e, err := G.Exp(shifted)
	if err != nil {
		return nil, err
	}
	s, err := G.Sum(e, 1)
	if err != nil {
		return nil, err
	}
	ls, err := G.Log(s)
	if err != nil {
		return nil, err
	}
	return G.BroadcastSub(shifted, ls, nil, []byte{1})
}

// checkInput verifies x against the network: a non-empty (N, n_0) contiguous matrix of its dtype
// with finite values.
func (n *Network) checkInput(name string, x *tensor.Dense) error {
	if err := datasets.CheckMatrix(name, x, n.NumInputs(), n.Dtype()); err != nil {
		return errors.Wrap(err, "finetune")
	}
	return nil
}

// checkLabels verifies that there is one label in [0, K) per row.
func (n *Network) checkLabels(name string, labels []int, rows int) error {
	if len(labels) != rows {
		return fmt.Errorf("finetune: %d %s for %d rows; want one per row", len(labels), name, rows)
	}
	k := n.NumClasses()
	for i, y := range labels {
		if y < 0 || y >= k {
			return fmt.Errorf("finetune: %s[%d] = %d, outside [0, %d): the network has %d classes", name, i, y, k, k)
		}
	}
	return nil
}

// evalRows is the largest batch an inference graph handles; larger inputs go in chunks.
const evalRows = 1000

// evaluator is a compiled inference graph for batches of a fixed size. Its parameter nodes alias
// the network's tensors, so it follows the network during training; it never computes gradients.
type evaluator struct {
	rows        int
	xIn         *tensor.Dense
	vm          G.VM
	top, logits G.Value
}

func newEvaluator(n *Network, rows int) (*evaluator, error) {
	g := G.NewGraph()
	b := n.bind(g)
	e := &evaluator{rows: rows, xIn: tensor.New(tensor.WithShape(rows, n.NumInputs()), tensor.Of(n.Dtype()))}
	x := G.NewMatrix(g, n.Dtype(), G.WithShape(rows, n.NumInputs()), G.WithName("ft.x"), G.WithValue(e.xIn))
	top, logits, err := b.forward(x)
	if err != nil {
		return nil, err
	}
	roots := G.Nodes{G.Read(top, &e.top), G.Read(logits, &e.logits)}
	e.vm = G.NewTapeMachine(g.SubgraphRoots(roots...))
	return e, nil
}

func (e *evaluator) close() { e.vm.Close() }

// run evaluates rows [start, start+e.rows) of x and returns the top hidden layer and the logits
// (valid until the next run).
func (e *evaluator) run(x *tensor.Dense, start int) (top, logits *tensor.Dense, err error) {
	copyRange(e.xIn, x, start)
	defer e.vm.Reset()
	if err := e.vm.RunAll(); err != nil {
		return nil, nil, errors.Wrap(ops.Transparent(err), "finetune: inference")
	}
	t, ok1 := e.top.(*tensor.Dense)
	l, ok2 := e.logits.(*tensor.Dense)
	if !ok1 || !ok2 {
		return nil, nil, errors.New("finetune: inference produced no tensor")
	}
	return t, l, nil
}

// chunks runs f on x (N, n_0) in chunks of at most evalRows rows using at most two compiled
// evaluators (the full chunk size and the remainder).
func (n *Network) chunks(x *tensor.Dense, f func(start, rows int, top, logits *tensor.Dense) error) error {
	total := x.Shape()[0]
	size := min(evalRows, total)
	var ev *evaluator
	defer func() {
		if ev != nil {
			ev.close()
		}
	}()
	for start := 0; start < total; start += size {
		rows := min(size, total-start)
		if ev == nil || ev.rows != rows {
			if ev != nil {
				ev.close()
			}
			var err error
			if ev, err = newEvaluator(n, rows); err != nil {
				return err
			}
		}
		top, logits, err := ev.run(x, start)
		if err != nil {
			return err
		}
		if err := f(start, rows, top, logits); err != nil {
			return err
		}
	}
	return nil
}

// Features returns the top hidden layer h_L (N, n_L) for x (N, n_0), in the network's dtype. For a
// network fresh from FromDBN it equals the DBN's up-pass, d.Features(x), bit for bit (to rounding
// for a DBN with a Gaussian bottom layer; see FromDBN).
func (n *Network) Features(x *tensor.Dense) (*tensor.Dense, error) {
	return n.collect(x, func(top, _ *tensor.Dense) *tensor.Dense { return top })
}

// Logits returns the softmax inputs d + h_L V (N, K) for x (N, n_0), in the network's dtype.
func (n *Network) Logits(x *tensor.Dense) (*tensor.Dense, error) {
	return n.collect(x, func(_, logits *tensor.Dense) *tensor.Dense { return logits })
}

func (n *Network) collect(x *tensor.Dense, pick func(top, logits *tensor.Dense) *tensor.Dense) (*tensor.Dense, error) {
	if err := n.Check(); err != nil {
		return nil, err
	}
	if err := n.checkInput("data", x); err != nil {
		return nil, err
	}
	var out *tensor.Dense
	var width int
	err := n.chunks(x, func(start, rows int, top, logits *tensor.Dense) error {
		v := pick(top, logits)
		if out == nil {
			width = v.Shape()[1]
			out = tensor.New(tensor.WithShape(x.Shape()[0], width), tensor.Of(n.Dtype()))
		}
		copyAt(out, start*width, v)
		return nil
	})
	return out, err
}

// Probabilities returns p(y = k | x) (N, K) as float64s, row-major: the softmax of the logits,
// computed stably (exp(a_k - max) / Σ exp(a_j - max)).
func (n *Network) Probabilities(x *tensor.Dense) ([]float64, error) {
	a, err := n.Logits(x)
	if err != nil {
		return nil, err
	}
	k := n.NumClasses()
	p := floats(a)
	if a.Dtype().Eq(tensor.Float64) {
		p = append([]float64(nil), p...)
	}
	for r := 0; r < len(p)/k; r++ {
		row := p[r*k : (r+1)*k]
		lse := logSumExp(row)
		for i := range row {
			row[i] = math.Exp(row[i] - lse)
		}
	}
	return p, nil
}

// Predict returns the most probable class of every row of x (N, n_0) (the first on ties).
func (n *Network) Predict(x *tensor.Dense) ([]int, error) {
	a, err := n.Logits(x)
	if err != nil {
		return nil, err
	}
	k := n.NumClasses()
	v := floats(a)
	out := make([]int, len(v)/k)
	for r := range out {
		out[r] = argmax(v[r*k : (r+1)*k])
	}
	return out, nil
}

// Evaluation is a network's performance on labelled data.
type Evaluation struct {
	// Error is the fraction of rows whose most probable class is not the label, in [0,1].
	Error float64 `json:"error"`
	// CrossEntropy is the mean of -log p(y = label | x) over the rows, nats per row.
	CrossEntropy float64 `json:"cross_entropy"`
	Rows         int     `json:"rows"`
}

// Evaluate returns the classification error and the cross-entropy of the network on x (N, n_0)
// with labels (N) in [0, K). The cross-entropy is computed in float64 from the logits with a
// stable log-softmax, so it is finite for logits of any size.
func (n *Network) Evaluate(x *tensor.Dense, labels []int) (Evaluation, error) {
	if err := n.Check(); err != nil {
		return Evaluation{}, err
	}
	if err := n.checkInput("data", x); err != nil {
		return Evaluation{}, err
	}
	if err := n.checkLabels("labels", labels, x.Shape()[0]); err != nil {
		return Evaluation{}, err
	}
	var acc evalAcc
	err := n.chunks(x, func(start, rows int, _, logits *tensor.Dense) error {
		acc.add(floats(logits), labels[start:start+rows], n.NumClasses())
		return nil
	})
	if err != nil {
		return Evaluation{}, err
	}
	return acc.result(), nil
}

// evalAcc accumulates errors and cross-entropy over batches of logits.
type evalAcc struct {
	wrong, rows int
	ce          float64
}

func (a *evalAcc) add(logits []float64, labels []int, k int) {
	for r, y := range labels {
		row := logits[r*k : (r+1)*k]
		if argmax(row) != y {
			a.wrong++
		}
		a.ce += logSumExp(row) - row[y]
	}
	a.rows += len(labels)
}

func (a *evalAcc) result() Evaluation {
	if a.rows == 0 {
		return Evaluation{}
	}
	return Evaluation{Error: float64(a.wrong) / float64(a.rows), CrossEntropy: a.ce / float64(a.rows), Rows: a.rows}
}

func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

func logSumExp(v []float64) float64 {
	m := v[argmax(v)]
	if math.IsInf(m, 0) {
		return m
	}
	s := 0.0
	for _, x := range v {
		s += math.Exp(x - m)
	}
	return m + math.Log(s)
}

// floats returns a float tensor's values as float64s (the backing for Float64, a copy otherwise).
func floats(x *tensor.Dense) []float64 {
	switch d := x.Data().(type) {
	case []float64:
		return d
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	}
	return nil
}

// copyRange copies the next dst-rows rows of src starting at row start into dst (same width,
// dtype).
func copyRange(dst, src *tensor.Dense, start int) {
	w := src.Shape()[1]
	switch d := dst.Data().(type) {
	case []float64:
		copy(d, src.Data().([]float64)[start*w:])
	case []float32:
		copy(d, src.Data().([]float32)[start*w:])
	}
}

// copyAt copies src's values into dst from flat offset off.
func copyAt(dst *tensor.Dense, off int, src *tensor.Dense) {
	switch d := dst.Data().(type) {
	case []float64:
		copy(d[off:], src.Data().([]float64))
	case []float32:
		copy(d[off:], src.Data().([]float32))
	}
}
