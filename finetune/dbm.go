package finetune

import (
	"fmt"
	"math/rand/v2"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/models"
)

// FromDBM turns a DBM into a Network as in Salakhutdinov & Hinton (2009), "Deep Boltzmann
// machines", §5 and Fig. 3: the network's input is [v, q(h2 | v)] (DBMInput: the visible vector
// followed by the mean-field marginals of the second hidden layer), its first sigmoid layer has
// weights [W_0; W_1ᵀ] ((n_0 + n_2), n_1) and biases b_1, so it computes σ(b_1 + vW_0 + q(h2)W_1ᵀ),
// exactly the mean-field update of h1; the remaining layers copy W_l and b_{l+1} (l = 1..L-1). A
// softmax layer of the given number of classes (≥ 2) is added on top with weights from N(0,
// OutputStd²) drawn from src and zero biases. For the default 2-layer DBM the fresh network's top
// hidden layer on [v, μ2] is then σ(b_2 + μ1W_1) = μ2 at a mean-field fixed point. A one-layer
// DBM becomes a one-layer network on v (an RBM's up-pass). The Network shares no memory with d.
func FromDBM(d *models.DBM, classes int, src rand.Source) (*Network, error) {
	if d == nil {
		return nil, errors.New("finetune: nil DBM")
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
	sizes := d.Sizes()
	dt := d.Dtype()
	L := d.NumLayers()
	first := d.W[0].Clone().(*tensor.Dense)
	if L >= 2 {
		// [W_0; W_1ᵀ]: rows of W_0, then the rows of W_1ᵀ (columns of W_1).
		n0, n1, n2 := sizes[0], sizes[1], sizes[2]
		first = tensor.New(tensor.WithShape(n0+n2, n1), tensor.Of(dt))
		w0, w1 := valuesOf(d.W[0]), valuesOf(d.W[1])
		out := make([]float64, (n0+n2)*n1)
		copy(out, w0)
		for k := 0; k < n2; k++ {
			for j := 0; j < n1; j++ {
				out[(n0+k)*n1+j] = w1[j*n2+k]
			}
		}
		storeValues(first, out)
	}
	n.Hidden = append(n.Hidden, Layer{W: first, C: d.B[1].Clone().(*tensor.Dense)})
	for l := 1; l < L; l++ {
		n.Hidden = append(n.Hidden, Layer{W: d.W[l].Clone().(*tensor.Dense), C: d.B[l+1].Clone().(*tensor.Dense)})
	}
	n.Output = normalLayer(sizes[L], classes, dt, OutputStd, rand.New(src))
	return n, nil
}

// DBMInput returns the input of a network made by FromDBM for the rows of v (N, n_0): [v, μ2]
// (N, n_0 + n_2), μ2 the mean-field marginals of the DBM's second hidden layer for v (DBM.MeanField
// with s), in the DBM's dtype; for a one-layer DBM, a copy of v. The paper computes these
// marginals once, before fine-tuning, and keeps them fixed.
func DBMInput(d *models.DBM, v *tensor.Dense, s models.MeanFieldSettings) (*tensor.Dense, error) {
	if d == nil {
		return nil, errors.New("finetune: nil DBM")
	}
	if d.NumLayers() < 2 {
		if err := d.CheckData(v); err != nil {
			return nil, err
		}
		return v.Clone().(*tensor.Dense), nil
	}
	mu, _, err := d.MeanField(v, s)
	if err != nil {
		return nil, errors.Wrap(err, "finetune: mean-field inputs")
	}
	rows, n0, n2 := v.Shape()[0], v.Shape()[1], mu[1].Shape()[1]
	vs, ms := valuesOf(v), valuesOf(mu[1])
	out := make([]float64, rows*(n0+n2))
	for r := 0; r < rows; r++ {
		copy(out[r*(n0+n2):], vs[r*n0:(r+1)*n0])
		copy(out[r*(n0+n2)+n0:], ms[r*n2:(r+1)*n2])
	}
	t := tensor.New(tensor.WithShape(rows, n0+n2), tensor.Of(d.Dtype()))
	storeValues(t, out)
	return t, nil
}

func valuesOf(t *tensor.Dense) []float64 {
	switch d := t.Data().(type) {
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

func storeValues(t *tensor.Dense, v []float64) {
	switch d := t.Data().(type) {
	case []float64:
		copy(d, v)
	case []float32:
		for i := range d {
			d[i] = float32(v[i])
		}
	}
}
