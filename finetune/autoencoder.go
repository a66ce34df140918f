package finetune

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/ops"
)

// Autoencoder is a deep autoencoder of dtype Float32 or Float64 (Hinton & Salakhutdinov 2006,
// "Reducing the dimensionality of data with neural networks", Science 313, 504-507):
//
//	encoder  h_0 = x,  h_l = σ(c_l + h_{l-1} W_l)  (l = 1..L; the code h_L = c_L + h_{L-1} W_L when LinearCode)
//	decoder  g_0 = h_L, g_l = σ(d_l + g_{l-1} V_l)  (l = 1..L; g_L is the reconstruction x̂ of x)
//
// for data x (N, n_0) with values in [0,1]. Encoder[l] holds W_{l+1} (n_l, n_{l+1}) and its biases;
// Decoder[l] holds V_{l+1} (in, out) and its biases, from the code back to the data, so
// Decoder[L-1] has n_0 outputs. UnrollAutoencoder builds one from a pretrained stack (the decoder
// starts with the transposed weights and the visible biases); TrainAutoencoder fine-tunes all
// weights with backpropagation of the reconstruction cross-entropy. An Autoencoder owns its
// tensors.
type Autoencoder struct {
	Encoder, Decoder []Layer
	// LinearCode makes the top encoder layer linear (real-valued code units, the paper's choice for
	// the 30-D and 2-D codes); otherwise it is a sigmoid layer like the others.
	LinearCode bool
}

// UnrollAutoencoder unrolls a pretrained stack into an Autoencoder: the RBMs of d (bottom first)
// and, if code is not nil, a GaussianHiddenRBM on top whose hidden means become the linear code
// (LinearCode set; code must have d's top layer size as visible units and d's dtype). Encoder
// layer l gets copies of the RBM's W and hidden biases C; the decoder mirrors the stack with Wᵀ and
// the visible biases B, top RBM first. With code nil, d's top RBM gives a logistic code. d may be
// nil when code is not (a single linear-code RBM). The Autoencoder shares no memory with the
// models.
func UnrollAutoencoder(d *models.DBN, code *models.GaussianHiddenRBM) (*Autoencoder, error) {
	type rbm struct{ w, b, c *tensor.Dense }
	var stack []rbm
	if d != nil {
		if err := d.Check(); err != nil {
			return nil, errors.Wrap(err, "finetune")
		}
		if d.Gaussian != nil {
			return nil, errors.New("finetune: UnrollAutoencoder: a DBN with a Gaussian visible layer needs a linear-output decoder, which Autoencoder does not have; unroll a Bernoulli stack")
		}
		for _, m := range d.Layers {
			stack = append(stack, rbm{m.W, m.B, m.C})
		}
	}
	if code != nil {
		if err := code.Check(); err != nil {
			return nil, errors.Wrap(err, "finetune")
		}
		if d != nil && (code.NumVisible() != d.NumHidden() || !code.Dtype().Eq(d.Dtype())) {
			return nil, fmt.Errorf("finetune: code layer is %d×%d %v; the DBN's top layer has %d %v units", code.NumVisible(), code.NumHidden(), code.Dtype(), d.NumHidden(), d.Dtype())
		}
		stack = append(stack, rbm{code.W, code.B, code.C})
	}
	if len(stack) == 0 {
		return nil, errors.New("finetune: UnrollAutoencoder needs a DBN, a code layer or both")
	}
	a := &Autoencoder{LinearCode: code != nil}
	for _, r := range stack {
		a.Encoder = append(a.Encoder, Layer{W: r.w.Clone().(*tensor.Dense), C: r.c.Clone().(*tensor.Dense)})
	}
	for l := len(stack) - 1; l >= 0; l-- {
		a.Decoder = append(a.Decoder, Layer{W: transpose(stack[l].w), C: stack[l].b.Clone().(*tensor.Dense)})
	}
	return a, nil
}

