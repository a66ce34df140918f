// Package viz draws what energy-based models learn as pictures: weight filters and visible
// vectors (data, samples, reconstructions) tiled into a grey-scale mosaic, written as PNG with
// image/png. Files are written atomically (temporary file in the same folder, then rename).
package viz

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"

	"gorgonia.org/tensor"
)

// Mosaic tiles images of tileW×tileH pixels (each a row-major slice of tileW·tileH values in
// [0,1], 1 = white; values outside are clipped) into a grid of cols columns (0 means a square-ish
// grid) with 1-pixel dark borders.
func Mosaic(tiles [][]float64, tileW, tileH, cols int) (*image.Gray, error) {
	if len(tiles) == 0 {
		return nil, fmt.Errorf("viz: no tiles")
	}
	if tileW < 1 || tileH < 1 {
		return nil, fmt.Errorf("viz: tile size %d×%d", tileW, tileH)
	}
	if cols <= 0 {
		cols = int(math.Ceil(math.Sqrt(float64(len(tiles)))))
	}
	rows := (len(tiles) + cols - 1) / cols
	img := image.NewGray(image.Rect(0, 0, cols*(tileW+1)+1, rows*(tileH+1)+1))
	for i := range img.Pix {
		img.Pix[i] = 64
	}
	for k, t := range tiles {
		if len(t) != tileW*tileH {
			return nil, fmt.Errorf("viz: tile %d has %d values; want %d×%d", k, len(t), tileW, tileH)
		}
		x0, y0 := 1+(k%cols)*(tileW+1), 1+(k/cols)*(tileH+1)
		for i, v := range t {
			if math.IsNaN(v) {
				v = 0
			}
			img.SetGray(x0+i%tileW, y0+i/tileW, color.Gray{Y: uint8(math.Round(255 * math.Min(1, math.Max(0, v))))})
		}
	}
	return img, nil
}

// EncodePNG writes img as PNG to w.
func EncodePNG(w io.Writer, img image.Image) error { return png.Encode(w, img) }

// WritePNG writes img to path atomically.
func WritePNG(path string, img image.Image) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("viz: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("viz: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("viz: writing %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("viz: %w", err)
	}
	return nil
}

func values(x *tensor.Dense) ([]float64, error) {
	if x == nil || x.Shape().Dims() != 2 {
		return nil, fmt.Errorf("viz: want a matrix")
	}
	switch d := x.Data().(type) {
	case []float64:
		return d, nil
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("viz: dtype %v; want Float32 or Float64", x.Dtype())
}

// Filters returns the first n columns of a weight matrix w (nv, nh) as tiles, each scaled by its
// own largest magnitude so that 0 is mid-grey, positive weights light and negative dark.
func Filters(w *tensor.Dense, n int) ([][]float64, error) {
	d, err := values(w)
	if err != nil {
		return nil, err
	}
	nv, nh := w.Shape()[0], w.Shape()[1]
	n = min(n, nh)
	tiles := make([][]float64, n)
	for j := range tiles {
		t := make([]float64, nv)
		lim := 0.0
		for i := range t {
			t[i] = d[i*nh+j]
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
	return tiles, nil
}

// Rows returns the first n rows of x (N, nv) as tiles, mapping [lo, hi] linearly to [0, 1]
// (use 0, 1 for pixel intensities or probabilities).
func Rows(x *tensor.Dense, n int, lo, hi float64) ([][]float64, error) {
	d, err := values(x)
	if err != nil {
		return nil, err
	}
	if !(hi > lo) {
		return nil, fmt.Errorf("viz: range [%v, %v] is empty", lo, hi)
	}
	rows, nv := x.Shape()[0], x.Shape()[1]
	n = min(n, rows)
	tiles := make([][]float64, n)
	for r := range tiles {
		t := make([]float64, nv)
		for i := range t {
			t[i] = (d[r*nv+i] - lo) / (hi - lo)
		}
		tiles[r] = t
	}
	return tiles, nil
}

// WriteMosaic draws tiles of tileW×tileH into a square-ish grid and writes it to path atomically.
func WriteMosaic(path string, tiles [][]float64, tileW, tileH int) error {
	img, err := Mosaic(tiles, tileW, tileH, 0)
	if err != nil {
		return err
	}
	return WritePNG(path, img)
}

// Enlarge returns img scaled up k times (k ≥ 1) by pixel replication, for small tiles.
func Enlarge(img *image.Gray, k int) *image.Gray {
	if k <= 1 {
		return img
	}
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx()*k, b.Dy()*k))
	for y := 0; y < b.Dy()*k; y++ {
		for x := 0; x < b.Dx()*k; x++ {
			out.SetGray(x, y, img.GrayAt(b.Min.X+x/k, b.Min.Y+y/k))
		}
	}
	return out
}
