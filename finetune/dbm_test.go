package finetune_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/finetune"
	"github.com/ebm-go/ebm/models"
)

func denseVals(dt tensor.Dtype, v []float64, shape ...int) *tensor.Dense {
	t := tensor.New(tensor.WithShape(shape...), tensor.Of(dt))
	switch d := t.Data().(type) {
	case []float64:
		copy(d, v)
	case []float32:
		for i := range d {
			d[i] = float32(v[i])
		}
	}
	return t
}

func vals(t *tensor.Dense) []float64 {
	switch d := t.Data().(type) {
	case []float64:
		return append([]float64(nil), d...)
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	}
	return nil
}

// TestB26FromDBM: the network made from case B26's DBM (with biases added) computes, on the input
// [v, μ2], the mean-field fixed point: its first layer gives μ1 and its top layer μ2, because the
// first layer's weights are [W1; W2ᵀ] and its input carries μ2.
func TestB26FromDBM(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		d, err := models.NewDBMFromParams(
			[]*tensor.Dense{denseVals(dt, []float64{1, -1, 0.5, 0.5, -1, 1}, 3, 2), denseVals(dt, []float64{2, -2}, 2, 1)},
			[]*tensor.Dense{denseVals(dt, []float64{0.1, 0.2, 0.3}, 3), denseVals(dt, []float64{-0.2, 0.1}, 2), denseVals(dt, []float64{0.3}, 1)})
		if err != nil {
			t.Fatal(err)
		}
		v := denseVals(dt, []float64{1, 1, 0, 0, 1, 1}, 2, 3)
		mf := models.MeanFieldSettings{MaxIterations: 500, Tolerance: 1e-13}
		mu, _, err := d.MeanField(v, mf)
		if err != nil {
			t.Fatal(err)
		}
		x, err := finetune.DBMInput(d, v, mf)
		if err != nil {
			t.Fatal(err)
		}
		if s := x.Shape(); s[0] != 2 || s[1] != 4 {
			t.Fatalf("DBMInput shape %v, want (2, 4)", s)
		}
		xs := vals(x)
		if xs[3] != vals(mu[1])[0] || xs[0] != 1 || xs[2] != 0 {
			t.Errorf("DBMInput row 0 = %v, want [v, μ2] = [1 1 0 %v]", xs[:4], vals(mu[1])[0])
		}
		n, err := finetune.FromDBM(d, 10, rand.NewPCG(1, 1))
		if err != nil {
			t.Fatal(err)
		}
		if s := n.Hidden[0].W.Shape(); s[0] != 4 || s[1] != 2 {
			t.Fatalf("first layer %v, want (4, 2) = [W1; W2ᵀ]", s)
		}
		top, err := n.Features(x)
		if err != nil {
			t.Fatal(err)
		}
		tol := 1e-12
		if dt.Eq(tensor.Float32) {
			tol = 1e-6
		}
		got, want := vals(top), vals(mu[1])
		for i := range want {
			if math.Abs(got[i]-want[i]) > tol {
				t.Errorf("%v: top layer %v, want μ2 %v", dt, got, want)
				break
			}
		}
		if vals(d.W[0])[0] != 1 {
			t.Error("FromDBM shares memory with the DBM")
		}
	}
}
