package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/estimate"
	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
	"github.com/ebm-go/ebm/viz"
)

// evaluate fills the test metrics of sum: exact and one-bit pseudo-likelihood, reconstruction
// cross-entropy and the free-energy gap between test images and as many training images.
func evaluate(m *models.RBM, train, test *tensor.Dense, seed uint64, sum *Summary) error {
	ev, err := optim.NewEvaluator(m, 100)
	if err != nil {
		return err
	}
	defer ev.Close()
	te, err := ev.Metrics(test, rand.NewPCG(seed, 5))
	if err != nil {
		return err
	}
	// Only the training images' free energies are needed for the gap.
	rows := min(test.Shape()[0], train.Shape()[0])
	ftr, err := m.FreeEnergy(firstRows(train, rows))
	if err != nil {
		return err
	}
	trainF := 0.0
	for _, f := range floats(ftr) {
		trainF += f / float64(rows)
	}
	sum.TestPseudoLikelihood = te.ExactPseudoLikelihood
	sum.TestPseudoLikelihoodOneBit = te.PseudoLikelihood
	sum.TestReconCrossEntropy = te.ReconCrossEntropy
	sum.FreeEnergyGap = te.FreeEnergy - trainF
	return nil
}

// firstRows returns the first n rows of x as a tensor sharing its backing.
func firstRows(x *tensor.Dense, n int) *tensor.Dense {
	cols := x.Shape()[1]
	var backing any
	switch d := x.Data().(type) {
	case []float64:
		backing = d[:n*cols]
	case []float32:
		backing = d[:n*cols]
	}
	return tensor.New(tensor.WithShape(n, cols), tensor.WithBacking(backing))
}

func floats(x *tensor.Dense) []float64 {
	switch d := x.Data().(type) {
	case []float64:
		return d
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	}
	return nil
}

// writeFilters writes the first n hidden units' weight vectors as 28×28 tiles, each scaled to
// its own range (grey = 0 when the tile has both signs).
func writeFilters(path string, m *models.RBM, n int) error {
	n = min(n, m.NumHidden())
	w := floats(m.W)
	nh := m.NumHidden()
	tiles := make([][]float64, n)
	for j := range tiles {
		t := make([]float64, 784)
		lim := 0.0
		for i := range t {
			t[i] = w[i*nh+j]
			lim = math.Max(lim, math.Abs(t[i]))
		}
		for i := range t {
			if lim > 0 {
				t[i] = 0.5 + 0.5*t[i]/lim
			} else {
				t[i] = 0.5
			}
		}
		tiles[j] = t
	}
	return writeMosaic(path, tiles)
}

// writeSamples runs 100 chains from random starts for steps Gibbs steps and writes the final
// visible probabilities p(v|h) as a 10×10 mosaic.
func writeSamples(path string, m *models.RBM, steps int, seed uint64) error {
	src := rand.NewPCG(seed, 7)
	v, err := m.RandomVisible(100, src)
	if err != nil {
		return err
	}
	for done := 0; done < steps; {
		k := min(50, steps-done)
		if v, err = m.Sample(v, k, src); err != nil {
			return err
		}
		done += k
	}
	p, err := m.Reconstruct(v)
	if err != nil {
		return err
	}
	x := floats(p)
	tiles := make([][]float64, 100)
	for i := range tiles {
		tiles[i] = x[i*784 : (i+1)*784]
	}
	return writeMosaic(path, tiles)
}

// writeMosaic writes 28×28 tiles with values in [0,1] (1 = white) in a square grid, atomically.
func writeMosaic(path string, tiles [][]float64) error { return viz.WriteMosaic(path, tiles, 28, 28) }

// likelihoodEval is what -eval asks for.
type likelihoodEval struct{ exact, ais bool }

func (e likelihoodEval) any() bool { return e.exact || e.ais }

