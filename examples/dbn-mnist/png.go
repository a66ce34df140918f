package main

import (
	"fmt"
	"math/rand/v2"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/viz"
)

// writeFilters writes the weight vectors of the first n hidden units of w (784, nh) as 28×28
// tiles, each scaled to its own range (grey = 0), atomically.
func writeFilters(path string, w *tensor.Dense, n int) error {
	if nv := w.Shape()[0]; nv != 784 {
		return fmt.Errorf("filters: %d visible units, not 28×28", nv)
	}
	tiles, err := viz.Filters(w, n)
	if err != nil {
		return err
	}
	return viz.WriteMosaic(path, tiles, 28, 28)
}

// writeSamples starts the top RBM's chains from the up-pass of the images in start (N, 784),
// runs steps Gibbs steps there, passes down and writes p(v|h1) as a mosaic (for Gaussian visible
// units the mean E[v|h1], mapped back to pixels by st and clipped to [0, 1]).
func writeSamples(path string, d *models.DBN, st *datasets.Standardizer, start *tensor.Dense, steps int, seed uint64) error {
	p, err := d.Sample(start, steps, rand.NewPCG(seed, 7))
	if err != nil {
		return err
	}
	if st != nil {
		if p, err = st.Inverse(p); err != nil {
			return err
		}
	}
	tiles, err := viz.Rows(p, p.Shape()[0], 0, 1)
	if err != nil {
		return err
	}
	return viz.WriteMosaic(path, tiles, 28, 28)
}
