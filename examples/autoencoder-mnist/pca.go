package main

import (
	"fmt"
	"image"
	"image/color"
	"path/filepath"
	"sort"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/finetune"
	"github.com/ebm-go/ebm/viz"
)

// pca holds the principal directions of a data set (gonum's stat.PC) and its mean; k is the
// number of components squaredError uses.
type pca struct {
	mean []float64
	vecs *mat.Dense // (d, min(N, d)), orthonormal columns, by decreasing variance
	vars []float64  // the variance along each direction (denominator N-1)
	k    int
}

// withK returns p using k components.
func (p *pca) withK(k int) (*pca, error) {
	if _, c := p.vecs.Dims(); k > c || k < 1 {
		return nil, fmt.Errorf("PCA: %d components asked; there are %d", k, c)
	}
	q := *p
	q.k = k
	return &q, nil
}

// fitPCA finds the principal components of the rows of x (N, d) and uses the first k. k may be at
// most min(N, d), the number of directions stat.PC returns.
func fitPCA(x *tensor.Dense, k int) (*pca, error) {
	n, d := x.Shape()[0], x.Shape()[1]
	data := mat.NewDense(n, d, append([]float64(nil), floats(x)...))
	var pc stat.PC
	if !pc.PrincipalComponents(data, nil) {
		return nil, fmt.Errorf("PCA: the SVD of the %d×%d training matrix failed", n, d)
	}
	var v mat.Dense
	pc.VectorsTo(&v)
	if _, c := v.Dims(); k > c || k < 1 {
		return nil, fmt.Errorf("PCA: %d components asked of %d images with %d pixels (at most %d)", k, n, d, c)
	}
	p := &pca{mean: make([]float64, d), k: k}
	for j := 0; j < d; j++ {
		p.mean[j] = stat.Mean(mat.Col(nil, j, data), nil)
	}
	p.vecs, p.vars = &v, pc.VarsTo(nil)
	return p, nil
}

// project returns the coordinates (N, k) of the rows of x (N·d values) on the first k directions.
func (p *pca) project(x []float64, k int) *mat.Dense {
	d := len(p.mean)
	n := len(x) / d
	c := make([]float64, len(x))
	for i, v := range x {
		c[i] = v - p.mean[i%d]
	}
	var z mat.Dense
	z.Mul(mat.NewDense(n, d, c), p.vecs.Slice(0, d, 0, k))
	return &z
}

// reconstruct returns mean + z Vᵀ (N·d values) for the rows of x projected on k directions.
func (p *pca) reconstruct(x []float64, k int) []float64 {
	d := len(p.mean)
	z := p.project(x, k)
	var r mat.Dense
	r.Mul(z, p.vecs.Slice(0, d, 0, k).T())
	out := make([]float64, len(x))
	n := len(x) / d
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			out[i*d+j] = r.At(i, j) + p.mean[j]
		}
	}
	return out
}

// squaredError is the mean over the rows of x of the sum of squared errors of the k-component
// reconstruction.
func (p *pca) squaredError(x []float64) float64 {
	r := p.reconstruct(x, p.k)
	s := 0.0
	for i, v := range x {
		e := r[i] - v
		s += e * e
	}
	return s / float64(len(x)/len(p.mean))
}

// palette is the colour of each digit in the scatter plots (matplotlib's tab10).
var palette = [10]color.RGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255}, {148, 103, 189, 255},
	{140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255}, {188, 189, 34, 255}, {23, 190, 207, 255},
}

