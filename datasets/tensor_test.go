package datasets

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gorgonia.org/tensor"
)

func TestMatrixReal(t *testing.T) {
	m := realMNIST(t)
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		x, err := m.Train.Matrix(100, dt)
		if err != nil {
			t.Fatal(err)
		}
		if x.Dtype() != dt || !x.Shape().Eq(tensor.Shape{100, 784}) {
			t.Fatalf("got dtype %v shape %v, want %v (100, 784)", x.Dtype(), x.Shape(), dt)
		}
		vals := asFloat64s(t, x)
		lo, hi := 1.0, 0.0
		for i, v := range vals {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("entry %d = %v outside [0,1]", i, v)
			}
			if want := float64(m.Train.Pixels[i]) / 255; math.Abs(v-want) > 1e-7 {
				t.Fatalf("entry %d = %v, want %v", i, v, want)
			}
			lo, hi = min(lo, v), max(hi, v)
		}
		if lo != 0 || hi != 1 {
			t.Errorf("%v: range [%v,%v], want exactly [0,1]", dt, lo, hi)
		}
	}
	all, err := m.Test.Matrix(0, tensor.Float32)
	if err != nil {
		t.Fatal(err)
	}
	if !all.Shape().Eq(tensor.Shape{10000, 784}) {
		t.Errorf("n=0: shape %v, want (10000, 784)", all.Shape())
	}
	if more, _ := m.Test.Matrix(20000, tensor.Float32); !more.Shape().Eq(tensor.Shape{10000, 784}) {
		t.Errorf("n>N: shape %v, want (10000, 784)", more.Shape())
	}
}

func TestMatrixErrors(t *testing.T) {
	im := &Images{N: 2, Rows: 2, Cols: 2, Pixels: seq(8)}
	_, err := im.Matrix(0, tensor.Int)
	wantErr(t, err, ErrDtype, "int", "float32 or float64")
	_, err = im.Matrix(0, tensor.Dtype{})
	wantErr(t, err, ErrDtype)
	_, err = (*Images)(nil).Matrix(0, tensor.Float64)
	wantErr(t, err, nil, "nil")
	_, err = (&Images{N: 3, Rows: 2, Cols: 2, Pixels: seq(8)}).Matrix(0, tensor.Float64)
	wantErr(t, err, nil, "inconsistent", "8 pixel bytes")
	_, err = (&Images{N: 2, Rows: 0, Cols: 2}).Matrix(0, tensor.Float64)
	wantErr(t, err, ErrZeroDim)
	_, err = (&Images{N: 1, Rows: 1 << 62, Cols: 4, Pixels: seq(8)}).Matrix(0, tensor.Float64)
	wantErr(t, err, nil, "inconsistent")
}

func asFloat64s(t testing.TB, x *tensor.Dense) []float64 {
	t.Helper()
	switch d := x.Data().(type) {
	case []float64:
		return d
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	case float64:
		return []float64{d}
	case float32:
		return []float64{float64(d)}
	}
	t.Fatalf("unexpected data %T", x.Data())
	return nil
}

func TestBinarizeReproducible(t *testing.T) {
	x := tensor.New(tensor.WithShape(30, 40), tensor.WithBacking(probs(1200, 1)))
	a, err := Binarize(x, rand.NewPCG(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Binarize(x, rand.NewPCG(1, 2))
	c, _ := Binarize(x, rand.NewPCG(3, 4))
	if !slices.Equal(a.Float64s(), b.Float64s()) {
		t.Error("same seed gave different results")
	}
	if slices.Equal(a.Float64s(), c.Float64s()) {
		t.Error("different seeds gave identical results")
	}
	if !a.Shape().Eq(x.Shape()) || a.Dtype() != tensor.Float64 {
		t.Errorf("shape %v dtype %v", a.Shape(), a.Dtype())
	}
	if !slices.Equal(x.Float64s(), probs(1200, 1)) {
		t.Error("input modified")
	}
}

// probs returns n probabilities covering [0,1], including 0 and 1 exactly.
func probs(n int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 99))
	p := make([]float64, n)
	for i := range p {
		p[i] = r.Float64()
	}
	p[0], p[n-1] = 0, 1
	return p
}

func TestBinarizeMean(t *testing.T) {
	m := realMNIST(t)
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		x, err := m.Train.Matrix(200, dt) // 156800 entries
		if err != nil {
			t.Fatal(err)
		}
		y, err := Binarize(x, rand.NewPCG(42, 7))
		if err != nil {
			t.Fatal(err)
		}
		if y.Dtype() != dt || !y.Shape().Eq(x.Shape()) {
			t.Fatalf("got dtype %v shape %v, want %v %v", y.Dtype(), y.Shape(), dt, x.Shape())
		}
		xs, ys := asFloat64s(t, x), asFloat64s(t, y)
		var sumP, sumVar, sumY float64
		for i, p := range xs {
			if ys[i] != 0 && ys[i] != 1 {
				t.Fatalf("entry %d = %v, want 0 or 1", i, ys[i])
			}
			if p == 0 && ys[i] != 0 || p == 1 && ys[i] != 1 {
				t.Fatalf("entry %d: p=%v gave %v", i, p, ys[i])
			}
			sumP += p
			sumVar += p * (1 - p)
			sumY += ys[i]
		}
		n := float64(len(xs))
		se := math.Sqrt(sumVar) / n
		if diff := math.Abs(sumY/n - sumP/n); diff > 4*se {
			t.Errorf("%v: mean %v vs input mean %v: |diff| %v > 4 SE (%v)", dt, sumY/n, sumP/n, diff, 4*se)
		}
	}
}

