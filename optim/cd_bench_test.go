package optim_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/graph"
	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
)

// unfusedRBM is a models.RBM whose graph is built from Gorgonia's generic ops
// (graph.RBM.Unfused): the reference the fused kernels are checked and timed against.
type unfusedRBM struct{ *models.RBM }

func (m unfusedRBM) Bind(g *G.ExprGraph) (graph.EnergyModel, error) {
	b, err := m.RBM.Bind(g)
	if err != nil {
		return nil, err
	}
	br, ok := b.(*models.BoundRBM)
	if !ok {
		return nil, fmt.Errorf("models.RBM.Bind returned a %T", b)
	}
	br.Unfused = true
	return br, nil
}

// cpuTime is the process's user + system CPU time: on a shared machine it measures the work
// done, where wall time measures the work plus the time other processes held the cores.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// mnistBatch returns the first rows of the MNIST training images scaled to [0,1], or nil when
// MNIST is not available.
func mnistBatch(rows int, dt tensor.Dtype) *tensor.Dense {
	m, err := datasets.LoadMNIST("")
	if err != nil {
		return nil
	}
	x, err := m.Train.Matrix(rows, dt)
	if err != nil {
		return nil
	}
	return x
}

// BenchmarkCDStep times CD-1 minibatch updates (Gibbs step, gradient, momentum update) of a
// 784×500 RBM with batches of 100 MNIST images (grey levels in [0,1], about 19% non-zero; the
// first 1,000 images, cycled), fused (the default graph) and unfused, and reports the CPU time
// per step beside the wall time (cpu-ns/op; the two cores are shared, so wall time is noisy):
//
//	go test -run '^$' -bench CDStep -benchmem ./optim/
//
// The per-op figures are per minibatch: multiply ns/op by 600 for an MNIST epoch.
func BenchmarkCDStep(b *testing.B) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		data := mnistBatch(1000, dt)
		if data == nil {
			b.Skip("MNIST not found")
		}
		for _, variant := range []string{"fused", "unfused"} {
			for _, est := range []optim.CD{{K: 1}, {K: 1, VisibleProbabilities: true}, {K: 1, Persistent: true}} {
				name := fmt.Sprintf("%v/%s/%v", dt, variant, est)
				b.Run(name, func(b *testing.B) {
					rbm, err := models.NewRBM(784, 500, dt, rand.NewPCG(1, 1))
					if err != nil {
						b.Fatal(err)
					}
					var m optim.Model = rbm
					if variant == "unfused" {
						m = unfusedRBM{rbm}
					}
					tr, err := optim.NewTrainer(m, 1000, optim.Settings{
						Estimator: est, Epochs: 1, BatchSize: 100, LearningRate: optim.Constant(0.05),
						Momentum: optim.Constant(0.5), Shuffle: rand.NewPCG(3, 3), Chains: rand.NewPCG(4, 4),
						MonitorRows: -1,
					})
					if err != nil {
						b.Fatal(err)
					}
					defer tr.Close()
					ctx := context.Background()
					if _, err := tr.Epochs(ctx, data, 1); err != nil { // warm-up: buffers, chains
						b.Fatal(err)
					}
					b.ReportAllocs()
					c0 := cpuTime()
					b.ResetTimer()
					done := 0
					for done < b.N {
						// Epochs over 1,000 rows run 10 steps; count them one by one.
						if _, err := tr.Epochs(ctx, data, 1); err != nil {
							b.Fatal(err)
						}
						done += 10
					}
					b.StopTimer()
					b.ReportMetric(float64(cpuTime()-c0)/float64(done), "cpu-ns/step")
					b.ReportMetric(float64(b.Elapsed())/float64(done), "ns/step")
				})
			}
		}
	}
}
