package models

import (
	"fmt"
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/graph"
	"github.com/ebm-go/ebm/ops"
)

// DBN is a deep belief network (Hinton, Osindero & Teh 2006, "A fast learning algorithm for deep
// belief nets", Neural Computation 18): a stack of Bernoulli–Bernoulli RBMs, bottom first, where
// the hidden layer of Layers[l] is the visible layer of Layers[l+1]. Sizes n_0 (the data), n_1, …,
// n_L give Layers[l] the shape W (n_l, n_{l+1}).
//
// As a generative model the top RBM, Layers[L-1], is an undirected associative memory over
// (h_{L-1}, h_L) and every lower layer is a directed sigmoid belief net p(h_{l-1} = 1 | h_l) =
// σ(b_l + W_l h_l) using that RBM's weights and visible biases. As a recogniser the up-pass
// p(h_l = 1 | h_{l-1}) = σ(c_l + h_{l-1} W_l) uses the weights and hidden biases.
//
// The layers are the DBN's own values: pretraining (package pretrain) trains them in place;
// fine-tuning (package finetune) copies them. All layers have one dtype, Float32 or Float64.
//
// For real-valued data the bottom layer can be a Gaussian–Bernoulli RBM (Hinton & Salakhutdinov
// 2006, "Reducing the dimensionality of data with neural networks", Science 313): when Gaussian is
// not nil it is layer 0, from the n_0 real-valued visible units to n_1 binary hidden units, and
// Layers[l] is layer l+1 (W (n_{l+1}, n_{l+2})). Its recognition pass is p(h_1 = 1 | v) =
// σ(c + (v/σ)W) and its generative pass ends in the Gaussian mean E[v | h_1] = b + σ⊙(h_1 Wᵀ).
// Such a DBN needs at least one Bernoulli layer above the Gaussian one (a lone GaussianRBM is
// not a stack); NewGaussianDBN builds one.
type DBN struct {
	// Gaussian is the optional Gaussian–Bernoulli bottom layer (nil for a Bernoulli DBN).
	Gaussian *GaussianRBM
	// Layers are the Bernoulli–Bernoulli RBMs, bottom first (above Gaussian when it is set).
	Layers []*RBM
}

// NewDBN returns a DBN with layer sizes sizes[0] (visible units) to sizes[len-1] (top hidden
// units), at least two sizes, each ≥ 1. Layer l is NewRBM(sizes[l], sizes[l+1], dt, src): weights
// from N(0, WeightStd²), drawn from src layer after layer in row-major order; zero biases.
func NewDBN(sizes []int, dt tensor.Dtype, src rand.Source) (*DBN, error) {
	if len(sizes) < 2 {
		return nil, fmt.Errorf("models: a DBN needs at least two layer sizes (visible and one hidden), got %v", sizes)
	}
	if err := checkStack(sizes, dt, src); err != nil {
		return nil, err
	}
	d := &DBN{}
	for l := 0; l+1 < len(sizes); l++ {
		m, err := NewRBM(sizes[l], sizes[l+1], dt, src)
		if err != nil {
			return nil, err
		}
		d.Layers = append(d.Layers, m)
	}
	return d, nil
}

// checkStack validates the layer sizes (each ≥ 1), dtype and Source of a new DBN before any
// weight is drawn.
func checkStack(sizes []int, dt tensor.Dtype, src rand.Source) error {
	for i, n := range sizes {
		if n < 1 {
			return fmt.Errorf("models: DBN layer %d has %d units; sizes must be ≥ 1 (got %v)", i, n, sizes)
		}
	}
	if err := checkDtype(dt); err != nil {
		return err
	}
	if src == nil {
		return errors.New("models: nil rand.Source for the initial weights")
	}
	return nil
}

// NewGaussianDBN returns a DBN for real-valued data whose bottom layer is a Gaussian–Bernoulli
// RBM NewGaussianRBM(sizes[0], sizes[1], dt, src) (σ = 1, fixed: standardise the data) and whose
// layers above are NewRBM(sizes[l], sizes[l+1], dt, src), l ≥ 1. It needs at least three sizes
// (for two, use a GaussianRBM), each ≥ 1. Weights come from src layer after layer, row-major.
func NewGaussianDBN(sizes []int, dt tensor.Dtype, src rand.Source) (*DBN, error) {
	if len(sizes) < 3 {
		return nil, fmt.Errorf("models: a Gaussian DBN needs at least three layer sizes (visible, the Gaussian layer's hidden units, one Bernoulli layer above), got %v; for a single layer use NewGaussianRBM", sizes)
	}
	if err := checkStack(sizes, dt, src); err != nil {
		return nil, err
	}
	g, err := NewGaussianRBM(sizes[0], sizes[1], dt, src)
	if err != nil {
		return nil, err
	}
	up, err := NewDBN(sizes[1:], dt, src)
	if err != nil {
		return nil, err
	}
	return &DBN{Gaussian: g, Layers: up.Layers}, nil
}

