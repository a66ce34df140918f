package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"

	"gorgonia.org/tensor"
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
// tiles, each scaled to its own range (grey = 0).
func writeFilters(path string, w *tensor.Dense, n int) error {
	nv, nh := w.Shape()[0], w.Shape()[1]
	if nv != 784 {
		return fmt.Errorf("filters: %d visible units, not 28×28", nv)
	}
	n = min(n, nh)
	v := floats(w)
	cols := int(math.Ceil(math.Sqrt(float64(n))))
	rows := (n + cols - 1) / cols
	img := image.NewGray(image.Rect(0, 0, cols*29+1, rows*29+1))
	for i := range img.Pix {
		img.Pix[i] = 64
	}
	for j := 0; j < n; j++ {
		lim := 0.0
		for i := 0; i < nv; i++ {
			lim = math.Max(lim, math.Abs(v[i*nh+j]))
		}
		x0, y0 := 1+(j%cols)*29, 1+(j/cols)*29
		for i := 0; i < nv; i++ {
			t := 0.5
			if lim > 0 {
				t = 0.5 + 0.5*v[i*nh+j]/lim
			}
			img.SetGray(x0+i%28, y0+i/28, color.Gray{Y: uint8(math.Round(255 * t))})
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
