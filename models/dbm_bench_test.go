package models

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

// BenchmarkDBMGradient is one joint-training update's gradient estimate of a 784-500-1000 DBM
// (batch 100, ≤ 10 mean-field sweeps, 100 chains, 5 Gibbs sweeps) on sparse binary data.
func BenchmarkDBMGradient(b *testing.B) {
	d, _ := NewDBM([]int{784, 500, 1000}, tensor.Float32, rand.NewPCG(1, 1))
	x := tensor.New(tensor.WithShape(100, 784), tensor.Of(tensor.Float32))
	r := rand.New(rand.NewPCG(2, 2))
	xs := x.Data().([]float32)
	for i := range xs {
		if r.Float64() < 0.13 {
			xs[i] = 1
		}
	}
	l := &DBMLearner{DBM: d, MeanField: MeanFieldSettings{MaxIterations: 10}}
	defer l.Close()
	src := rand.NewPCG(3, 3)
	if _, err := l.Gradient(x, src); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := l.Gradient(x, src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDBMMeanField is mean-field (≤ 10 sweeps) for 1000 rows of a 784-500-1000 DBM.
func BenchmarkDBMMeanField(b *testing.B) {
	d, _ := NewDBM([]int{784, 500, 1000}, tensor.Float32, rand.NewPCG(1, 1))
	x := tensor.New(tensor.WithShape(1000, 784), tensor.Of(tensor.Float32))
	r := rand.New(rand.NewPCG(2, 2))
	xs := x.Data().([]float32)
	for i := range xs {
		if r.Float64() < 0.13 {
			xs[i] = 1
		}
	}
	b.ResetTimer()
	for range b.N {
		if _, _, err := d.MeanField(x, MeanFieldSettings{MaxIterations: 10, Tolerance: 1e-12}); err != nil {
			b.Fatal(err)
		}
	}
}