// NewDBNFromLayers stacks existing RBMs (not copied), bottom first, after checking that each
// layer's hidden count equals the next layer's visible count and that all share one dtype.
func NewDBNFromLayers(layers []*RBM) (*DBN, error) {
	d := &DBN{Layers: append([]*RBM(nil), layers...)}
	if err := d.Check(); err != nil {
		return nil, err
	}
	return d, nil
}

// Check reports whether the DBN has at least one layer (at least one Bernoulli layer above a
// Gaussian bottom), every layer passes RBM.Check (GaussianRBM.Check for the Gaussian layer), the
// layer sizes chain (hidden units of layer l = visible units of layer l+1) and all layers share a
// dtype. Layers are numbered from 0 at the bottom, the Gaussian layer included.
func (d *DBN) Check() error {
	if d == nil || (len(d.Layers) == 0 && d.Gaussian == nil) {
		return errors.New("models: DBN has no layers")
	}
	off := 0
	if d.Gaussian != nil {
		off = 1
		if err := d.Gaussian.Check(); err != nil {
			return errors.Wrap(err, "models: DBN layer 0 (Gaussian)")
		}
		if len(d.Layers) == 0 {
			return errors.New("models: DBN has a Gaussian bottom layer but no Bernoulli layer above it; use a GaussianRBM for a single layer")
		}
	}
	for l, m := range d.Layers {
		if m == nil {
			return fmt.Errorf("models: DBN layer %d is nil", l+off)
		}
		if err := m.Check(); err != nil {
			return errors.Wrapf(err, "models: DBN layer %d", l+off)
		}
		var prevHidden int
		var prevDtype tensor.Dtype
		switch {
		case l > 0:
			prevHidden, prevDtype = d.Layers[l-1].NumHidden(), d.Layers[l-1].Dtype()
		case d.Gaussian != nil:
			prevHidden, prevDtype = d.Gaussian.NumHidden(), d.Gaussian.Dtype()
		default:
			continue
		}
		if prevHidden != m.NumVisible() {
			return fmt.Errorf("models: DBN layer %d has %d hidden units but layer %d has %d visible units", l+off-1, prevHidden, l+off, m.NumVisible())
		}
		if !prevDtype.Eq(m.Dtype()) {
			return fmt.Errorf("models: DBN layer %d has dtype %v but layer %d has %v", l+off-1, prevDtype, l+off, m.Dtype())
		}
	}
	return nil
}

// NumLayers is the number of RBMs, L, the Gaussian bottom layer included.
func (d *DBN) NumLayers() int {
	if d.Gaussian != nil {
		return len(d.Layers) + 1
	}
	return len(d.Layers)
}

// Dtype is the layers' dtype.
func (d *DBN) Dtype() tensor.Dtype { return d.Layers[0].Dtype() }

// NumVisible is the number of visible units n_0 (real-valued for a Gaussian bottom layer).
func (d *DBN) NumVisible() int {
	if d.Gaussian != nil {
		return d.Gaussian.NumVisible()
	}
	return d.Layers[0].NumVisible()
}

// NumHidden is the number of units in the top hidden layer n_L.
func (d *DBN) NumHidden() int { return d.Top().NumHidden() }

// Top is the top RBM, the last of Layers: the undirected associative memory.
func (d *DBN) Top() *RBM { return d.Layers[len(d.Layers)-1] }

// Sizes returns the layer sizes n_0, …, n_L.
func (d *DBN) Sizes() []int {
	s := []int{d.NumVisible()}
	if d.Gaussian != nil {
		s = append(s, d.Gaussian.NumHidden())
	}
	for _, m := range d.Layers {
		s = append(s, m.NumHidden())
	}
	return s
}

// CheckData verifies that x is a non-empty (N, n_0) matrix of the DBN's dtype with values in
// [0,1] (the bottom layer's Bernoulli visible units; see RBM.CheckData), or with any finite real
// values when the bottom layer is Gaussian (GaussianRBM.CheckData).
func (d *DBN) CheckData(x *tensor.Dense) error {
	if err := d.Check(); err != nil {
		return err
	}
	if d.Gaussian != nil {
		return d.Gaussian.CheckData(x)
	}
	return d.Layers[0].CheckData(x)
}

