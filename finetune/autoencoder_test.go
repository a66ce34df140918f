package finetune_test

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/finetune"
	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
)

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// randomCode returns a GaussianHiddenRBM with weights N(0, scale²) and biases N(0, 1).
func randomCode(t *testing.T, nv, nh int, dt tensor.Dtype, scale float64, seed uint64) *models.GaussianHiddenRBM {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 9))
	gen := func(n int, s float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = s * r.NormFloat64()
		}
		return v
	}
	m, err := models.NewGaussianHiddenRBMFromParams(dense(dt, gen(nv*nh, scale), nv, nh), dense(dt, gen(nv, 1), nv), dense(dt, gen(nh, 1), nh))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// aeRef computes the code and the reconstruction of one row x in float64 from the stack's own
// parameters: the up-pass σ(c + hW) through d, the linear code c + hW of the code layer, then the
// down-pass σ(b + hWᵀ) back through the code layer and d.
func aeRef(d *models.DBN, code *models.GaussianHiddenRBM, x []float64) (h, rec []float64) {
	type layer struct{ w, b, c []float64 }
	var ls []layer
	for _, m := range d.Layers {
		ls = append(ls, layer{values(m.W), values(m.B), values(m.C)})
	}
	ls = append(ls, layer{values(code.W), values(code.B), values(code.C)})
	h = x
	for l, ly := range ls {
		h = affine(h, ly.w, ly.c)
		if l < len(ls)-1 {
			for j := range h {
				h[j] = sigmoid(h[j])
			}
		}
	}
	g := h
	for l := len(ls) - 1; l >= 0; l-- {
		ly := ls[l]
		out := append([]float64(nil), ly.b...)
		for i := range out {
			for j, gv := range g {
				out[i] += gv * ly.w[i*len(g)+j]
			}
			out[i] = sigmoid(out[i])
		}
		g = out
	}
	return h, g
}

// TestUnrollAutoencoder checks that the unrolled stack's code and reconstruction equal the
// RBMs' up-pass, linear code and down-pass computed independently in float64, for 1,100 rows
// (a full inference chunk and a remainder), in both dtypes; that the autoencoder owns copies; and
// that Evaluate's squared error and cross-entropy match the reconstruction.
func TestUnrollAutoencoder(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		tol := 1e-12
		if dt.Eq(tensor.Float32) {
			tol = 2e-5
		}
		d := randomDBN(t, []int{6, 5, 4}, dt, 1, 1)
		code := randomCode(t, 4, 2, dt, 1, 2)
		a, err := finetune.UnrollAutoencoder(d, code)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Sizes(); len(got) != 4 || got[3] != 2 || !a.LinearCode || a.CodeSize() != 2 || len(a.Decoder) != 3 {
			t.Fatalf("sizes %v, linear %v, decoder %d", got, a.LinearCode, len(a.Decoder))
		}
		x, _ := randomData(1100, 6, 2, dt, 3)
		h, err := a.Encode(x)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := a.Reconstruct(x)
		if err != nil {
			t.Fatal(err)
		}
		xs, hs, rs := values(x), values(h), values(rec)
		var sq, ce float64
		for r := 0; r < 1100; r++ {
			wantH, wantR := aeRef(d, code, xs[r*6:(r+1)*6])
			for j, v := range wantH {
				if math.Abs(hs[r*2+j]-v) > tol*(1+math.Abs(v)) {
					t.Fatalf("%v: code[%d,%d] = %v, want %v", dt, r, j, hs[r*2+j], v)
				}
			}
			for i, v := range wantR {
				if math.Abs(rs[r*6+i]-v) > tol {
					t.Fatalf("%v: reconstruction[%d,%d] = %v, want %v", dt, r, i, rs[r*6+i], v)
				}
				e := rs[r*6+i] - xs[r*6+i]
				sq += e * e
				ce -= xs[r*6+i]*math.Log(rs[r*6+i]) + (1-xs[r*6+i])*math.Log(1-rs[r*6+i])
			}
		}
		ev, err := a.Evaluate(x)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Rows != 1100 || math.Abs(ev.SquaredError-sq/1100) > 1e-9 || math.Abs(ev.CrossEntropy-ce/1100) > 1e-9 || math.Abs(ev.PerPixel*6-ev.SquaredError) > 1e-12 {
			t.Errorf("%v: evaluation %+v; want squared error %v, cross-entropy %v", dt, ev, sq/1100, ce/1100)
		}
		// The autoencoder holds copies: changing it leaves the RBMs alone.
		before := values(d.Layers[0].W)[0]
		a.Encoder[0].W.Zero()
		a.Decoder[2].W.Zero()
		if values(d.Layers[0].W)[0] != before || before == 0 {
			t.Errorf("%v: the autoencoder shares memory with the DBN", dt)
		}
	}
	// A logistic code from a DBN alone.
	d := randomDBN(t, []int{6, 3}, tensor.Float64, 1, 5)
	a, err := finetune.UnrollAutoencoder(d, nil)
	if err != nil || a.LinearCode || a.CodeSize() != 3 {
		t.Fatalf("%v %+v", err, a)
	}
	x, _ := randomData(5, 6, 2, tensor.Float64, 6)
	h, _ := a.Encode(x)
	f, _ := d.Features(x)
	if !same(values(h), values(f)) {
		for i := range values(h) {
			if math.Abs(values(h)[i]-values(f)[i]) > 1e-15 {
				t.Fatalf("logistic code %v, DBN features %v", values(h), values(f))
			}
		}
	}
	if _, err := finetune.UnrollAutoencoder(d, randomCode(t, 4, 2, tensor.Float64, 1, 1)); err == nil || !strings.Contains(err.Error(), "code layer") {
		t.Errorf("a 4-visible code layer on a 3-unit DBN top: %v", err)
	}
	if _, err := finetune.UnrollAutoencoder(nil, nil); err == nil {
		t.Error("UnrollAutoencoder(nil, nil) gave no error")
	}
}