// parseEval reads -eval (none, exact, ais or a comma-separated list) and checks the AIS flags.
func parseEval(c config) (likelihoodEval, error) {
	var e likelihoodEval
	for _, f := range strings.Split(c.eval, ",") {
		switch strings.TrimSpace(f) {
		case "none", "":
		case "exact":
			e.exact = true
		case "ais":
			e.ais = true
		default:
			return e, fmt.Errorf("-eval %q: want none, exact, ais or exact,ais", c.eval)
		}
	}
	if e.ais && c.aisRuns < 2 {
		return e, fmt.Errorf("-ais-runs %d: AIS needs at least 2 runs", c.aisRuns)
	}
	if c.aisDistributions == 1 || c.aisDistributions < 0 {
		return e, fmt.Errorf("-ais-distributions %d: want 0 (the reference schedule) or at least 2", c.aisDistributions)
	}
	if c.reverseRows < 0 || c.reverseRows == 1 {
		return e, fmt.Errorf("-reverse-ais %d: want 0 (off) or at least 2 test images", c.reverseRows)
	}
	if c.reverseRows > 0 && c.raiseChains < 1 {
		return e, fmt.Errorf("-raise-chains %d: want at least 1", c.raiseChains)
	}
	if c.reverseRows > 0 && !e.ais {
		return e, fmt.Errorf("-reverse-ais needs -eval ais (or exact,ais)")
	}
	return e, nil
}

// checkModel refuses -eval exact for models too large to enumerate before any training.
func (e likelihoodEval) checkModel(hidden int) error {
	if n := min(784, hidden); e.exact && n > estimate.MaxExactUnits {
		return fmt.Errorf("-eval exact: log Z of a 784×%d RBM needs 2^%d states, more than the 2^%d exact enumeration allows; use -eval ais", hidden, n, estimate.MaxExactUnits)
	}
	return nil
}

// AISSummary is the AIS part of the JSON summary: log Z with its standard error and ±3σ interval
// (null ends are infinite), the test log-likelihood it implies, and the run's cost.
type AISSummary struct {
	LogZ              float64  `json:"log_z"`
	LogZStdErr        float64  `json:"log_z_stderr"`
	LogZLower         *float64 `json:"log_z_lower"`
	LogZUpper         *float64 `json:"log_z_upper"`
	TestLogLikelihood float64  `json:"test_log_likelihood"`
	Runs              int      `json:"runs"`
	Distributions     int      `json:"distributions"`
	EffectiveRuns     float64  `json:"effective_runs"`
	Seconds           float64  `json:"seconds"`
}

// ReverseAISSummary is the reverse-AIS part: log Z from RunsPerRow chains started at each of the
// first Rows test images (the test log-likelihood it implies is the conservative side), and the mean RAISE
// log-likelihood of those images next to forward AIS's figure for the same images.
type ReverseAISSummary struct {
	LogZ                     float64  `json:"log_z"`
	LogZStdErr               float64  `json:"log_z_stderr"`
	LogZLower                *float64 `json:"log_z_lower"`
	LogZUpper                *float64 `json:"log_z_upper"`
	TestLogLikelihood        float64  `json:"test_log_likelihood"`
	Rows                     int      `json:"rows"`
	RunsPerRow               int      `json:"runs_per_row"`
	RAISELogLikelihood       float64  `json:"raise_log_likelihood"`
	RAISEStdErr              float64  `json:"raise_stderr"`
	AISLogLikelihoodSameRows float64  `json:"ais_log_likelihood_same_rows"`
	Seconds                  float64  `json:"seconds"`
}

// finite returns &x, or nil when x is infinite (JSON has no infinity).
func finite(x float64) *float64 {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return nil
	}
	return &x
}

