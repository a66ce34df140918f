package optim_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
)

// TestTrainFusedMatchesUnfused trains the same seeded RBM twice, with the fused graph (the
// default) and with graph.RBM.Unfused, for CD-1, CD-1 ending in visible probabilities and PCD-1
// with momentum and weight decay: the same seeds give the same samples, so the epoch costs and
// the final parameters agree to 1e-12 (float64) / 1e-5 (float32), relative to max(1, |value|).
func TestTrainFusedMatchesUnfused(t *testing.T) {
	rows := barsAndStripes()
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		tol := 1e-12
		if dt == tensor.Float32 {
			tol = 1e-5
		}
		var x []float64
		for i := 0; i < 4; i++ { // 56 rows: 8 minibatches of 7
			for _, r := range rows {
				x = append(x, r...)
			}
		}
		data := dense(dt, []int{len(x) / 9, 9}, x)
		for _, est := range []optim.CD{{K: 1}, {K: 1, VisibleProbabilities: true}, {K: 2, Persistent: true, Chains: 5}} {
			t.Run(fmt.Sprintf("%v/%v", dt, est), func(t *testing.T) {
				var params [2][][]float64
				var costs [2][]float64
				for i, unfused := range []bool{false, true} {
					rbm, err := models.NewRBM(9, 16, dt, rand.NewPCG(1, 2))
					if err != nil {
						t.Fatal(err)
					}
					var m optim.Model = rbm
					if unfused {
						m = unfusedRBM{rbm}
					}
					recs, err := optim.Train(context.Background(), m, data, optim.Settings{
						Estimator: est, Epochs: 3, BatchSize: 7, LearningRate: optim.Constant(0.1),
						Momentum: optim.Constant(0.5), WeightDecay: 1e-3,
						Shuffle: rand.NewPCG(3, 4), Chains: rand.NewPCG(5, 6), MonitorRows: -1,
					})
					if err != nil {
						t.Fatal(err)
					}
					for _, r := range recs {
						costs[i] = append(costs[i], r.Cost)
					}
					params[i] = [][]float64{floats(rbm.W), floats(rbm.B), floats(rbm.C)}
				}
				check := func(what string, got, want []float64) {
					for j := range want {
						if d := math.Abs(got[j] - want[j]); !(d <= tol*math.Max(1, math.Abs(want[j]))) {
							t.Fatalf("%s[%d]: fused %v, unfused %v (diff %g)", what, j, got[j], want[j], d)
						}
					}
				}
				check("epoch cost", costs[0], costs[1])
				for k, name := range []string{"W", "B", "C"} {
					check(name, params[0][k], params[1][k])
				}
			})
		}
	}
}