// aeCost is the mean reconstruction cross-entropy plus (λ/2)Σ||W||², computed in float64 from the
// autoencoder's parameters (the reference for the gradient check).
func aeCost(a *finetune.Autoencoder, x []float64, n int, lambda float64) float64 {
	rows := len(x) / n
	enc, layers := len(a.Encoder), append(append([]finetune.Layer(nil), a.Encoder...), a.Decoder...)
	cost := 0.0
	for r := 0; r < rows; r++ {
		h := x[r*n : (r+1)*n]
		for l, ly := range layers {
			z := affine(h, values(ly.W), values(ly.C))
			if l == len(layers)-1 {
				for i, zi := range z {
					xi := x[r*n+i]
					cost += math.Max(zi, 0) + math.Log1p(math.Exp(-math.Abs(zi))) - xi*zi
				}
				break
			}
			if !(a.LinearCode && l == enc-1) {
				for j := range z {
					z[j] = sigmoid(z[j])
				}
			}
			h = z
		}
	}
	cost /= float64(rows)
	for _, ly := range layers {
		for _, w := range values(ly.W) {
			cost += lambda / 2 * w * w
		}
	}
	return cost
}

// TestAutoencoderGradient checks that one plain SGD step (one minibatch holding every row) moves
// every parameter by exactly -ε·∇cost, with ∇ the central finite-difference gradient of the
// cross-entropy plus weight decay computed independently in float64, for linear and logistic codes.
func TestAutoencoderGradient(t *testing.T) {
	for _, linear := range []bool{true, false} {
		a, err := finetune.NewRandomAutoencoder([]int{5, 3, 2}, linear, 0.8, tensor.Float64, rand.NewPCG(1, 2))
		if err != nil {
			t.Fatal(err)
		}
		// Non-zero biases, so that their gradients are checked away from the symmetric point.
		r := rand.New(rand.NewPCG(3, 4))
		for _, l := range append(append([]finetune.Layer(nil), a.Encoder...), a.Decoder...) {
			c := l.C.Data().([]float64)
			for i := range c {
				c[i] = 0.5 * r.NormFloat64()
			}
		}
		x, _ := randomData(6, 5, 2, tensor.Float64, 7)
		xs := values(x)
		const lambda, eps, h = 0.01, 0.1, 1e-6
		var want [][]float64
		for _, l := range append(append([]finetune.Layer(nil), a.Encoder...), a.Decoder...) {
			for _, p := range []*tensor.Dense{l.W, l.C} {
				d := p.Data().([]float64)
				g := make([]float64, len(d))
				for i := range d {
					orig := d[i]
					d[i] = orig + h
					up := aeCost(a, xs, 5, lambda)
					d[i] = orig - h
					down := aeCost(a, xs, 5, lambda)
					d[i] = orig
					g[i] = orig - eps*(up-down)/(2*h)
				}
				want = append(want, g)
			}
		}
		cost0 := aeCost(a, xs, 5, lambda)
		res, err := finetune.TrainAutoencoder(context.Background(), a, x, finetune.AutoencoderSettings{
			Epochs: 1, BatchSize: 6, LearningRate: optim.Constant(eps), Solver: finetune.SGD{}, WeightDecay: lambda,
			Shuffle: rand.NewPCG(1, 1),
		})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(res.Epochs[0].Cost-cost0) > 1e-12 {
			t.Errorf("linear %v: recorded cost %v, reference %v", linear, res.Epochs[0].Cost, cost0)
		}
		k := 0
		for _, l := range append(append([]finetune.Layer(nil), a.Encoder...), a.Decoder...) {
			for _, p := range []*tensor.Dense{l.W, l.C} {
				for i, v := range values(p) {
					if math.Abs(v-want[k][i]) > 1e-8 {
						t.Errorf("linear %v: parameter %d[%d] after the step %v, want %v", linear, k, i, v, want[k][i])
					}
				}
				k++
			}
		}
	}
}

