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
)

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

// writeFilters writes the weight vectors of the first n hidden units of w (784, nh) as 28×28
// tiles, each scaled to its own range (grey = 0 when the tile has both signs).
func writeFilters(path string, w *tensor.Dense, n int) error {
	nv, nh := w.Shape()[0], w.Shape()[1]
	if nv != 784 {
		return fmt.Errorf("filters: %d visible units, not 28×28", nv)
	}
	n = min(n, nh)
	v := floats(w)
	tiles := make([][]float64, n)
	for j := range tiles {
		t := make([]float64, nv)
		lim := 0.0
		for i := range t {
			t[i] = v[i*nh+j]
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

// writeSamples starts the top RBM's chains from the up-pass of the images in start (N, 784),
// runs steps Gibbs steps there, passes down and writes p(v|h1) as a mosaic.
func writeSamples(path string, d *models.DBN, start *tensor.Dense, steps int, seed uint64) error {
	p, err := d.Sample(start, steps, rand.NewPCG(seed, 7))
	if err != nil {
		return err
	}
	x := floats(p)
	n := p.Shape()[0]
	tiles := make([][]float64, n)
	for i := range tiles {
		tiles[i] = x[i*784 : (i+1)*784]
	}
	return writeMosaic(path, tiles)
}

// writeMosaic writes 28×28 tiles with values in [0,1] (1 = white) in a square grid with 1-pixel
// borders as a PNG, atomically: a temporary file in the same folder, synced, renamed over path.
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
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	err = png.Encode(f, img)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
