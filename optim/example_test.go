package optim_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/graph"
	"github.com/ebm-go/ebm/ops"
	"github.com/ebm-go/ebm/optim"
)

// BinomialRBM is a new energy written by a "researcher": an RBM whose hidden units are binomial
// with N trials (N copies of each hidden unit sharing weights; Teh & Hinton 2001). Summing the
// hidden units out gives the free energy F(v) = -bᵀv - N·Σ_j softplus(c_j + (vW)_j).
type BinomialRBM struct {
	N       int
	W, B, C *tensor.Dense // (nv, nh), (nv), (nh)
}

func (m *BinomialRBM) Dtype() tensor.Dtype { return m.W.Dtype() }
func (m *BinomialRBM) NumVisible() int     { return m.W.Shape()[0] }

// Bind puts the parameters into g, aliasing the model's tensors.
func (m *BinomialRBM) Bind(g *G.ExprGraph) (graph.EnergyModel, error) {
	p := graph.RBM{
		W: G.NewMatrix(g, m.Dtype(), G.WithShape(m.W.Shape()...), G.WithName("binom.W"), G.WithValue(m.W)),
		B: G.NewVector(g, m.Dtype(), G.WithShape(m.B.Shape()...), G.WithName("binom.b"), G.WithValue(m.B)),
		C: G.NewVector(g, m.Dtype(), G.WithShape(m.C.Shape()...), G.WithName("binom.c"), G.WithValue(m.C)),
	}
	return binomialEnergy{p, m.N}, nil
}

type binomialEnergy struct {
	graph.RBM
	n int
}

func (e binomialEnergy) Params() G.Nodes { return G.Nodes{e.W, e.B, e.C} }

// FreeEnergy: -bᵀv - N·Σ_j softplus(c + vW)_j, shape (batch).
func (e binomialEnergy) FreeEnergy(v *G.Node) (*G.Node, error) {
	a, err := graph.HiddenLogits(e.RBM, v)
	if err != nil {
		return nil, err
	}
	sp := G.Must(ops.Softplus(a))
	hidden := G.Must(graph.Scale(G.Must(G.Sum(sp, 1)), float64(e.n)))
	return G.Neg(G.Must(G.Add(G.Must(G.Mul(v, e.B)), hidden)))
}

// GibbsStep: h = sum of N Bernoulli draws from p(h|v), then v' ~ σ(b + hWᵀ).
func (e binomialEnergy) GibbsStep(v *G.Node, src rand.Source) (*G.Node, error) {
	ph, err := graph.HiddenProbs(e.RBM, v)
	if err != nil {
		return nil, err
	}
	h := G.Must(ops.Bernoulli(ph, src))
	for i := 1; i < e.n; i++ {
		h = G.Must(G.Add(h, G.Must(ops.Bernoulli(ph, src))))
	}
	pv, err := graph.VisibleProbs(e.RBM, h)
	if err != nil {
		return nil, err
	}
	return ops.Bernoulli(pv, src)
}

// A new energy function, written as a graph, trained by the same code that trains RBMs.
func Example_newEnergy() {
	// Data: 3×3 bars and stripes (14 binary images, 9 pixels each).
	pats := barsAndStripes()
	data := tensor.New(tensor.WithShape(len(pats), 9), tensor.Of(tensor.Float64))
	for i, p := range pats {
		copy(data.Data().([]float64)[9*i:], p)
	}
	init := rand.New(rand.NewPCG(1, 1))
	w := make([]float64, 9*8)
	for i := range w {
		w[i] = 0.01 * init.NormFloat64()
	}
	m := &BinomialRBM{
		N: 2,
		W: tensor.New(tensor.WithShape(9, 8), tensor.WithBacking(w)),
		B: tensor.New(tensor.WithShape(9), tensor.Of(tensor.Float64)),
		C: tensor.New(tensor.WithShape(8), tensor.Of(tensor.Float64)),
	}
	records, err := optim.Train(context.Background(), m, data, optim.Settings{
		Estimator:    optim.CD{K: 1},
		Epochs:       200,
		BatchSize:    7,
		LearningRate: optim.Constant(0.05),
		Momentum:     optim.HintonMomentum(),
		Shuffle:      rand.NewPCG(2, 2),
		Chains:       rand.NewPCG(3, 3),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	first, last := records[0].Train, records[len(records)-1].Train
	fmt.Println("epochs:", len(records))
	fmt.Println("pseudo-likelihood rose:", last.PseudoLikelihood > first.PseudoLikelihood+1)
	// Output:
	// epochs: 200
	// pseudo-likelihood rose: true
}