// NewRandomAutoencoder returns an Autoencoder with encoder sizes sizes[0] (the data), …,
// sizes[L] (the code), L ≥ 1, mirrored by the decoder, without pretraining: every weight drawn
// from N(0, std²) with src (encoder then decoder, layer by layer, row-major) and zero biases: the
// baseline against which pretraining is compared.
func NewRandomAutoencoder(sizes []int, linearCode bool, std float64, dt tensor.Dtype, src rand.Source) (*Autoencoder, error) {
	if len(sizes) < 2 {
		return nil, fmt.Errorf("finetune: need at least two sizes (data and code), got %v", sizes)
	}
	for i, s := range sizes {
		if s < 1 {
			return nil, fmt.Errorf("finetune: layer %d has %d units; sizes must be ≥ 1 (got %v)", i, s, sizes)
		}
	}
	if !dt.Eq(tensor.Float32) && !dt.Eq(tensor.Float64) {
		return nil, fmt.Errorf("finetune: dtype %v is not supported; use tensor.Float32 or tensor.Float64", dt)
	}
	if !(std > 0) || math.IsInf(std, 0) {
		return nil, fmt.Errorf("finetune: weight standard deviation %v; want a finite value > 0", std)
	}
	if src == nil {
		return nil, errors.New("finetune: nil rand.Source for the initial weights")
	}
	rng := rand.New(src)
	a := &Autoencoder{LinearCode: linearCode}
	for l := 0; l+1 < len(sizes); l++ {
		a.Encoder = append(a.Encoder, normalLayer(sizes[l], sizes[l+1], dt, std, rng))
	}
	for l := len(sizes) - 1; l > 0; l-- {
		a.Decoder = append(a.Decoder, normalLayer(sizes[l], sizes[l-1], dt, std, rng))
	}
	return a, nil
}

// transpose returns a contiguous copy of wᵀ.
func transpose(w *tensor.Dense) *tensor.Dense {
	r, c := w.Shape()[0], w.Shape()[1]
	v := floats(w)
	t := make([]float64, len(v))
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			t[j*r+i] = v[i*c+j]
		}
	}
	return newDense(w.Dtype(), t, c, r)
}

func (a *Autoencoder) layers() []Layer {
	return append(append([]Layer(nil), a.Encoder...), a.Decoder...)
}

