package estimate_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/estimate"
	"github.com/ebm-go/ebm/models"
)

// TestDBMAISTiny: AIS over the even/odd form of a small DBM (DBM.AIS) lands within 0.05 nats of
// the exact log Z by enumeration, for 2- and 3-layer DBMs with weights large enough to matter.
func TestDBMAISTiny(t *testing.T) {
	for i, sizes := range [][]int{{10, 8, 6}, {8, 6, 5, 4}} {
		d, err := models.NewDBM(sizes, tensor.Float64, rand.NewPCG(uint64(i+1), 1))
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(uint64(i+1), 2))
		for _, w := range d.W {
			x := w.Data().([]float64)
			for j := range x {
				x[j] = 0.7 * r.NormFloat64()
			}
		}
		for _, b := range d.B {
			x := b.Data().([]float64)
			for j := range x {
				x[j] = 0.3 * r.NormFloat64()
			}
		}
		exact, err := d.ExactLogZ()
		if err != nil {
			t.Fatal(err)
		}
		// A base model from the DBM's own samples' marginals (BaseRateBiases of binary states).
		x0, _ := d.RandomStates(500, rand.NewPCG(3, 3))
		x, err := d.Sample(x0, 50, rand.NewPCG(3, 4))
		if err != nil {
			t.Fatal(err)
		}
		base, err := d.BaseRateBiases(x[0], models.MeanFieldSettings{})
		if err != nil {
			t.Fatal(err)
		}
		res, err := d.AIS(context.Background(), base, estimate.Settings{Runs: 100, Schedule: estimate.LinearSchedule(2000)}, rand.NewPCG(5, 5))
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(res.LogZ-exact) > 0.05 {
			t.Errorf("DBM %v: AIS log Z %.4f ± %.4f, exact %.4f: off by more than 0.05", sizes, res.LogZ, res.StdErr, exact)
		}
		// Uniform base: also fine on a small model.
		res2, err := d.AIS(context.Background(), nil, estimate.Settings{Runs: 100, Schedule: estimate.LinearSchedule(2000)}, rand.NewPCG(6, 6))
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(res2.LogZ-exact) > 0.05 {
			t.Errorf("DBM %v, uniform base: AIS log Z %.4f ± %.4f, exact %.4f", sizes, res2.LogZ, res2.StdErr, exact)
		}
		t.Logf("DBM %v: exact log Z %.4f, AIS %.4f ± %.4f (base rate), %.4f ± %.4f (uniform)", sizes, exact, res.LogZ, res.StdErr, res2.LogZ, res2.StdErr)
	}
}
