package datasets

import (
	"fmt"
	"math/rand/v2"

	"gorgonia.org/tensor"
)

// Matrix returns the first n images (n <= 0 or n > N means all) as an (n, Rows*Cols) *tensor.Dense of
// dtype tensor.Float32 or tensor.Float64, each entry pixel/255, so values lie in [0,1] (0 and 255 map to
// exactly 0 and 1). Any other dtype is an error naming it.
func (im *Images) Matrix(n int, dt tensor.Dtype) (*tensor.Dense, error) {
	if err := im.check(); err != nil {
		return nil, fmt.Errorf("datasets: Matrix: %w", err)
	}
	if n <= 0 || n > im.N {
		n = im.N
	}
	d := im.Rows * im.Cols
	pix := im.Pixels[:n*d]
	switch dt {
	case tensor.Float32:
		var lut [256]float32
		for i := range lut {
			lut[i] = float32(i) / 255
		}
		out := make([]float32, len(pix))
		for i, p := range pix {
			out[i] = lut[p]
		}
		return tensor.New(tensor.WithShape(n, d), tensor.WithBacking(out)), nil
	case tensor.Float64:
		var lut [256]float64
		for i := range lut {
			lut[i] = float64(i) / 255
		}
		out := make([]float64, len(pix))
		for i, p := range pix {
			out[i] = lut[p]
		}
		return tensor.New(tensor.WithShape(n, d), tensor.WithBacking(out)), nil
	}
	return nil, fmt.Errorf("datasets: Matrix: %w %s; want float32 or float64", ErrDtype, dtypeName(dt))
}

// Image returns the pixels of image i (a slice of im.Pixels, not a copy), or nil if i is out of range.
func (im *Images) Image(i int) []uint8 {
	if im.check() != nil || i < 0 || i >= im.N {
		return nil
	}
	d := im.Rows * im.Cols
	return im.Pixels[i*d : (i+1)*d]
}

// check reports whether im is usable: non-nil, positive sizes, len(Pixels) == N*Rows*Cols.
func (im *Images) check() error {
	if im == nil {
		return fmt.Errorf("nil *Images")
	}
	if im.N <= 0 || im.Rows <= 0 || im.Cols <= 0 {
		return fmt.Errorf("%w: %d images of %d×%d pixels", ErrZeroDim, im.N, im.Rows, im.Cols)
	}
	if d := im.Rows * im.Cols; d/im.Cols != im.Rows || len(im.Pixels)/d != im.N || len(im.Pixels)%d != 0 {
		return fmt.Errorf("inconsistent Images: %d images of %d×%d pixels but %d pixel bytes",
			im.N, im.Rows, im.Cols, len(im.Pixels))
	}
	return nil
}

// OneHot returns a (len(labels), classes) matrix of dtype Float32 or Float64 whose row i is 1 in column
// labels[i] and 0 elsewhere. A label >= classes is an error.
func OneHot(labels []uint8, classes int, dt tensor.Dtype) (*tensor.Dense, error) {
	if len(labels) == 0 || classes <= 0 {
		return nil, fmt.Errorf("datasets: OneHot: %w: %d labels, %d classes", ErrZeroDim, len(labels), classes)
	}
	for i, l := range labels {
		if int(l) >= classes {
			return nil, fmt.Errorf("datasets: OneHot: %w: label %d at index %d, want < %d classes", ErrRange, l, i, classes)
		}
	}
	switch dt {
	case tensor.Float32:
		out := make([]float32, len(labels)*classes)
		for i, l := range labels {
			out[i*classes+int(l)] = 1
		}
		return tensor.New(tensor.WithShape(len(labels), classes), tensor.WithBacking(out)), nil
	case tensor.Float64:
		out := make([]float64, len(labels)*classes)
		for i, l := range labels {
			out[i*classes+int(l)] = 1
		}
		return tensor.New(tensor.WithShape(len(labels), classes), tensor.WithBacking(out)), nil
	}
	return nil, fmt.Errorf("datasets: OneHot: %w %s; want float32 or float64", ErrDtype, dtypeName(dt))
}