// Clone returns a deep copy: new tensors with the same values.
func (d *DBN) Clone() (*DBN, error) {
	if err := d.Check(); err != nil {
		return nil, err
	}
	out := &DBN{}
	if g := d.Gaussian; g != nil {
		out.Gaussian = &GaussianRBM{
			W: g.W.Clone().(*tensor.Dense), B: g.B.Clone().(*tensor.Dense), C: g.C.Clone().(*tensor.Dense),
			LogSigma: g.LogSigma.Clone().(*tensor.Dense), LearnSigma: g.LearnSigma, name: uniqueName("grbm"),
		}
		if s := g.Standardizer; s != nil {
			out.Gaussian.Standardizer = &datasets.Standardizer{Mean: append([]float64(nil), s.Mean...), Std: append([]float64(nil), s.Std...)}
		}
	}
	for _, m := range d.Layers {
		c, err := NewRBMFromParams(m.W.Clone().(*tensor.Dense), m.B.Clone().(*tensor.Dense), m.C.Clone().(*tensor.Dense))
		if err != nil {
			return nil, err
		}
		out.Layers = append(out.Layers, c)
	}
	return out, nil
}

// UpPass returns the recognition (bottom-up) pass of v (N, n_0): L tensors, the l-th of shape
// (N, n_{l+1}) holding p(h_{l+1} = 1 | h_l) = σ(c_{l+1} + h_l W_{l+1}) with h_0 = v and each h_l
// the previous layer's probabilities (mean-field, no sampling). Each layer is computed exactly as
// RBM.HiddenProbs computes it, the Gaussian bottom layer as GaussianRBM.HiddenProbs does,
// σ(c_1 + (v/σ)W_1). v must have values in [0,1], or be finite reals for a Gaussian bottom.
func (d *DBN) UpPass(v *tensor.Dense) ([]*tensor.Dense, error) {
	if err := d.CheckData(v); err != nil {
		return nil, err
	}
	return d.up(v, d.NumLayers())
}

// up passes x (already checked) through the bottom n layers and returns their probabilities.
func (d *DBN) up(x *tensor.Dense, n int) ([]*tensor.Dense, error) {
	var out []*tensor.Dense
	for l := 0; l < n; l++ {
		var h *tensor.Dense
		var err error
		switch {
		case d.Gaussian == nil:
			h, err = d.Layers[l].HiddenProbs(x)
		case l == 0:
			h, err = d.Gaussian.HiddenProbs(x)
		default:
			h, err = d.Layers[l-1].HiddenProbs(x)
		}
		if err != nil {
			return nil, errors.Wrapf(err, "models: DBN up-pass, layer %d", l)
		}
		out = append(out, h)
		x = h
	}
	return out, nil
}

// Features returns the top layer of the up-pass, p(h_L = 1 | h_{L-1}) (N, n_L): the features a DBN
// extracts from v (N, n_0).
func (d *DBN) Features(v *tensor.Dense) (*tensor.Dense, error) {
	up, err := d.UpPass(v)
	if err != nil {
		return nil, err
	}
	return up[len(up)-1], nil
}

// DownPass runs the directed generative layers from states x (N, n_{L-1}) of the top RBM's visible
// layer down to the data: for l = L-1, …, 1 it computes p(h_{l-1} = 1 | h_l) = σ(b_l + h_l W_lᵀ)
// with layer l-1's weights and visible biases and samples h_{l-1} from it (drawing from src),
// except at the bottom, where it returns the probabilities p(v = 1 | h_1) (N, n_0). With a
// Gaussian bottom layer the bottom step returns instead the Gaussian mean E[v | h_1] = b + σ⊙(h_1
// W_1ᵀ) (N, n_0), real-valued. With a single Bernoulli layer there is nothing to pass down and
// DownPass returns a copy of x.
func (d *DBN) DownPass(x *tensor.Dense, src rand.Source) (*tensor.Dense, error) {
	if err := d.Check(); err != nil {
		return nil, err
	}
	top := d.Top()
	if err := datasets.CheckMatrix("top-layer states", x, top.NumVisible(), d.Dtype()); err != nil {
		return nil, errors.Wrap(err, "models: DBN down-pass")
	}
	if len(d.Layers) == 1 && d.Gaussian == nil {
		return x.Clone().(*tensor.Dense), nil
	}
	if src == nil {
		return nil, errors.New("models: nil rand.Source for the DBN down-pass")
	}
	return d.evalChunks(x, func(g *G.ExprGraph, v *G.Node) (*G.Node, error) {
		for l := len(d.Layers) - 2; l >= 0; l-- {
			b, err := d.Layers[l].bind(g)
			if err != nil {
				return nil, err
			}
			p, err := graph.VisibleProbs(b.RBM, v)
			if err != nil || (l == 0 && d.Gaussian == nil) {
				return p, err
			}
			if v, err = ops.Bernoulli(p, src); err != nil {
				return nil, err
			}
		}
		b, err := d.Gaussian.bind(g)
		if err != nil {
			return nil, err
		}
		return b.VisibleMean(v)
	})
}

