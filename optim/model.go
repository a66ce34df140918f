package optim

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/graph"
)

// Model is what the trainer needs from an energy-based model over visible vectors: a dtype, the
// number of visible units, and a way to put its parameters into a Gorgonia graph.
//
// A researcher's new energy implements Model (and graph.EnergyModel, returned by Bind); Train accepts
// it unchanged. See the package example for a complete one.
type Model interface {
	// Dtype is tensor.Float32 or tensor.Float64; data fed to the model must have this dtype.
	Dtype() tensor.Dtype
	// NumVisible is the number of visible units, the column count of every data batch.
	NumVisible() int
	// Bind adds the model's parameters to g as input nodes whose values alias the model's own
	// tensors (gorgonia WithValue on the same *tensor.Dense), so changes the trainer makes to the
	// node values are changes to the model. Every parameter needs a name unique in g.
	Bind(g *G.ExprGraph) (graph.EnergyModel, error)
}

// DataChecker is implemented by models whose visible units restrict the values data may take
// (for example Bernoulli units need values in [0,1]). Train calls it on the training and
// validation data before anything else.
type DataChecker interface {
	CheckData(x *tensor.Dense) error
}
