package pretrain

import (
	"context"
	"fmt"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/graph"
	"github.com/ebm-go/ebm/models"
)

// Copies returns the visible and hidden replication of the RBM that pretrains layer l (between
// x_l and x_{l+1}) of a DBM with L hidden layers (Salakhutdinov & Hinton 2009, §3.1): the
// bottom-up input is doubled (up = 2) when x_{l+1} will also receive top-down input in the DBM
// (l+1 < L), the top-down input is doubled (down = 2) when x_l will also receive bottom-up input
// (l > 0). So the first RBM has (2, 1), the last (1, 2), the ones between (2, 2), and a one-layer
// DBM is a plain RBM (1, 1).
func Copies(l, L int) (up, down int) {
	up, down = 1, 1
	if l+1 < L {
		up = 2
	}
	if l > 0 {
		down = 2
	}
	return up, down
}

// TrainDBM pretrains a DBM greedily (Salakhutdinov & Hinton 2009, "Deep Boltzmann machines",
// §3.1): layer l's weights W[l] are trained in place with optim.Train as a graph.ReplicatedRBM with
// the copies given by Copies(l, L) — for the default two-layer DBM, the first RBM with doubled
// bottom-up weights, p(h1 | v) = σ(c + 2vW), and the second with doubled top-down weights, p(h1 |
// h2) = σ(b + 2h2W2ᵀ) — on the input: the data for layer 0, then the replicated RBM's bottom-up
// probabilities σ(c + up·xW) of the layer below (sampled with Layer.SampleInput). The doubled
// bottom-up pass is used here and in the recognition initialisation of mean-field only, never in
// the DBM's mean-field updates or Gibbs sampling.
//
// The biases: B[0] gets the first RBM's visible biases, B[L] the last RBM's hidden biases, and a
// hidden layer in between the mean of the hidden biases of the RBM below and the visible biases of
// the RBM above (each was learned for half of the layer's input). Layer settings, errors and
// records are as for Train (one Layer per DBM weight matrix; Validation is passed up the stack
// with the same doubled pass; InitVisibleBiases applies to each RBM's visible biases).
func TrainDBM(ctx context.Context, d *models.DBM, data *tensor.Dense, s Settings) ([]LayerRecord, error) {
	if d == nil {
		return nil, errors.New("pretrain: nil DBM")
	}
	if err := d.Check(); err != nil {
		return nil, errors.Wrap(err, "pretrain")
	}
	L := d.NumLayers()
	if len(s.Layers) != L {
		return nil, fmt.Errorf("pretrain: %d layer settings for a DBM of %d layers (sizes %v); give exactly one per weight matrix", len(s.Layers), L, d.Sizes())
	}
	if err := d.CheckData(data); err != nil {
		return nil, errors.Wrap(err, "pretrain: training data")
	}
	if s.Validation != nil {
		if err := d.CheckData(s.Validation); err != nil {
			return nil, errors.Wrap(err, "pretrain: validation data")
		}
	}
	sizes := d.Sizes()
	if err := checkLayers(s, layerName, func(l int) int { return sizes[l] }, d.Dtype()); err != nil {
		return nil, err
	}
	rbms := make([]*models.RBM, L)
	for l := range rbms {
		var err error
		rbms[l], err = models.NewRBMFromParams(d.W[l], d.B[l].Clone().(*tensor.Dense), d.B[l+1].Clone().(*tensor.Dense))
		if err != nil {
			return nil, errors.Wrapf(err, "pretrain: layer %d", l)
		}
	}
	records, err := trainLayers(ctx, data, s, func(l int) layerJob {
		m := rbms[l]
		up, down := Copies(l, L)
		j := layerJob{model: &replicated{m: m, up: up, down: down}, init: m, visible: m.NumVisible(), hidden: m.NumHidden(),
			estimator: fmt.Sprintf("%v (up ×%d, down ×%d)", s.Layers[l].Estimator, up, down)}
		if l+1 < L {
			j.up = func(x *tensor.Dense) (*tensor.Dense, error) { return upPass(m, up, x) }
		}
		return j
	})
	if err != nil {
		return records, err
	}
	// Compose the biases.
	setBias(d.B[0], floatsOf(rbms[0].B))
	setBias(d.B[L], floatsOf(rbms[L-1].C))
	for l := 1; l < L; l++ {
		c, b := floatsOf(rbms[l-1].C), floatsOf(rbms[l].B)
		mean := make([]float64, len(c))
		for i := range c {
			mean[i] = (c[i] + b[i]) / 2
		}
		setBias(d.B[l], mean)
	}
	return records, nil
}

// upPass returns σ(c + up·xW) for the RBM m.
func upPass(m *models.RBM, up int, x *tensor.Dense) (*tensor.Dense, error) {
	w := m.W
	if up != 1 {
		w = m.W.Clone().(*tensor.Dense)
		if _, err := w.MulScalar(scalarOf(w.Dtype(), float64(up)), true, tensor.UseUnsafe()); err != nil {
			return nil, err
		}
	}
	s, err := models.NewRBMFromParams(w, m.B, m.C)
	if err != nil {
		return nil, err
	}
	return s.HiddenProbs(x)
}

func scalarOf(dt tensor.Dtype, v float64) any {
	if dt.Eq(tensor.Float32) {
		return float32(v)
	}
	return v
}

func floatsOf(t *tensor.Dense) []float64 {
	switch d := t.Data().(type) {
	case []float64:
		return append([]float64(nil), d...)
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	}
	return nil
}

func setBias(t *tensor.Dense, v []float64) {
	switch d := t.Data().(type) {
	case []float64:
		copy(d, v)
	case []float32:
		for i := range d {
			d[i] = float32(v[i])
		}
	}
}

// replicated is an RBM trained as a graph.ReplicatedRBM: an optim.Model.
type replicated struct {
	m        *models.RBM
	up, down int
}

func (r *replicated) Dtype() tensor.Dtype             { return r.m.Dtype() }
func (r *replicated) NumVisible() int                 { return r.m.NumVisible() }
func (r *replicated) CheckData(x *tensor.Dense) error { return r.m.CheckData(x) }

func (r *replicated) Bind(g *G.ExprGraph) (graph.EnergyModel, error) {
	e, err := r.m.Bind(g)
	if err != nil {
		return nil, err
	}
	b, ok := e.(*models.BoundRBM)
	if !ok {
		return nil, fmt.Errorf("pretrain: RBM bound as %T", e)
	}
	return &boundReplicated{ReplicatedRBM: graph.ReplicatedRBM{RBM: b.RBM, Up: r.up, Down: r.down}, params: b.Params()}, nil
}

type boundReplicated struct {
	graph.ReplicatedRBM
	params G.Nodes
}

func (b *boundReplicated) Params() G.Nodes { return b.params }
