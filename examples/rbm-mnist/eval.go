package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
)

// evaluate fills the test metrics of sum: exact and one-bit pseudo-likelihood, reconstruction
// cross-entropy and the free-energy gap between test images and as many training images.
func evaluate(m *models.RBM, train, test *tensor.Dense, seed uint64, sum *Summary) error {
	ev, err := optim.NewEvaluator(m, 100)
	if err != nil {
		return err
	}
	defer ev.Close()
	te, err := ev.Metrics(test, rand.NewPCG(seed, 5))
	if err != nil {
		return err
	}
	rows := min(test.Shape()[0], train.Shape()[0])
	tr, err := ev.Metrics(firstRows(train, rows), rand.NewPCG(seed, 6))
	if err != nil {
		return err
	}
	sum.TestPseudoLikelihood = te.ExactPseudoLikelihood
	sum.TestPseudoLikelihoodOneBit = te.PseudoLikelihood
	sum.TestReconCrossEntropy = te.ReconCrossEntropy
	sum.FreeEnergyGap = te.FreeEnergy - tr.FreeEnergy
	return nil
}

// firstRows returns the first n rows of x as a tensor sharing its backing.
func firstRows(x *tensor.Dense, n int) *tensor.Dense {
	cols := x.Shape()[1]
	var backing any
	switch d := x.Data().(type) {
	case []float64:
		backing = d[:n*cols]
	case []float32:
		backing = d[:n*cols]
	}
	return tensor.New(tensor.WithShape(n, cols), tensor.WithBacking(backing))
}

func floats(x *tensor.Dense) []float64 {
	switch d := x.Data().(type) {
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

// writeFilters writes the first n hidden units' weight vectors as 28×28 tiles, each scaled to
// its own range (grey = 0 when the tile has both signs).
func writeFilters(path string, m *models.RBM, n int) error {
	n = min(n, m.NumHidden())
	w := floats(m.W)
	nh := m.NumHidden()
	tiles := make([][]float64, n)
	for j := range tiles {
		t := make([]float64, 784)
		lim := 0.0
		for i := range t {
			t[i] = w[i*nh+j]
			lim = math.Max(lim, math.Abs(t[i]))
		}
		for i := range t {
			if lim > 0 {
				t[i] = 0.5 + 0.5*t[i]/lim
			} else {
				t[i] = 0.5
			}
		}
		tiles[j] = t
	}
	return writeMosaic(path, tiles)
}

// writeSamples runs 100 chains from random starts for steps Gibbs steps and writes the final
// visible probabilities p(v|h) as a 10×10 mosaic.
func writeSamples(path string, m *models.RBM, steps int, seed uint64) error {
	src := rand.NewPCG(seed, 7)
	v, err := m.RandomVisible(100, src)
	if err != nil {
		return err
	}
	for done := 0; done < steps; {
		k := min(50, steps-done)
		if v, err = m.Sample(v, k, src); err != nil {
			return err
		}
		done += k
	}
	p, err := m.Reconstruct(v)
	if err != nil {
		return err
	}
	x := floats(p)
	tiles := make([][]float64, 100)
	for i := range tiles {
		tiles[i] = x[i*784 : (i+1)*784]
	}
	return writeMosaic(path, tiles)
}

// writeMosaic writes 28×28 tiles with values in [0,1] (1 = white) in a square grid with 1-pixel
// borders, atomically (temporary file + rename).
func writeMosaic(path string, tiles [][]float64) error {
	cols := int(math.Ceil(math.Sqrt(float64(len(tiles)))))
	rows := (len(tiles) + cols - 1) / cols
	img := image.NewGray(image.Rect(0, 0, cols*29+1, rows*29+1))
	for i := range img.Pix {
		img.Pix[i] = 64
	}
	for k, t := range tiles {
		x0, y0 := 1+(k%cols)*29, 1+(k/cols)*29
		for i, v := range t {
			img.SetGray(x0+i%28, y0+i/28, color.Gray{Y: uint8(math.Round(255 * math.Min(1, math.Max(0, v))))})
		}
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".png-*")
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), path)
}