// Binarize returns a new tensor with each entry x (which must lie in [0,1]) replaced by 1 with
// probability x, else 0, drawing one rand.New(src).Float64() per entry in row-major order; the same
// source state therefore gives the same result. Same dtype (Float32 or Float64) and shape as x. Entries
// outside [0,1] or NaN are an error naming the first offending index and value. x is not modified.
func Binarize(x *tensor.Dense, src rand.Source) (*tensor.Dense, error) {
	if src == nil {
		return nil, fmt.Errorf("datasets: Binarize: nil rand.Source")
	}
	f32, f64, shape, err := flatten(x)
	if err != nil {
		return nil, fmt.Errorf("datasets: Binarize: %w", err)
	}
	rng := rand.New(src)
	if f32 != nil {
		for i, v := range f32 {
			if !(v >= 0 && v <= 1) {
				return nil, fmt.Errorf("datasets: Binarize: %w: entry %d is %v, want a probability in [0,1]", ErrRange, i, v)
			}
		}
		out := make([]float32, len(f32))
		for i, v := range f32 {
			if rng.Float64() < float64(v) {
				out[i] = 1
			}
		}
		return newDense(shape, out), nil
	}
	for i, v := range f64 {
		if !(v >= 0 && v <= 1) {
			return nil, fmt.Errorf("datasets: Binarize: %w: entry %d is %v, want a probability in [0,1]", ErrRange, i, v)
		}
	}
	out := make([]float64, len(f64))
	for i, v := range f64 {
		if rng.Float64() < v {
			out[i] = 1
		}
	}
	return newDense(shape, out), nil
}

// Threshold returns a new tensor with entries > t set to 1 and the others (NaN included) set to 0.
// Same dtype (Float32 or Float64) and shape as x; x is not modified.
func Threshold(x *tensor.Dense, t float64) (*tensor.Dense, error) {
	f32, f64, shape, err := flatten(x)
	if err != nil {
		return nil, fmt.Errorf("datasets: Threshold: %w", err)
	}
	if f32 != nil {
		out := make([]float32, len(f32))
		for i, v := range f32 {
			if float64(v) > t {
				out[i] = 1
			}
		}
		return newDense(shape, out), nil
	}
	out := make([]float64, len(f64))
	for i, v := range f64 {
		if v > t {
			out[i] = 1
		}
	}
	return newDense(shape, out), nil
}

// flatten returns x's entries in row-major order (materialising views and transposes) as exactly one of
// a []float32 or a []float64, plus a copy of its shape.
func flatten(x *tensor.Dense) (f32 []float32, f64 []float64, shape tensor.Shape, err error) {
	if x == nil {
		return nil, nil, nil, fmt.Errorf("nil tensor")
	}
	dt := x.Dtype()
	if dt.Type == nil {
		return nil, nil, nil, fmt.Errorf("uninitialised tensor (no dtype)")
	}
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, nil, nil, fmt.Errorf("%w %s; want float32 or float64", ErrDtype, dtypeName(dt))
	}
	if x.IsMaterializable() {
		m, ok := x.Materialize().(*tensor.Dense)
		if !ok {
			return nil, nil, nil, fmt.Errorf("cannot materialise view of shape %v", x.Shape())
		}
		x = m
	}
	shape = x.Shape().Clone()
	size := shape.TotalSize()
	if shape.IsScalar() {
		size = 1
	}
	if !shape.IsScalar() && (size == 0 || x.DataSize() == 0) {
		return nil, nil, nil, fmt.Errorf("%w: empty tensor of shape %v", ErrZeroDim, shape)
	}
	data, err := safeData(x)
	if err != nil {
		return nil, nil, nil, err
	}
	switch v := data.(type) {
	case float32:
		f32 = []float32{v}
	case float64:
		f64 = []float64{v}
	case []float32:
		f32 = v
	case []float64:
		f64 = v
	default:
		return nil, nil, nil, fmt.Errorf("unexpected data of type %T", v)
	}
	if n := max(len(f32), len(f64)); n < size {
		return nil, nil, nil, fmt.Errorf("tensor of shape %v holds only %d entries", shape, n)
	}
	if f32 != nil {
		return f32[:size], nil, shape, nil
	}
	return nil, f64[:size], shape, nil
}

// safeData returns x.Data(), turning a panic inside the tensor package (which indexes the backing array
// without checking it, e.g. for a hand-built scalar with no storage) into an error.
func safeData(x *tensor.Dense) (data any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cannot read data of tensor of shape %v: %v", x.Shape(), r)
		}
	}()
	return x.Data(), nil
}

func newDense[T float32 | float64](shape tensor.Shape, data []T) *tensor.Dense {
	if shape.IsScalar() {
		return tensor.New(tensor.FromScalar(data[0]))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
}

func dtypeName(dt tensor.Dtype) string {
	if dt.Type == nil {
		return "(zero Dtype)"
	}
	return dt.String()
}
