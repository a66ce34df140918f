package ops_test

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/ops"
)

// The fused ops of an RBM's hidden layer: logits c + vW (the zeros of v are skipped), the
// free-energy term Σ_j softplus, and a sample h ~ Bernoulli(σ(c + vW)) that draws exactly what
// Bernoulli(Sigmoid(...)) draws from the same seed.
func ExampleAffine() {
	g := G.NewGraph()
	v := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 3), G.WithName("v"),
		G.WithValue(tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 0, 1, 0, 0, 0}))))
	w := G.NewMatrix(g, tensor.Float64, G.WithShape(3, 2), G.WithName("W"),
		G.WithValue(tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float64{1, -1, 0.5, 0.5, -1, 2}))))
	c := G.NewVector(g, tensor.Float64, G.WithShape(2), G.WithName("c"),
		G.WithValue(tensor.New(tensor.WithBacking([]float64{0, -0.5}))))
	a := G.Must(ops.Affine(v, w, c))
	sp := G.Must(ops.SoftplusSum(a))
	fused := G.Must(ops.SigmoidBernoulli(a, rand.NewPCG(1, 2)))
	plain := G.Must(ops.Bernoulli(G.Must(ops.Sigmoid(a)), rand.NewPCG(1, 2)))
	var av, spv, fv, pv G.Value
	G.Read(a, &av)
	G.Read(sp, &spv)
	G.Read(fused, &fv)
	G.Read(plain, &pv)
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		panic(err)
	}
	fmt.Println("c + vW:", av.Data())
	fmt.Printf("Σ softplus: %.6f\n", spv.Data())
	fmt.Println("samples equal:", fmt.Sprint(fv.Data()) == fmt.Sprint(pv.Data()))
	// Output:
	// c + vW: [0 0.5 0 -0.5]
	// Σ softplus: [1.667224 1.167224]
	// samples equal: true
}