// TestTrainAutoencoder fine-tunes a small pretrained-shape autoencoder on random binary patterns
// built from 3 prototypes and checks that the validation squared error falls, that the
// autoencoder ends with its best epoch's parameters, and that the run is reproducible.
func TestTrainAutoencoder(t *testing.T) {
	mk := func(n int, seed uint64) *tensor.Dense {
		r := rand.New(rand.NewPCG(seed, 1))
		protos := [][]float64{{1, 1, 1, 0, 0, 0, 1, 0}, {0, 0, 0, 1, 1, 1, 0, 1}, {1, 0, 1, 0, 1, 0, 1, 0}}
		var v []float64
		for i := 0; i < n; i++ {
			for _, b := range protos[r.IntN(3)] {
				if r.Float64() < 0.05 {
					b = 1 - b
				}
				v = append(v, b)
			}
		}
		return dense(tensor.Float32, v, n, 8)
	}
	train, valid := mk(600, 1), mk(200, 2)
	run := func() (*finetune.Autoencoder, *finetune.AutoencoderResult) {
		a, err := finetune.NewRandomAutoencoder([]int{8, 6, 2}, true, 0.1, tensor.Float32, rand.NewPCG(5, 5))
		if err != nil {
			t.Fatal(err)
		}
		res, err := finetune.TrainAutoencoder(context.Background(), a, train, finetune.AutoencoderSettings{
			Epochs: 30, BatchSize: 20, LearningRate: optim.Constant(0.01), Validation: valid, Shuffle: rand.NewPCG(6, 6),
		})
		if err != nil {
			t.Fatal(err)
		}
		return a, res
	}
	a, res := run()
	first, best := res.Epochs[0].Validation.SquaredError, res.Validation.SquaredError
	// Three prototypes with 5% flipped bits: a 2-D code separates them, leaving about
	// 8·0.05 = 0.4 squared error per row; the first epoch is far from that.
	if !(best < 0.8) || !(best < first/2) {
		t.Errorf("validation squared error %v after epoch 1, best %v", first, best)
	}
	ev, err := a.Evaluate(valid)
	if err != nil {
		t.Fatal(err)
	}
	if ev.SquaredError != best || res.Epochs[res.BestEpoch-1].Validation.SquaredError != best {
		t.Errorf("the autoencoder's validation error %v is not the best epoch's %v", ev.SquaredError, best)
	}
	a2, res2 := run()
	if res2.Validation.SquaredError != best || !same(values(a2.Decoder[1].W), values(a.Decoder[1].W)) {
		t.Error("two runs with the same seeds differ")
	}
	bad := dense(tensor.Float32, []float64{0, 2, 0, 0, 0, 0, 0, 0}, 1, 8)
	if _, err := finetune.TrainAutoencoder(context.Background(), a, bad, finetune.AutoencoderSettings{Epochs: 1, Shuffle: rand.NewPCG(1, 1)}); err == nil || !strings.Contains(err.Error(), "[0,1]") {
		t.Errorf("data with a 2: %v", err)
	}
	if _, err := finetune.TrainAutoencoder(context.Background(), a, train, finetune.AutoencoderSettings{Epochs: 1}); err == nil || !strings.Contains(err.Error(), "Shuffle") {
		t.Errorf("no Shuffle: %v", err)
	}
}
