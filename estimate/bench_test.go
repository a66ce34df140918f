package estimate_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/estimate"
	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
)

// BenchmarkExactLogZ784x20 enumerates the 2^20 hidden states of a 784×20 RBM.
//
//	go test -run XXX -bench ExactLogZ784x20 ./estimate/
func BenchmarkExactLogZ784x20(b *testing.B) {
	m := randomParams(784, 20, 0.3, -1, 1, 1).model(b)
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		if _, err := estimate.ExactLogZ(m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAIS784x500 runs AIS with 100 runs over the default 14,501-value schedule on a 784×500
// RBM: the model saved at $EBM_AIS_MODEL (e.g. out/rbm-mnist/model.rbm written by
// `go run ./examples/rbm-mnist -epochs 5 -binarize threshold`) annealed from the base rate of the
// thresholded MNIST training images, or, without it, a random model (W ~ N(0, 0.05²), hidden
// probabilities near 1/2, the slowest case for the incremental row updates) from a uniform base.
//
//	EBM_AIS_MODEL=out/rbm-mnist/model.rbm go test -run XXX -bench AIS784x500 -benchtime 1x -timeout 30m ./estimate/
func BenchmarkAIS784x500(b *testing.B) {
	var m *estimate.BernoulliRBM
	var base []float64
	if file := os.Getenv("EBM_AIS_MODEL"); file != "" {
		r, err := models.LoadRBM(file)
		if err != nil {
			b.Fatal(err)
		}
		if m, err = estimate.NewBernoulliRBM(r.W, r.B, r.C); err != nil {
			b.Fatal(err)
		}
		train := mnistThresholded(b, 0, tensor.Float32)
		if base, err = estimate.BaseRateBiases(train); err != nil {
			b.Fatal(err)
		}
	} else {
		m = randomParams(784, 500, 0.05, -1, 0.5, 1).model(b)
	}
	p := path(b, m, base)
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		began := time.Now()
		r, err := estimate.AIS(context.Background(), p, estimate.Settings{}, rand.NewPCG(uint64(n), 1))
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("784×%d, %d runs × %d distributions: log Z = %.3f ± %.3f [%.3f, %.3f], ESS %.1f, %.1f s",
			m.NumHidden(), len(r.LogWeights), r.Distributions, r.LogZ, r.StdErr, r.Lower, r.Upper, r.EffectiveRuns, time.Since(began).Seconds())
	}
}

// BenchmarkAIS784x20MNIST trains a 784×20 RBM on the thresholded MNIST training images with
// CD-1 (lr 0.1, $EBM_EPOCHS epochs, default 3) and checks AIS (100 runs, default schedule, base
// rate of the training images) against the exact log Z for 10 seeds: each estimate within 0.3
// nats, the exact value inside ±3σ for at least 9. It fails (b.Error) when either does not hold.
// Each seed's result goes to stderr as it finishes.
//
//	go test -run XXX -bench AIS784x20MNIST -benchtime 1x -timeout 60m ./estimate/
func BenchmarkAIS784x20MNIST(b *testing.B) {
	epochs := 3
	if s := os.Getenv("EBM_EPOCHS"); s != "" {
		var err error
		if epochs, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	train := mnistThresholded(b, 0, tensor.Float32)
	r, err := models.NewRBM(784, 20, tensor.Float32, rand.NewPCG(1, 1))
	if err != nil {
		b.Fatal(err)
	}
	if err := r.InitVisibleBiases(train); err != nil {
		b.Fatal(err)
	}
	began := time.Now()
	if _, err := optim.Train(context.Background(), r, train, optim.Settings{
		Estimator: optim.CD{K: 1}, Epochs: epochs, BatchSize: 100, LearningRate: optim.Constant(0.1),
		Momentum: optim.HintonMomentum(), WeightDecay: 2e-4,
		Shuffle: rand.NewPCG(1, 2), Chains: rand.NewPCG(1, 3), Monitor: rand.NewPCG(1, 4),
	}); err != nil {
		b.Fatal(err)
	}
	b.Logf("trained 784×20 CD-1 for %d epochs in %.1f s", epochs, time.Since(began).Seconds())
	m, err := estimate.NewBernoulliRBM(r.W, r.B, r.C)
	if err != nil {
		b.Fatal(err)
	}
	began = time.Now()
	exact, err := estimate.ExactLogZ(m)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("exact log Z = %.4f (%.2f s)", exact, time.Since(began).Seconds())
	base, err := estimate.BaseRateBiases(train)
	if err != nil {
		b.Fatal(err)
	}
	p := path(b, m, base)
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		inside, worst := 0, 0.0
		for seed := uint64(1); seed <= 10; seed++ {
			began := time.Now()
			res, err := estimate.AIS(context.Background(), p, estimate.Settings{}, rand.NewPCG(seed, uint64(n)))
			if err != nil {
				b.Fatal(err)
			}
			in := res.Lower <= exact && exact <= res.Upper
			if in {
				inside++
			}
			worst = math.Max(worst, math.Abs(res.LogZ-exact))
			fmt.Fprintf(os.Stderr, "seed %2d: AIS log Z = %.4f ± %.4f [%.4f, %.4f], error %+.4f, exact inside: %v, ESS %.1f, %.1f s\n",
				seed, res.LogZ, res.StdErr, res.Lower, res.Upper, res.LogZ-exact, in, res.EffectiveRuns, time.Since(began).Seconds())
		}
		b.Logf("largest |AIS - exact| = %.4f nats; exact inside ±3σ for %d of 10 seeds", worst, inside)
		if worst > 0.3 || inside < 9 {
			b.Errorf("acceptance not met: largest error %.4f (limit 0.3), inside %d of 10 (need 9)", worst, inside)
		}
	}
}

// mnistThresholded loads the first n (0 = all) MNIST training images thresholded at 0.5.
func mnistThresholded(b testing.TB, n int, dt tensor.Dtype) *tensor.Dense {
	mn, err := datasets.LoadMNIST("")
	if err != nil {
		b.Skip("MNIST not available:", err)
	}
	x, err := mn.Train.Matrix(n, dt)
	if err != nil {
		b.Fatal(err)
	}
	if x, err = datasets.Threshold(x, 0.5); err != nil {
		b.Fatal(err)
	}
	return x
}