// Check reports whether the autoencoder has at least one encoder layer, as many decoder layers,
// shapes that chain from the data through the code back to the data's width, one float dtype and
// finite values.
func (a *Autoencoder) Check() error {
	if a == nil {
		return errors.New("finetune: nil Autoencoder")
	}
	if len(a.Encoder) == 0 || len(a.Decoder) != len(a.Encoder) {
		return fmt.Errorf("finetune: Autoencoder has %d encoder and %d decoder layers; want the same number, at least one", len(a.Encoder), len(a.Decoder))
	}
	var dt tensor.Dtype
	prev := 0
	for l, ly := range a.layers() {
		name := fmt.Sprintf("encoder layer %d", l)
		if l >= len(a.Encoder) {
			name = fmt.Sprintf("decoder layer %d", l-len(a.Encoder))
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
		} else if ws[0] != prev {
			return fmt.Errorf("finetune: %s has %d inputs but the layer below has %d outputs", name, ws[0], prev)
		}
		prev = ws[1]
		for _, t := range []*tensor.Dense{ly.W, ly.C} {
			if !t.Dtype().Eq(dt) {
				return fmt.Errorf("finetune: %s has dtype %v, the autoencoder %v", name, t.Dtype(), dt)
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
	if prev != a.NumInputs() {
		return fmt.Errorf("finetune: the decoder ends with %d outputs for %d inputs", prev, a.NumInputs())
	}
	return nil
}

// Dtype is the autoencoder's dtype.
func (a *Autoencoder) Dtype() tensor.Dtype { return a.Encoder[0].W.Dtype() }

// NumInputs is n_0, the column count of the data.
func (a *Autoencoder) NumInputs() int { return a.Encoder[0].W.Shape()[0] }

// CodeSize is n_L, the width of the code.
func (a *Autoencoder) CodeSize() int { return a.Encoder[len(a.Encoder)-1].W.Shape()[1] }

// Sizes returns the encoder's sizes n_0, …, n_L.
func (a *Autoencoder) Sizes() []int {
	s := []int{a.NumInputs()}
	for _, l := range a.Encoder {
		s = append(s, l.W.Shape()[1])
	}
	return s
}

// Clone returns a deep copy.
func (a *Autoencoder) Clone() *Autoencoder {
	c := &Autoencoder{LinearCode: a.LinearCode}
	for _, l := range a.Encoder {
		c.Encoder = append(c.Encoder, cloneLayer(l))
	}
	for _, l := range a.Decoder {
		c.Decoder = append(c.Decoder, cloneLayer(l))
	}
	return c
}

// tensors returns the parameter tensors in boundAE.params order.
func (a *Autoencoder) tensors() []*tensor.Dense {
	var out []*tensor.Dense
	for _, l := range a.layers() {
		out = append(out, l.W, l.C)
	}
	return out
}

// boundAE is an Autoencoder's parameters as nodes of one graph.
type boundAE struct {
	w, c       G.Nodes // encoder layers then decoder layers
	encoders   int
	linearCode bool
}

func (b *boundAE) params() G.Nodes {
	var p G.Nodes
	for i := range b.w {
		p = append(p, b.w[i], b.c[i])
	}
	return p
}

// bind adds the autoencoder's tensors to g as input nodes aliasing them.
func (a *Autoencoder) bind(g *G.ExprGraph) *boundAE {
	dt := a.Dtype()
	b := &boundAE{encoders: len(a.Encoder), linearCode: a.LinearCode}
	for l, ly := range a.layers() {
		in, out := ly.W.Shape()[0], ly.W.Shape()[1]
		b.w = append(b.w, G.NewMatrix(g, dt, G.WithShape(in, out), G.WithName(fmt.Sprintf("ae.W%d", l+1)), G.WithValue(ly.W)))
		b.c = append(b.c, G.NewVector(g, dt, G.WithShape(out), G.WithName(fmt.Sprintf("ae.c%d", l+1)), G.WithValue(ly.C)))
	}
	return b
}

// forward adds the pass on x (batch, n_0) and returns the code (batch, n_L) and the logits of the
// reconstruction (batch, n_0), so that x̂ = σ(logits).
func (b *boundAE) forward(x *G.Node) (code, logits *G.Node, err error) {
	h := x
	last := len(b.w) - 1
	for l := range b.w {
		a, err := ops.Affine(h, b.w[l], b.c[l])
		if err != nil {
			return nil, nil, errors.Wrapf(err, "finetune: autoencoder layer %d", l+1)
		}
		switch {
		case l == last:
			return code, a, nil
		case l == b.encoders-1 && b.linearCode:
			h = a
		default:
			if h, err = ops.Sigmoid(a); err != nil {
				return nil, nil, err
			}
		}
		if l == b.encoders-1 {
			code = h
		}
	}
	return nil, nil, errors.New("finetune: autoencoder without layers")
}

// checkAEInput verifies x: a non-empty (N, n_0) contiguous matrix of the autoencoder's dtype with
// values in [0,1] (the reconstruction is a vector of probabilities).
func (a *Autoencoder) checkInput(name string, x *tensor.Dense) error {
	if err := datasets.CheckMatrix(name, x, a.NumInputs(), a.Dtype()); err != nil {
		return errors.Wrap(err, "finetune")
	}
	n := a.NumInputs()
	for i, v := range floats(x) {
		if v < 0 || v > 1 {
			return fmt.Errorf("finetune: %s row %d column %d is %v, outside [0,1]: the autoencoder reconstructs probabilities", name, i/n, i%n, v)
		}
	}
	return nil
}

// aeEvaluator is a compiled inference graph for batches of a fixed size; it follows the
// autoencoder's tensors.
type aeEvaluator struct {
	rows       int
	xIn        *tensor.Dense
	vm         G.VM
	code, prob G.Value
}

func newAEEvaluator(a *Autoencoder, rows int) (*aeEvaluator, error) {
	g := G.NewGraph()
	b := a.bind(g)
	e := &aeEvaluator{rows: rows, xIn: tensor.New(tensor.WithShape(rows, a.NumInputs()), tensor.Of(a.Dtype()))}
	x := G.NewMatrix(g, a.Dtype(), G.WithShape(rows, a.NumInputs()), G.WithName("ae.x"), G.WithValue(e.xIn))
	code, logits, err := b.forward(x)
	if err != nil {
		return nil, err
	}
	prob, err := ops.Sigmoid(logits)
	if err != nil {
		return nil, err
	}
	e.vm = G.NewTapeMachine(g.SubgraphRoots(G.Read(code, &e.code), G.Read(prob, &e.prob)))
	return e, nil
}

// chunks runs f on x (N, n_0) in chunks of at most evalRows rows with the code and the
// reconstruction probabilities of each (valid during the call).
func (a *Autoencoder) chunks(x *tensor.Dense, f func(start, rows int, code, prob *tensor.Dense) error) error {
	total := x.Shape()[0]
	size := min(evalRows, total)
	var ev *aeEvaluator
	defer func() {
		if ev != nil {
			ev.vm.Close()
		}
	}()
	for start := 0; start < total; start += size {
		rows := min(size, total-start)
		if ev == nil || ev.rows != rows {
			if ev != nil {
				ev.vm.Close()
			}
			var err error
			if ev, err = newAEEvaluator(a, rows); err != nil {
				return err
			}
		}
		copyRange(ev.xIn, x, start)
		if err := ev.vm.RunAll(); err != nil {
			ev.vm.Reset()
			return errors.Wrap(ops.Transparent(err), "finetune: autoencoder inference")
		}
		code, ok1 := ev.code.(*tensor.Dense)
		prob, ok2 := ev.prob.(*tensor.Dense)
		if !ok1 || !ok2 {
			ev.vm.Reset()
			return errors.New("finetune: autoencoder inference produced no tensor")
		}
		err := f(start, rows, code, prob)
		ev.vm.Reset()
		if err != nil {
			return err
		}
	}
	return nil
}

func (a *Autoencoder) collect(x *tensor.Dense, code bool) (*tensor.Dense, error) {
	if err := a.Check(); err != nil {
		return nil, err
	}
	if err := a.checkInput("data", x); err != nil {
		return nil, err
	}
	width := a.NumInputs()
	if code {
		width = a.CodeSize()
	}
	out := tensor.New(tensor.WithShape(x.Shape()[0], width), tensor.Of(a.Dtype()))
	err := a.chunks(x, func(start, rows int, c, p *tensor.Dense) error {
		if code {
			copyAt(out, start*width, c)
		} else {
			copyAt(out, start*width, p)
		}
		return nil
	})
	return out, err
}

// Encode returns the code h_L (N, n_L) of every row of x (N, n_0), in the autoencoder's dtype.
func (a *Autoencoder) Encode(x *tensor.Dense) (*tensor.Dense, error) { return a.collect(x, true) }

// Reconstruct returns the reconstruction x̂ = σ(logits) (N, n_0) of every row of x (N, n_0).
func (a *Autoencoder) Reconstruct(x *tensor.Dense) (*tensor.Dense, error) {
	return a.collect(x, false)
}

// ReconstructionError is an autoencoder's reconstruction quality on a data set.
type ReconstructionError struct {
	// SquaredError is the mean over rows of Σ_i (x̂_i - x_i)², the figure Hinton & Salakhutdinov
	// (2006) report ("average squared error per image"); PerPixel divides it by n_0.
	SquaredError float64 `json:"squared_error"`
	PerPixel     float64 `json:"squared_error_per_pixel"`
	// CrossEntropy is the mean over rows of -Σ_i [x_i log x̂_i + (1-x_i) log(1-x̂_i)], nats, computed
	// in float64 from x̂ clipped to [1e-12, 1-1e-12].
	CrossEntropy float64 `json:"cross_entropy"`
	Rows         int     `json:"rows"`
}

// Evaluate returns the reconstruction error of the autoencoder on x (N, n_0).
func (a *Autoencoder) Evaluate(x *tensor.Dense) (ReconstructionError, error) {
	if err := a.Check(); err != nil {
		return ReconstructionError{}, err
	}
	if err := a.checkInput("data", x); err != nil {
		return ReconstructionError{}, err
	}
	n := a.NumInputs()
	xs := floats(x)
	var sq, ce float64
	err := a.chunks(x, func(start, rows int, _, p *tensor.Dense) error {
		pv := floats(p)
		for k, q := range pv {
			v := xs[start*n+k]
			d := q - v
			sq += d * d
			q = min(max(q, 1e-12), 1-1e-12)
			ce -= v*math.Log(q) + (1-v)*math.Log1p(-q)
		}
		return nil
	})
	rows := x.Shape()[0]
	return ReconstructionError{SquaredError: sq / float64(rows), PerPixel: sq / float64(rows*n), CrossEntropy: ce / float64(rows), Rows: rows}, err
}
