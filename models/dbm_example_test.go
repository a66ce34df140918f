package models_test

import (
	"fmt"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/models"
)

// A 3-2-1 deep Boltzmann machine (case B26): mean-field posterior, exact posterior marginals and
// exact log Z.
func ExampleDBM_MeanField() {
	f := func(v []float64, shape ...int) *tensor.Dense {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
	}
	d, _ := models.NewDBMFromParams(
		[]*tensor.Dense{f([]float64{1, -1, 0.5, 0.5, -1, 1}, 3, 2), f([]float64{2, -2}, 2, 1)},
		[]*tensor.Dense{f(make([]float64, 3), 3), f(make([]float64, 2), 2), f(make([]float64, 1), 1)})
	v := f([]float64{1, 1, 0}, 1, 3)
	mu, _, _ := d.MeanField(v, models.MeanFieldSettings{Tolerance: 1e-12, MaxIterations: 100})
	exact, _, _ := d.ExactPosterior(v)
	logZ, _ := d.ExactLogZ()
	fmt.Printf("mean-field μ1 %.6f μ2 %.6f\n", mu[0].Data(), mu[1].Data())
	fmt.Printf("exact      h1 %.6f h2 %.6f\n", exact[0].Data(), exact[1].Data())
	fmt.Printf("log Z %.6f\n", logZ)
	// Output:
	// mean-field μ1 [0.960706 0.100057] μ2 [0.848296]
	// exact      h1 [0.941197 0.133965] h2 [0.807392]
	// log Z 5.159384
}
