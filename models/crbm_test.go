package models_test

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
)

func caseB20(t *testing.T, dt tensor.Dtype) *models.CRBM {
	m, err := models.NewCRBM(2, 1, 1, false, dt, rand.NewPCG(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	m.W = dense(dt, []int{2, 1}, []float64{1, -1})
	m.B, m.C = dense(dt, []int{2}, []float64{0, 0}), dense(dt, []int{1}, []float64{0})
	m.UH = dense(dt, []int{2, 1}, []float64{0.5, 0.5})   // the case's A: u → h
	m.UV = dense(dt, []int{2, 2}, []float64{1, 0, 0, 1}) // the case's B = I₂: u → dynamic visible bias
	return m
}

// TestB20ConditionalRBM is case B20: dynamic biases, p(h|v,u), F(v|u), log Z(u), log p(v|u);
// [v,u] concatenated where v is expected and mixed dtypes are errors.
func TestB20ConditionalRBM(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		m := caseB20(t, dt)
		v, u := dense(dt, []int{1, 2}, []float64{1, 0}), dense(dt, []int{1, 2}, []float64{1, 1})
		tol := 1e-9
		if dt.Eq(tensor.Float32) {
			tol = 1e-6
		}
		ph, err := m.HiddenProbs(v, u)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "p(h=1|v,u) "+dt.String(), floats(ph), []float64{0.880797078}, tol)
		f, err := m.FreeEnergy(v, u)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "F(v|u)", floats(f), []float64{-3.126928011}, tol*10)
		logZ, err := m.ExactLogZ(u)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "log Z(u)", logZ, []float64{4.084853956}, tol*10)
		near(t, "log p(v|u)", []float64{-floats(f)[0] - logZ[0]}, []float64{-0.957925945}, tol*10)
		if _, err := m.HiddenProbs(dense(dt, []int{1, 4}, []float64{1, 0, 1, 1}), u); err == nil || !strings.Contains(err.Error(), "concatenated") {
			t.Errorf("[v,u] passed as v: error %v", err)
		}
	}
	m := caseB20(t, tensor.Float32)
	if _, err := m.HiddenProbs(dense(tensor.Float64, []int{1, 2}, []float64{1, 0}), dense(tensor.Float32, []int{1, 2}, []float64{1, 1})); err == nil || !strings.Contains(err.Error(), "dtype") {
		t.Errorf("float64 frames for a float32 CRBM: error %v", err)
	}
	m.UV = dense(tensor.Float64, []int{2, 2}, []float64{1, 0, 0, 1})
	if err := m.Check(); err == nil {
		t.Error("float64 UV in a float32 CRBM: no error")
	}
}

// TestCRBMLearnsDeterministicSequence trains an order-1 CRBM on a cyclic sequence of 4 binary
// patterns, where each frame determines the next, and checks its mean-field prediction of the next
// frame against repeating the last frame.
func TestCRBMLearnsDeterministicSequence(t *testing.T) {
	pats := [][]float64{{1, 0, 0, 1, 0, 1}, {0, 1, 1, 0, 0, 1}, {1, 1, 0, 0, 1, 0}, {0, 0, 1, 1, 1, 1}}
	var seq []float64
	for i := 0; i < 40; i++ {
		seq = append(seq, pats[i%4]...)
	}
	m, err := models.NewCRBM(6, 8, 1, false, tensor.Float64, rand.NewPCG(2, 2))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := m.Windows(dense(tensor.Float64, []int{40, 6}, seq))
	if err != nil {
		t.Fatal(err)
	}
	if s := rows.Shape(); s[0] != 39 || s[1] != 12 {
		t.Fatalf("windows shape %v; want (39, 12)", s)
	}
	_, err = optim.Train(context.Background(), m.Trainable(), rows, optim.Settings{
		Estimator: optim.CD{K: 1, VisibleProbabilities: true}, Epochs: 300, BatchSize: 13,
		LearningRate: optim.Constant(0.1), Momentum: optim.HintonMomentum(),
		Shuffle: rand.NewPCG(3, 3), Chains: rand.NewPCG(4, 4), MonitorRows: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	u := make([]float64, 0, 24)
	want := make([]float64, 0, 24)
	for i := 0; i < 4; i++ {
		u = append(u, pats[i]...)
		want = append(want, pats[(i+1)%4]...)
	}
	pred, err := m.Predict(dense(tensor.Float64, []int{4, 6}, u), 5)
	if err != nil {
		t.Fatal(err)
	}
	mse := func(a, b []float64) float64 {
		s := 0.0
		for i := range a {
			s += (a[i] - b[i]) * (a[i] - b[i])
		}
		return s / float64(len(a))
	}
	got, repeat := mse(floats(pred), want), mse(u, want)
	t.Logf("next-frame MSE: CRBM %.4f, repeat last frame %.4f", got, repeat)
	if got > 0.05 {
		t.Errorf("CRBM next-frame MSE %.4f; want < 0.05 (repeating the last frame gives %.4f)", got, repeat)
	}
	gen, err := m.Generate(dense(tensor.Float64, []int{1, 6}, pats[0]), 4, 3, rand.NewPCG(5, 5))
	if err != nil {
		t.Fatal(err)
	}
	g := floats(gen)
	for f := 0; f < 4; f++ {
		for i := 0; i < 6; i++ {
			if math.Abs(g[f*6+i]-pats[(f+1)%4][i]) > 0.5 {
				t.Errorf("generated frame %d = %v, want %v", f, g[f*6:f*6+6], pats[(f+1)%4])
				break
			}
		}
	}
}