// evaluateLikelihood fills the log-likelihood fields of sum as -eval asks: the test images' mean
// -F(v) minus an exact or AIS log Z.
func evaluateLikelihood(ctx context.Context, m *models.RBM, train, test *tensor.Dense, c config, ev likelihoodEval, sum *Summary, log io.Writer) error {
	if !ev.any() {
		return nil
	}
	em, err := estimate.NewBernoulliRBM(m.W, m.B, m.C)
	if err != nil {
		return err
	}
	f, err := em.FreeEnergies(test)
	if err != nil {
		return err
	}
	meanNegF := 0.0
	for _, v := range f {
		meanNegF -= v / float64(len(f))
	}
	set := func(method string, logZ, stdErr, lo, hi float64) {
		ll := meanNegF - logZ
		sum.LogZMethod, sum.TestLogLikelihood, sum.LogZ, sum.LogZStdErr = method, &ll, &logZ, &stdErr
		sum.LogZLower, sum.LogZUpper = finite(lo), finite(hi)
	}
	if ev.exact {
		began := time.Now()
		logZ, err := estimate.ExactLogZ(em)
		if err != nil {
			return err
		}
		secs := time.Since(began).Seconds()
		sum.ExactSeconds = &secs
		set("exact", logZ, 0, logZ, logZ)
		fmt.Fprintf(log, "exact log Z = %.4f (%.1f s): test log-likelihood %.2f nats/image\n", logZ, secs, meanNegF-logZ)
	}
	if !ev.ais {
		return nil
	}
	base, err := estimate.BaseRateBiases(train)
	if err != nil {
		return err
	}
	p, err := estimate.NewBernoulliPath(em, base)
	if err != nil {
		return err
	}
	s := estimate.Settings{Runs: c.aisRuns}
	if c.aisDistributions > 0 {
		s.Schedule = estimate.LinearSchedule(c.aisDistributions - 1)
	}
	began := time.Now()
	r, err := estimate.AIS(ctx, p, s, rand.NewPCG(c.seed, 12))
	if err != nil {
		return err
	}
	a := &AISSummary{LogZ: r.LogZ, LogZStdErr: r.StdErr, LogZLower: finite(r.Lower), LogZUpper: finite(r.Upper),
		TestLogLikelihood: meanNegF - r.LogZ, Runs: len(r.LogWeights), Distributions: r.Distributions,
		EffectiveRuns: r.EffectiveRuns, Seconds: time.Since(began).Seconds()}
	sum.AIS = a
	if !ev.exact {
		set("ais", r.LogZ, r.StdErr, r.Lower, r.Upper)
	}
	fmt.Fprintf(log, "AIS (%d runs × %d distributions, %.1f s): log Z = %.4f ± %.4f, ±3σ [%.4f, %.4f], effective runs %.1f: test log-likelihood %.2f nats/image (±3σ [%.2f, %.2f])\n",
		a.Runs, a.Distributions, a.Seconds, r.LogZ, r.StdErr, r.Lower, r.Upper, r.EffectiveRuns, a.TestLogLikelihood, meanNegF-r.Upper, meanNegF-r.Lower)
	if c.reverseRows == 0 {
		return nil
	}
	rows := min(c.reverseRows, test.Shape()[0])
	began = time.Now()
	rr, err := estimate.ReverseAIS(ctx, p, firstRows(test, rows), estimate.Settings{Runs: rows * c.raiseChains, Schedule: s.Schedule}, rand.NewPCG(c.seed, 13))
	if err != nil {
		return err
	}
	sameRows := 0.0
	for _, v := range f[:rows] {
		sameRows -= v / float64(rows)
	}
	sameRows -= r.LogZ
	sum.ReverseAIS = &ReverseAISSummary{LogZ: rr.LogZ, LogZStdErr: rr.StdErr, LogZLower: finite(rr.Lower), LogZUpper: finite(rr.Upper),
		TestLogLikelihood: meanNegF - rr.LogZ, Rows: rows, RunsPerRow: c.raiseChains, RAISELogLikelihood: rr.MeanLogLikelihood, RAISEStdErr: rr.MeanLogLikelihoodStdErr,
		AISLogLikelihoodSameRows: sameRows, Seconds: time.Since(began).Seconds()}
	fmt.Fprintf(log, "reverse AIS, %d runs from each of %d test images (%.1f s): log Z = %.4f ± %.4f: test log-likelihood %.2f nats/image; RAISE on those images %.2f ± %.2f (forward AIS on them %.2f)\n",
		c.raiseChains, rows, sum.ReverseAIS.Seconds, rr.LogZ, rr.StdErr, meanNegF-rr.LogZ, rr.MeanLogLikelihood, rr.MeanLogLikelihoodStdErr, sameRows)
	return nil
}