func TestBinarizeErrors(t *testing.T) {
	for _, bad := range []float64{-0.01, 1.01, math.NaN(), math.Inf(1), math.Inf(-1)} {
		x := tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{0.5, 0, bad, 1}))
		_, err := Binarize(x, rand.NewPCG(1, 1))
		wantErr(t, err, ErrRange, "entry 2")
		x32 := tensor.New(tensor.WithShape(4), tensor.WithBacking([]float32{0.5, float32(bad), 0, 1}))
		_, err = Binarize(x32, rand.NewPCG(1, 1))
		wantErr(t, err, ErrRange, "entry 1")
	}
	ok := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{0.5, 0.5}))
	_, err := Binarize(ok, nil)
	wantErr(t, err, nil, "nil rand.Source")
	_, err = Binarize(nil, rand.NewPCG(1, 1))
	wantErr(t, err, nil, "nil tensor")
	_, err = Binarize(&tensor.Dense{}, rand.NewPCG(1, 1))
	wantErr(t, err, nil, "uninitialised")
	_, err = Binarize(tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(2, 0)), rand.NewPCG(1, 1))
	wantErr(t, err, ErrZeroDim, "empty tensor", "(2, 0)")
	_, err = Threshold(tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(0)), 0)
	wantErr(t, err, ErrZeroDim, "empty tensor")
	_, err = Binarize(tensor.New(tensor.WithShape(2), tensor.WithBacking([]int{0, 1})), rand.NewPCG(1, 1))
	wantErr(t, err, ErrDtype, "int")
}

func TestBinarizeViewsAndScalars(t *testing.T) {
	// A transposed tensor is binarised in its logical (row-major) order.
	x := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{0, 1, 0, 1, 1, 0}))
	if err := x.T(); err != nil {
		t.Fatal(err)
	}
	y, err := Binarize(x, rand.NewPCG(5, 5))
	if err != nil {
		t.Fatal(err)
	}
	if !y.Shape().Eq(tensor.Shape{3, 2}) || !slices.Equal(y.Float64s(), []float64{0, 1, 1, 1, 0, 0}) {
		t.Errorf("transposed: shape %v data %v", y.Shape(), y.Float64s())
	}
	// A slice view.
	z := tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float32{0, 0, 1, 0, 1, 1}))
	v, err := z.Slice(tensor.S(1, 3))
	if err != nil {
		t.Fatal(err)
	}
	y, err = Threshold(v.(*tensor.Dense), 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if !y.Shape().Eq(tensor.Shape{2, 2}) || !slices.Equal(y.Float32s(), []float32{1, 0, 1, 1}) {
		t.Errorf("view: shape %v data %v", y.Shape(), y.Float32s())
	}
	// A scalar.
	s := tensor.New(tensor.FromScalar(1.0))
	y, err = Binarize(s, rand.NewPCG(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if !y.IsScalar() || y.ScalarValue() != 1.0 {
		t.Errorf("scalar: shape %v value %v", y.Shape(), y.ScalarValue())
	}
}

func TestThreshold(t *testing.T) {
	x := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{0, 0.5, 0.50001, 1, math.NaN(), -3}))
	y, err := Threshold(x, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if !y.Shape().Eq(x.Shape()) || !slices.Equal(y.Float64s(), []float64{0, 0, 1, 1, 0, 0}) {
		t.Errorf("got shape %v %v", y.Shape(), y.Float64s())
	}
	x32 := tensor.New(tensor.WithShape(4), tensor.WithBacking([]float32{0.1, 0.2, 0.3, 0.4}))
	y, err = Threshold(x32, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	if y.Dtype() != tensor.Float32 || !slices.Equal(y.Float32s(), []float32{0, 0, 1, 1}) {
		t.Errorf("float32: %v %v", y.Dtype(), y.Data())
	}
	_, err = Threshold(tensor.New(tensor.WithShape(1), tensor.WithBacking([]int32{1})), 0)
	wantErr(t, err, ErrDtype, "int32")
	_, err = Threshold(nil, 0)
	wantErr(t, err, nil, "nil tensor")
}

func TestOneHot(t *testing.T) {
	y, err := OneHot([]uint8{2, 0}, 3, tensor.Float32)
	if err != nil {
		t.Fatal(err)
	}
	if !y.Shape().Eq(tensor.Shape{2, 3}) || !slices.Equal(y.Float32s(), []float32{0, 0, 1, 1, 0, 0}) {
		t.Errorf("got %v %v", y.Shape(), y.Data())
	}
	y, err = OneHot([]uint8{9}, 10, tensor.Float64)
	if err != nil || y.Float64s()[9] != 1 {
		t.Errorf("got %v, %v", y, err)
	}
	_, err = OneHot([]uint8{1, 10}, 10, tensor.Float64)
	wantErr(t, err, ErrRange, "label 10 at index 1")
	_, err = OneHot(nil, 10, tensor.Float64)
	wantErr(t, err, ErrZeroDim)
	_, err = OneHot([]uint8{1}, 10, tensor.Uint8)
	wantErr(t, err, ErrDtype, "uint8")
}
