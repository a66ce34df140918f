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

// randomGaussianDBN returns a DBN with a Gaussian bottom layer, weights N(0, scale²), biases
// N(0, 1) and log σ_i N(0, 0.5²) (σ between about 0.3 and 3), so that 1/σ matters.
func randomGaussianDBN(t *testing.T, sizes []int, dt tensor.Dtype, scale float64, seed uint64) *models.DBN {
	t.Helper()
	d, err := models.NewGaussianDBN(sizes, dt, rand.NewPCG(seed, 1))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 2))
	fill := func(x *tensor.Dense, s float64) {
		switch v := x.Data().(type) {
		case []float64:
			for i := range v {
				v[i] = s * r.NormFloat64()
			}
		case []float32:
			for i := range v {
				v[i] = float32(s * r.NormFloat64())
			}
		}
	}
	g := d.Gaussian
	fill(g.W, scale)
	fill(g.B, 1)
	fill(g.C, 1)
	fill(g.LogSigma, 0.5)
	for _, m := range d.Layers {
		fill(m.W, scale)
		fill(m.B, 1)
		fill(m.C, 1)
	}
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
	return d
}

// realData returns (n, cols) values N(0, 2²), far outside [0,1], and labels in [0, k).
func realData(n, cols, k int, dt tensor.Dtype, seed uint64) (*tensor.Dense, []int) {
	r := rand.New(rand.NewPCG(seed, 3))
	v := make([]float64, n*cols)
	for i := range v {
		v[i] = 2 * r.NormFloat64()
	}
	y := make([]int, n)
	for i := range y {
		y[i] = r.IntN(k)
	}
	return dense(dt, v, n, cols), y
}

func maxDiff(a, b []float64) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	if len(a) != len(b) {
		return math.Inf(1)
	}
	return m
}

// TestGaussianForwardEqualsUpPass: FromDBN folds 1/σ into the first layer's weights (W'_ij =
// W_ij/σ_i), and the network's forward pass equals the DBN's up-pass to 1e-12 in float64 (1e-5 in
// float32) on 1,100 rows of real-valued data (a full inference chunk and a remainder).
func TestGaussianForwardEqualsUpPass(t *testing.T) {
	for _, tc := range []struct {
		dt        tensor.Dtype
		tol, wtol float64 // for the features; for the folded weights (rounding of W/σ)
	}{{tensor.Float64, 1e-12, 1e-15}, {tensor.Float32, 1e-5, 1e-6}} {
		d := randomGaussianDBN(t, []int{7, 6, 5, 4}, tc.dt, 0.5, 1)
		x, _ := realData(1100, 7, 3, tc.dt, 2)
		net, err := finetune.FromDBN(d, 3, rand.NewPCG(3, 3))
		if err != nil {
			t.Fatal(err)
		}
		if len(net.Hidden) != 3 || net.NumInputs() != 7 {
			t.Fatalf("%v: %d hidden layers, %d inputs; want 3 and 7", tc.dt, len(net.Hidden), net.NumInputs())
		}
		w, sigma := values(d.Gaussian.W), d.Gaussian.Sigma()
		for i := range w {
			w[i] /= sigma[i/6]
		}
		if m := maxDiff(values(net.Hidden[0].W), w); !(m <= tc.wtol) {
			t.Errorf("%v: first layer weights differ from W/σ by %g", tc.dt, m)
		}
		if !same(values(net.Hidden[0].C), values(d.Gaussian.C)) || !same(values(net.Hidden[1].W), values(d.Layers[0].W)) {
			t.Errorf("%v: biases or upper weights not copied", tc.dt)
		}
		want, err := d.Features(x)
		if err != nil {
			t.Fatal(err)
		}
		got, err := net.Features(x)
		if err != nil {
			t.Fatal(err)
		}
		m := maxDiff(values(got), values(want))
		t.Logf("%v: max |network - DBN up-pass| = %g", tc.dt, m)
		if !(m <= tc.tol) {
			t.Errorf("%v: network forward pass differs from the DBN up-pass by %g (tolerance %g)", tc.dt, m, tc.tol)
		}
		v := values(got)
		if v[0] == v[1] || v[0] == v[4] {
			t.Errorf("%v: degenerate features %v", tc.dt, v[:8])
		}
		// Changing the network leaves the DBN alone.
		switch d := net.Hidden[0].W.Data().(type) {
		case []float64:
			d[0] = 123
		case []float32:
			d[0] = 123
		}
		if values(d.Gaussian.W)[0] == 123 {
			t.Errorf("%v: the network shares the Gaussian layer's weights", tc.dt)
		}
	}
}

// TestGaussianLearningRateZero: fine-tuning a network from a Gaussian DBN with learning rate 0
// (momentum and weight decay on) changes nothing, and it still reproduces the up-pass to 1e-12;
// with a positive rate the network changes and the DBN, σ included, does not.
func TestGaussianLearningRateZero(t *testing.T) {
	d := randomGaussianDBN(t, []int{6, 5, 4}, tensor.Float64, 0.5, 7)
	x, y := realData(120, 6, 3, tensor.Float64, 8)
	net, err := finetune.FromDBN(d, 3, rand.NewPCG(9, 9))
	if err != nil {
		t.Fatal(err)
	}
	before := params(net)
	if _, err := finetune.Train(context.Background(), net, x, y, finetune.Settings{
		Epochs: 3, BatchSize: 10, LearningRate: optim.Constant(0), Momentum: optim.Constant(0.9),
		WeightDecay: 1e-3, Shuffle: rand.NewPCG(1, 1),
	}); err != nil {
		t.Fatal(err)
	}
	for i, p := range params(net) {
		if !same(p, before[i]) {
			t.Errorf("parameter %d changed with learning rate 0", i)
		}
	}
	f1, _ := d.Features(x)
	f2, _ := net.Features(x)
	if m := maxDiff(values(f1), values(f2)); !(m <= 1e-12) {
		t.Errorf("after learning rate 0 the network differs from the up-pass by %g", m)
	}

	orig := [][]float64{values(d.Gaussian.W), values(d.Gaussian.C), values(d.Gaussian.LogSigma), values(d.Layers[0].W)}
	if _, err := finetune.Train(context.Background(), net, x, y, finetune.Settings{
		Epochs: 2, BatchSize: 10, LearningRate: optim.Constant(0.5), Momentum: optim.Constant(0.5),
		Shuffle: rand.NewPCG(2, 2),
	}); err != nil {
		t.Fatal(err)
	}
	if same(values(net.Hidden[0].W), before[0]) {
		t.Error("the first layer did not change with learning rate 0.5")
	}
	for i, p := range [][]float64{values(d.Gaussian.W), values(d.Gaussian.C), values(d.Gaussian.LogSigma), values(d.Layers[0].W)} {
		if !same(p, orig[i]) {
			t.Errorf("DBN tensor %d changed by fine-tuning", i)
		}
	}
}

// TestGaussianAutoencoderRefused: UnrollAutoencoder refuses a Gaussian-visible DBN (its decoder
// would need linear outputs) instead of silently dropping the bottom layer.
func TestGaussianAutoencoderRefused(t *testing.T) {
	d, err := models.NewGaussianDBN([]int{5, 4, 3}, tensor.Float64, rand.NewPCG(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := finetune.UnrollAutoencoder(d, nil); err == nil || !strings.Contains(err.Error(), "Gaussian visible layer") {
		t.Fatalf("error %v, want one naming the Gaussian visible layer", err)
	}
}
