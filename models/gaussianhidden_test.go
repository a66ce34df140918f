package models_test

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
)

// ghModel returns a 4×2 GaussianHiddenRBM with N(0, 0.7²) weights and small biases.
func ghModel(t *testing.T, dt tensor.Dtype) *models.GaussianHiddenRBM {
	t.Helper()
	m, err := models.NewGaussianHiddenRBM(4, 2, dt, rand.NewPCG(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	w := make([]float64, 8)
	for i := range w {
		w[i] = 0.7 * r.NormFloat64()
	}
	m.W = dense(dt, []int{4, 2}, w)
	m.B = dense(dt, []int{4}, []float64{0.2, -0.4, 0.1, 0})
	m.C = dense(dt, []int{2}, []float64{0.3, -0.1})
	return m
}

// TestGaussianHiddenLogZ checks LogZ and FreeEnergy against the energy E(v,h) = -bᵀv - cᵀh - vᵀWh
// + ½‖h‖² summed over the 16 visible states and integrated over h numerically (Riemann sum on a
// grid of step 0.05 over ±10, exact to far below 1e-9 for this Gaussian integrand).
func TestGaussianHiddenLogZ(t *testing.T) {
	m := ghModel(t, tensor.Float64)
	w, b, c := floats(m.W), floats(m.B), floats(m.C)
	const step, half = 0.05, 200
	logZ := math.Inf(-1)
	var states []float64
	var wantF []float64
	for s := 0; s < 16; s++ {
		v := []float64{float64(s & 1), float64(s >> 1 & 1), float64(s >> 2 & 1), float64(s >> 3 & 1)}
		states = append(states, v...)
		vb := 0.0
		a := append([]float64(nil), c...)
		for i := range v {
			vb += b[i] * v[i]
			for j := range a {
				a[j] += v[i] * w[i*2+j]
			}
		}
		z := 0.0
		for p := -half; p <= half; p++ {
			for q := -half; q <= half; q++ {
				h0, h1 := float64(p)*step, float64(q)*step
				z += math.Exp(vb + a[0]*h0 + a[1]*h1 - 0.5*(h0*h0+h1*h1))
			}
		}
		f := -math.Log(z * step * step)
		wantF = append(wantF, f)
		logZ = math.Log(math.Exp(logZ) + math.Exp(-f))
	}
	got, err := m.LogZ()
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got-logZ) > 1e-9 {
		t.Errorf("LogZ %.12g, numerical %.12g", got, logZ)
	}
	f, err := m.FreeEnergy(dense(tensor.Float64, []int{16, 4}, states))
	if err != nil {
		t.Fatal(err)
	}
	for i := range f {
		if math.Abs(f[i]-wantF[i]) > 1e-9 {
			t.Errorf("F(state %d) = %.12g, numerical %.12g", i, f[i], wantF[i])
		}
	}
}

// TestGaussianHiddenInference checks HiddenMean (c + vW) and Reconstruct (σ(b + (c + vW)Wᵀ))
// against direct float64 sums, float32 and float64.
func TestGaussianHiddenInference(t *testing.T) {
	x := []float64{1, 0, 0.5, 1, 0, 0, 0, 0, 0.25, 1, 1, 0.75}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		m := ghModel(t, dt)
		w, b, c := floats(m.W), floats(m.B), floats(m.C)
		tol := 1e-12
		if dt.Eq(tensor.Float32) {
			tol = 1e-5
		}
		v := dense(dt, []int{3, 4}, x)
		h, err := m.HiddenMean(v)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := m.Reconstruct(v)
		if err != nil {
			t.Fatal(err)
		}
		hg, rg := floats(h), floats(rec)
		for r := 0; r < 3; r++ {
			a := append([]float64(nil), c...)
			for i := 0; i < 4; i++ {
				for j := 0; j < 2; j++ {
					a[j] += x[r*4+i] * w[i*2+j]
				}
			}
			for j := 0; j < 2; j++ {
				if math.Abs(hg[r*2+j]-a[j]) > tol {
					t.Errorf("%v: code[%d,%d] = %v, want %v", dt, r, j, hg[r*2+j], a[j])
				}
			}
			for i := 0; i < 4; i++ {
				l := b[i] + a[0]*w[i*2] + a[1]*w[i*2+1]
				if want := 1 / (1 + math.Exp(-l)); math.Abs(rg[r*4+i]-want) > tol {
					t.Errorf("%v: reconstruction[%d,%d] = %v, want %v", dt, r, i, rg[r*4+i], want)
				}
			}
		}
	}
	m := ghModel(t, tensor.Float64)
	if _, err := m.HiddenMean(dense(tensor.Float64, []int{1, 4}, []float64{0, 2, 0, 0})); err == nil {
		t.Error("HiddenMean accepted a value of 2 for a binary visible unit")
	}
	if _, err := m.LogZ(); err != nil {
		t.Error(err)
	}
	big, _ := models.NewGaussianHiddenRBM(models.MaxExactUnits+1, 2, tensor.Float64, rand.NewPCG(1, 1))
	if _, err := big.LogZ(); err == nil {
		t.Error("LogZ enumerated more than MaxExactUnits visible units")
	}
}

// TestGaussianHiddenTrainAndSave trains the model with optim.Train (CD-1, visible probabilities,
// the code-layer rule of Hinton & Salakhutdinov 2006) on two noisy 4-bit prototypes and checks
// that the exact mean log-likelihood rises, then saves and reloads it.
func TestGaussianHiddenTrainAndSave(t *testing.T) {
	m, err := models.NewGaussianHiddenRBM(4, 2, tensor.Float64, rand.NewPCG(5, 6))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 8))
	protos := [][]float64{{1, 1, 0, 0}, {0, 0, 1, 1}}
	var x []float64
	for n := 0; n < 200; n++ {
		p := protos[n%2]
		for _, bit := range p {
			if r.Float64() < 0.05 {
				bit = 1 - bit
			}
			x = append(x, bit)
		}
	}
	data := dense(tensor.Float64, []int{200, 4}, x)
	ll := func() float64 {
		logZ, err := m.LogZ()
		if err != nil {
			t.Fatal(err)
		}
		f, err := m.FreeEnergy(data)
		if err != nil {
			t.Fatal(err)
		}
		s := 0.0
		for _, v := range f {
			s += -v - logZ
		}
		return s / float64(len(f))
	}
	before := ll()
	if _, err := optim.Train(context.Background(), m, data, optim.Settings{
		Estimator: optim.CD{VisibleProbabilities: true}, Epochs: 60, BatchSize: 20,
		LearningRate: optim.Constant(0.02), Momentum: optim.Constant(0.5), MonitorRows: -1,
		Shuffle: rand.NewPCG(1, 1), Chains: rand.NewPCG(1, 2),
	}); err != nil {
		t.Fatal(err)
	}
	after := ll()
	// 4 independent fair bits give -4 log 2 = -2.77 nats; the data's entropy is about 1.47 nats.
	if !(after > before+0.5) {
		t.Errorf("mean log-likelihood %v before training, %v after; want a rise of more than 0.5 nats", before, after)
	}
	path := filepath.Join(t.TempDir(), "code.rbm")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := models.LoadGaussianHiddenRBM(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range floats(got.W) {
		if v != floats(m.W)[i] {
			t.Fatalf("reloaded W[%d] = %v, saved %v", i, v, floats(m.W)[i])
		}
	}
	if _, err := models.LoadRBM(path); err == nil {
		t.Error("LoadRBM read a GaussianHiddenRBM file")
	}
}
