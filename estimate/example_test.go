package estimate_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/estimate"
)

// Example computes log Z of the 3×2 RBM P3x2 exactly and by AIS, and the exact log-likelihood of
// v = 101.
func Example() {
	w := tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float64{1, -1, 0.5, 0.5, -1, 2}))
	b := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float64{0.1, -0.2, 0.3}))
	c := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{0, -0.5}))
	m, err := estimate.NewBernoulliRBM(w, b, c)
	if err != nil {
		panic(err)
	}
	logZ, _ := estimate.ExactLogZ(m)
	ll, _, _ := estimate.ExactLogLikelihood(m, tensor.New(tensor.WithShape(1, 3), tensor.WithBacking([]float64{1, 0, 1})))

	p, _ := estimate.NewBernoulliPath(m, nil) // uniform base model
	r, err := estimate.AIS(context.Background(), p, estimate.Settings{Schedule: estimate.LinearSchedule(1000)}, rand.NewPCG(1, 2))
	if err != nil {
		panic(err)
	}
	fmt.Printf("exact log Z = %.6f, log p(101) = %.6f\n", logZ, ll)
	fmt.Printf("AIS log Z = %.2f, exact value inside ±3σ: %v\n", r.LogZ, r.Lower <= logZ && logZ <= r.Upper)
	// Output:
	// exact log Z = 4.163709, log p(101) = -2.096485
	// AIS log Z = 4.17, exact value inside ±3σ: true
}
