package ops_test

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/ebm-go/ebm/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Softplus is exact where Gorgonia's returns x (for x > 16), and sampling is seeded.
func Example() {
	for _, x := range []float64{-200, 0, 16.5, 200} {
		fmt.Printf("softplus(%g) = %.14g\n", x, ops.Softplus64(x))
	}

	g := G.NewGraph()
	p := G.NewVector(g, tensor.Float64, G.WithShape(8), G.WithName("p"),
		G.WithValue(tensor.New(tensor.WithBacking([]float64{0, 0.1, 0.3, 0.5, 0.5, 0.7, 0.9, 1}))))
	h, err := ops.Bernoulli(p, rand.NewPCG(1, 2))
	if err != nil {
		panic(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	for range 2 { // each run draws afresh; the same seed gives the same two samples
		if err := vm.RunAll(); err != nil {
			panic(err)
		}
		fmt.Println(h.Value().Data())
		vm.Reset()
	}
	// Output:
	// softplus(-200) = 1.3838965267367e-87
	// softplus(0) = 0.69314718055995
	// softplus(16.5) = 16.500000068256
	// softplus(200) = 200
	// [0 0 0 1 0 1 1 1]
	// [0 0 0 0 1 0 1 1]
}

// A probability outside [0, 1] makes the run fail with a *DomainError naming the entry.
// Gorgonia's machines hide op errors from errors.As; Transparent makes them visible.
func ExampleTransparent() {
	g := G.NewGraph()
	p := G.NewMatrix(g, tensor.Float32, G.WithShape(2, 2), G.WithName("p"),
		G.WithValue(tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float32{0.5, 0.25, 1.5, 0}))))
	if _, err := ops.Bernoulli(p, rand.NewPCG(1, 2)); err != nil {
		panic(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	err := vm.RunAll()
	var de *ops.DomainError
	fmt.Println(errors.As(err, &de), errors.As(ops.Transparent(err), &de))
	fmt.Println(de.Input, de.Index, de.Coords, de.Value)
	// Output:
	// false true
	// p 2 [1 0] 1.5
}

// Gradients of Softplus are exact: d softplus(x)/dx = σ(x), even where σ saturates.
func ExampleSoftplus() {
	g := G.NewGraph()
	x := G.NewVector(g, tensor.Float64, G.WithShape(3), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithBacking([]float64{-40, 0, 16.5}))))
	sp, err := ops.Softplus(x)
	if err != nil {
		panic(err)
	}
	grads, err := G.Grad(G.Must(G.Sum(sp)), x)
	if err != nil {
		panic(err)
	}
	var y, dy G.Value
	G.Read(sp, &y)
	G.Read(grads[0], &dy)
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		panic(err)
	}
	fmt.Printf("%.14g\n%.14g\n", y.Data(), dy.Data())
	// Output:
	// [4.2483542552916e-18 0.69314718055995 16.500000068256]
	// [4.2483542552916e-18 0.5 0.99999993174397]
}
