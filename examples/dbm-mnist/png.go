package main

import (
	"fmt"

	"gorgonia.org/tensor"

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