// writeScatter draws the points (x_i, y_i) coloured by label as a size×size PNG: axes scaled to
// the 0.5% and 99.5% quantiles of each coordinate (so a few outliers do not squash the plot),
// 3×3-pixel points, and a legend of ten squares (digits 0-9, left to right) at the top left.
func writeScatter(path string, xs, ys []float64, labels []uint8, size int) error {
	lo := func(v []float64) (float64, float64) {
		s := append([]float64(nil), v...)
		sort.Float64s(s)
		a, b := s[len(s)*5/1000], s[(len(s)-1)*995/1000]
		if b <= a {
			a, b = s[0], s[len(s)-1]
		}
		if b <= a {
			b = a + 1
		}
		return a, b
	}
	x0, x1 := lo(xs)
	y0, y1 := lo(ys)
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	margin := 24
	span := float64(size - 2*margin)
	for i := range xs {
		px := margin + int((xs[i]-x0)/(x1-x0)*span)
		py := size - margin - int((ys[i]-y0)/(y1-y0)*span)
		col := palette[labels[i]%10]
		for dx := -1; dx <= 1; dx++ {
			for dy := -1; dy <= 1; dy++ {
				if q := image.Pt(px+dx, py+dy); q.In(img.Bounds()) {
					img.SetRGBA(q.X, q.Y, col)
				}
			}
		}
	}
	for d := 0; d < 10; d++ {
		for x := 0; x < 10; x++ {
			for y := 0; y < 10; y++ {
				img.SetRGBA(4+d*14+x, 4+y, palette[d])
			}
		}
	}
	return viz.WritePNG(path, img)
}

// writePictures writes reconstructions.png, codes.png and pca.png (see the package comment).
func writePictures(c config, ae *finetune.Autoencoder, p *pca, test *tensor.Dense, labels []uint8, sum *Summary) error {
	x := floats(test)
	// One test image of each digit, in order, as in the paper's figure 2.
	var pick []int
	for d := uint8(0); d < 10; d++ {
		for i, l := range labels {
			if l == d {
				pick = append(pick, i)
				break
			}
		}
	}
	sub := tensor.New(tensor.WithShape(len(pick), 784), tensor.Of(test.Dtype()))
	subX := make([]float64, 0, len(pick)*784)
	for _, i := range pick {
		subX = append(subX, x[i*784:(i+1)*784]...)
	}
	setFloats(sub, subX)
	rec, err := ae.Reconstruct(sub)
	if err != nil {
		return err
	}
	rows := [][]float64{subX, floats(rec)}
	if p != nil {
		rows = append(rows, p.reconstruct(subX, p.k))
	}
	var tiles [][]float64
	for _, r := range rows {
		for i := range pick {
			tiles = append(tiles, r[i*784:(i+1)*784])
		}
	}
	mos, err := viz.Mosaic(tiles, 28, 28, len(pick))
	if err != nil {
		return err
	}
	sum.Reconstructions = filepath.Join(c.out, "reconstructions.png")
	if err := viz.WritePNG(sum.Reconstructions, viz.Enlarge(mos, 2)); err != nil {
		return err
	}

	codes, err := ae.Encode(test)
	if err != nil {
		return err
	}
	k := codes.Shape()[1]
	cv := floats(codes)
	n := len(labels)
	xs, ys := make([]float64, n), make([]float64, n)
	switch {
	case k == 2:
		for i := 0; i < n; i++ {
			xs[i], ys[i] = cv[2*i], cv[2*i+1]
		}
	case k > 2:
		cp, err := fitPCA(codes, 2)
		if err != nil {
			return err
		}
		z := cp.project(cv, 2)
		for i := 0; i < n; i++ {
			xs[i], ys[i] = z.At(i, 0), z.At(i, 1)
		}
	}
	if k >= 2 {
		sum.Codes = filepath.Join(c.out, "codes.png")
		if err := writeScatter(sum.Codes, xs, ys, labels, 512); err != nil {
			return err
		}
	}
	if p != nil && p.vecs.RawMatrix().Cols >= 2 {
		z := p.project(x, 2)
		for i := 0; i < n; i++ {
			xs[i], ys[i] = z.At(i, 0), z.At(i, 1)
		}
		sum.PCAScatter = filepath.Join(c.out, "pca.png")
		if err := writeScatter(sum.PCAScatter, xs, ys, labels, 512); err != nil {
			return err
		}
	}
	return nil
}

func setFloats(x *tensor.Dense, v []float64) {
	switch d := x.Data().(type) {
	case []float64:
		copy(d, v)
	case []float32:
		for i := range d {
			d[i] = float32(v[i])
		}
	}
}