// sampleChunk bounds the Gibbs steps unrolled into one graph by Generate.
const sampleChunk = 50

// Generate draws from the DBN's generative model: k ≥ 1 steps of block Gibbs sampling in the top
// RBM starting from its visible states x0 (N, n_{L-1}) (binary, e.g. Top().RandomVisible), then
// DownPass. The result (N, n_0) holds p(v = 1 | h_1) (the Gaussian mean E[v | h_1] for a Gaussian
// bottom layer), or the top RBM's visible samples for a one-layer DBN. Every draw comes from src; long chains run in graphs of at most 50 steps.
func (d *DBN) Generate(x0 *tensor.Dense, k int, src rand.Source) (*tensor.Dense, error) {
	if err := d.Check(); err != nil {
		return nil, err
	}
	if k < 1 {
		return nil, errors.Errorf("models: Gibbs steps k = %d; want ≥ 1", k)
	}
	x := x0
	for done := 0; done < k; {
		steps := min(sampleChunk, k-done)
		var err error
		if x, err = d.Top().Sample(x, steps, src); err != nil {
			return nil, errors.Wrap(err, "models: DBN top-level Gibbs sampling")
		}
		done += steps
	}
	return d.DownPass(x, src)
}

// Sample is Generate with the top RBM's chains started from data: v0 (N, n_0) is passed up with
// probabilities to layer L-1, whose probabilities are then sampled (one src.Float64 per entry,
// row-major) to give the chains' binary starting states. Starting near the data shows what the
// network has learned about it after k steps; k large forgets the start.
func (d *DBN) Sample(v0 *tensor.Dense, k int, src rand.Source) (*tensor.Dense, error) {
	if err := d.CheckData(v0); err != nil {
		return nil, err
	}
	if k < 1 {
		return nil, errors.Errorf("models: Gibbs steps k = %d; want ≥ 1", k)
	}
	if src == nil {
		return nil, errors.New("models: nil rand.Source for DBN sampling")
	}
	x := v0
	if up, err := d.up(v0, d.NumLayers()-1); err != nil {
		return nil, err
	} else if len(up) > 0 {
		x = up[len(up)-1]
	}
	x, err := datasets.Binarize(x, src)
	if err != nil {
		return nil, errors.Wrap(err, "models: DBN sampling")
	}
	return d.Generate(x, k, src)
}

// evalChunks evaluates build on x (N, n) in chunks of at most inferRows rows, each with a freshly
// compiled graph, and returns the output rows stacked (N, …) in a new tensor of the DBN's dtype.
func (d *DBN) evalChunks(x *tensor.Dense, build func(g *G.ExprGraph, v *G.Node) (*G.Node, error)) (*tensor.Dense, error) {
	n, cols := x.Shape()[0], x.Shape()[1]
	dt := d.Dtype()
	var out *tensor.Dense
	var outRow int
	for start := 0; start < n; start += inferRows {
		rows := min(inferRows, n-start)
		g := G.NewGraph()
		v := G.NewMatrix(g, dt, G.WithShape(rows, cols), G.WithName("dbn.input"), G.WithValue(sliceRows(x, start, rows)))
		y, err := build(g, v)
		if err != nil {
			return nil, err
		}
		var val G.Value
		G.Read(y, &val)
		vm := G.NewTapeMachine(g)
		err = vm.RunAll()
		vm.Close()
		if err != nil {
			return nil, errors.Wrap(ops.Transparent(err), "models: DBN inference")
		}
		t, ok := val.(*tensor.Dense)
		if !ok {
			return nil, errors.New("models: DBN inference produced no tensor")
		}
		if out == nil {
			shape := t.Shape().Clone()
			outRow = t.Shape().TotalSize() / rows
			shape[0] = n
			out = tensor.New(tensor.WithShape(shape...), tensor.Of(dt))
		}
		copyInto(out, start*outRow, t)
	}
	return out, nil
}
