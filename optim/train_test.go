package optim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
)

func dense(dt tensor.Dtype, shape []int, v []float64) *tensor.Dense {
	t := tensor.New(tensor.WithShape(shape...), tensor.Of(dt))
	switch d := t.Data().(type) {
	case []float64:
		copy(d, v)
	case []float32:
		for i := range d {
			d[i] = float32(v[i])
		}
	}
	return t
}

func floats(t *tensor.Dense) []float64 {
	switch d := t.Data().(type) {
	case []float64:
		return append([]float64(nil), d...)
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	}
	return nil
}

func mean(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// barsAndStripes returns the 14 distinct 3×3 bars-and-stripes images (MacKay 2003): every
// subset of rows on, or every subset of columns on (all-off and all-on appear once each).
func barsAndStripes() [][]float64 {
	seen := map[string]bool{}
	var out [][]float64
	for mask := 0; mask < 8; mask++ {
		for _, vertical := range []bool{false, true} {
			img := make([]float64, 9)
			for r := 0; r < 3; r++ {
				for c := 0; c < 3; c++ {
					line := r
					if vertical {
						line = c
					}
					if mask>>line&1 == 1 {
						img[3*r+c] = 1
					}
				}
			}
			key := ""
			for _, x := range img {
				key += string('0' + rune(x))
			}
			if !seen[key] {
				seen[key] = true
				out = append(out, img)
			}
		}
	}
	return out
}

// TestBarsAndStripesLikelihoodRises trains a 9×16 RBM on 3×3 bars-and-stripes (14 patterns,
// each repeated 20 times) and checks with exact enumeration that the average log-likelihood rises
// from its initial value (≈ -9·ln 2 = -6.24 nats for near-zero weights) by at least 2 nats, for
// CD-1 (lr 0.1, momentum 0.5→0.9, 150 epochs) and PCD-1 (lr 0.3/(1+0.05·epoch), no momentum,
// 200 epochs; PCD with momentum 0.9 oscillates on this data set, as Fischer & Igel 2010 report
// for large steps), in float64 and float32. The best possible value, the uniform distribution
// over the 14 patterns, is log(1/14) = -2.64 nats.
func TestBarsAndStripesLikelihoodRises(t *testing.T) {
	pats := barsAndStripes()
	if len(pats) != 14 {
		t.Fatalf("%d bars-and-stripes patterns, want 14", len(pats))
	}
	var rows []float64
	for rep := 0; rep < 20; rep++ {
		for _, p := range pats {
			rows = append(rows, p...)
		}
	}
	n := len(rows) / 9
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		for _, tc := range []struct {
			est    optim.CD
			epochs int
			lr     optim.Schedule
			mom    optim.Schedule
		}{
			{optim.CD{K: 1}, 150, optim.Constant(0.1), optim.HintonMomentum()},
			{optim.CD{K: 1, Persistent: true}, 200, optim.InverseDecay{Rate: 0.3, Decay: 0.05}, nil},
		} {
			est := tc.est
			t.Run(dt.String()+"/"+est.String(), func(t *testing.T) {
				data := dense(dt, []int{n, 9}, rows)
				m, err := models.NewRBM(9, 16, dt, rand.NewPCG(1, 1))
				if err != nil {
					t.Fatal(err)
				}
				before, err := m.LogLikelihood(data)
				if err != nil {
					t.Fatal(err)
				}
				_, err = optim.Train(context.Background(), m, data, optim.Settings{
					Estimator:    est,
					Epochs:       tc.epochs,
					BatchSize:    14,
					LearningRate: tc.lr,
					Momentum:     tc.mom,
					Shuffle:      rand.NewPCG(2, 2),
					Chains:       rand.NewPCG(3, 3),
					MonitorRows:  -1,
				})
				if err != nil {
					t.Fatal(err)
				}
				after, err := m.LogLikelihood(data)
				if err != nil {
					t.Fatal(err)
				}
				b, a := mean(before), mean(after)
				t.Logf("%s %v: average log-likelihood %.3f → %.3f nats", est, dt, b, a)
				if a < b+2 {
					t.Errorf("average log-likelihood rose from %.3f to %.3f; want a rise of at least 2 nats", b, a)
				}
			})
		}
	}
}

// TestTrainingIsReproducible checks that the same seeds give bit-identical parameters and that
// different chain seeds give different ones.
func TestTrainingIsReproducible(t *testing.T) {
	pats := barsAndStripes()
	var rows []float64
	for _, p := range pats {
		rows = append(rows, p...)
	}
	train := func(chainSeed uint64) []float64 {
		m, err := models.NewRBM(9, 5, tensor.Float32, rand.NewPCG(1, 1))
		if err != nil {
			t.Fatal(err)
		}
		_, err = optim.Train(context.Background(), m, dense(tensor.Float32, []int{14, 9}, rows), optim.Settings{
			Estimator: optim.CD{K: 2, Persistent: true}, Epochs: 5, BatchSize: 7,
			Shuffle: rand.NewPCG(2, 2), Chains: rand.NewPCG(chainSeed, 3), WeightDecay: 1e-3,
		})
		if err != nil {
			t.Fatal(err)
		}
		return append(floats(m.W), append(floats(m.B), floats(m.C)...)...)
	}
	a, b, c := train(3), train(3), train(4)
	differ := false
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("parameter %d: %v vs %v with the same seeds", i, a[i], b[i])
		}
		differ = differ || a[i] != c[i]
	}
	if !differ {
		t.Error("a different chain seed gave identical parameters")
	}
}

// TestWeightDecayReachesWeights checks the update rule with momentum and L2 weight decay on a
// model whose CD gradient is exactly zero: one visible and one hidden unit, data v = 0 and a
// visible bias of -200, so every negative sample is v = 0 as well (probability 1 - e^-200). Only
// the decay then moves W, following Δ ← μΔ - ελW, W ← W + Δ, and the bias must not move.
func TestWeightDecayReachesWeights(t *testing.T) {
	m, err := models.NewRBMFromParams(dense(tensor.Float64, []int{1, 1}, []float64{1}), dense(tensor.Float64, []int{1}, []float64{-200}), dense(tensor.Float64, []int{1}, []float64{0}))
	if err != nil {
		t.Fatal(err)
	}
	const lr, decay, mom, steps = 0.1, 0.5, 0.5, 3
	_, err = optim.Train(context.Background(), m, dense(tensor.Float64, []int{1, 1}, []float64{0}), optim.Settings{
		Epochs: steps, BatchSize: 1, LearningRate: optim.Constant(lr), Momentum: optim.Constant(mom),
		WeightDecay: decay, Shuffle: rand.NewPCG(1, 1), Chains: rand.NewPCG(1, 1), MonitorRows: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	w, vel := 1.0, 0.0
	for i := 0; i < steps; i++ {
		vel = mom*vel - lr*decay*w
		w += vel
	}
	if got := floats(m.W)[0]; math.Abs(got-w) > 1e-15 {
		t.Errorf("W after %d decayed steps = %.17g, want %.17g", steps, got, w)
	}
	if got := floats(m.B)[0]; got != -200 {
		t.Errorf("visible bias changed to %v: biases must not be decayed", got)
	}
}

// TestB06PersistentChainsCarryOver checks that PCD chains keep their state between minibatches:
// with a model whose conditionals are all deterministic except through the chain, the chain
// state after a step differs from the data and is the starting point of the next step.
func TestB06PersistentChainsCarryOver(t *testing.T) {
	m, err := models.NewRBM(4, 3, tensor.Float64, rand.NewPCG(9, 9))
	if err != nil {
		t.Fatal(err)
	}
	zeros := dense(tensor.Float64, []int{100, 4}, make([]float64, 400))
	tr, err := optim.NewTrainer(m, 100, optim.Settings{
		Estimator: optim.CD{Persistent: true}, Epochs: 1, BatchSize: 100,
		Shuffle: rand.NewPCG(1, 1), Chains: rand.NewPCG(42, 0), MonitorRows: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if _, err := tr.Epochs(context.Background(), zeros, 1); err != nil {
		t.Fatal(err)
	}
	first := floats(tr.Chains())
	if mean(first) < 0.2 {
		t.Fatalf("after one PCD step from all-zero data the chains hold %v ones on average; expected ≈ 0.5", mean(first))
	}
	if _, err := tr.Epochs(context.Background(), zeros, 1); err != nil {
		t.Fatal(err)
	}
	second := floats(tr.Chains())
	same := true
	for i := range first {
		same = same && first[i] == second[i]
	}
	if same {
		t.Error("persistent chains did not move between minibatches")
	}
}

// TestEpochRecords checks monitoring output: JSON lines, validation metrics and the gap.
func TestEpochRecords(t *testing.T) {
	pats := barsAndStripes()
	var rows []float64
	for _, p := range pats {
		rows = append(rows, p...)
	}
	m, err := models.NewRBM(9, 6, tensor.Float64, rand.NewPCG(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	var buf, bar bytes.Buffer
	calls := 0
	recs, err := optim.Train(context.Background(), m, dense(tensor.Float64, []int{14, 9}, rows), optim.Settings{
		Epochs: 3, BatchSize: 7, Shuffle: rand.NewPCG(1, 1), Chains: rand.NewPCG(1, 2),
		Validation: dense(tensor.Float64, []int{7, 9}, rows[:63]),
		Record:     &buf, Progress: &bar,
		OnEpoch: func(optim.EpochRecord) error { calls++; return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || calls != 3 {
		t.Fatalf("%d records, %d callbacks; want 3", len(recs), calls)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d JSON lines, want 3", len(lines))
	}
	var r optim.EpochRecord
	if err := json.Unmarshal([]byte(lines[2]), &r); err != nil {
		t.Fatal(err)
	}
	if r.Epoch != 3 || r.Validation == nil || r.Train.Rows != 14 || r.Validation.Rows != 7 {
		t.Errorf("record %+v", r)
	}
	if gap := r.Validation.FreeEnergy - r.Train.FreeEnergy; r.FreeEnergyGap != gap {
		t.Errorf("free-energy gap %v, want %v", r.FreeEnergyGap, gap)
	}
	if !(r.Train.ReconCrossEntropy > 0) || !(r.Train.PseudoLikelihood < 0) || !(r.Train.ExactPseudoLikelihood < 0) {
		t.Errorf("train metrics %+v: want positive cross-entropy and negative pseudo-likelihood", r.Train)
	}
	if bar.Len() == 0 {
		t.Error("no progress bar written")
	}
}

// TestTrainErrors checks bad settings and data give errors naming the problem.
func TestTrainErrors(t *testing.T) {
	m, err := models.NewRBM(3, 2, tensor.Float64, rand.NewPCG(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	good := dense(tensor.Float64, []int{4, 3}, make([]float64, 12))
	ok := optim.Settings{Epochs: 1, Shuffle: rand.NewPCG(1, 1), Chains: rand.NewPCG(1, 1)}
	cases := []struct {
		name string
		data *tensor.Dense
		mod  func(*optim.Settings)
		want string
	}{
		{"epochs", good, func(s *optim.Settings) { s.Epochs = 0 }, "Epochs"},
		{"shuffle", good, func(s *optim.Settings) { s.Shuffle = nil }, "Shuffle"},
		{"chains", good, func(s *optim.Settings) { s.Chains = nil }, "Chains"},
		{"lr", good, func(s *optim.Settings) { s.LearningRate = optim.Constant(-1) }, "learning rate"},
		{"momentum", good, func(s *optim.Settings) { s.Momentum = optim.Constant(1) }, "momentum"},
		{"decay", good, func(s *optim.Settings) { s.WeightDecay = math.NaN() }, "WeightDecay"},
		{"columns", dense(tensor.Float64, []int{4, 5}, make([]float64, 20)), nil, "model has 3 visible units, training data has 5 columns"},
		{"dtype", dense(tensor.Float32, []int{4, 3}, make([]float64, 12)), nil, "dtype"},
		{"empty", tensor.New(tensor.WithShape(0, 3), tensor.Of(tensor.Float64)), nil, "empty"},
		{"nan", dense(tensor.Float64, []int{2, 3}, []float64{0, 0, 0, 0, 0, math.NaN()}), nil, "row 1 column 2 is NaN"},
		{"range", dense(tensor.Float64, []int{2, 3}, []float64{0, 0, 0, 0, 183, 0}), nil, "row 1 column 1 is 183"},
		{"validation", good, func(s *optim.Settings) { s.Validation = dense(tensor.Float64, []int{1, 2}, []float64{0, 0}) }, "validation data"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := ok
			if tc.mod != nil {
				tc.mod(&s)
			}
			_, err := optim.Train(context.Background(), m, tc.data, s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v; want one containing %q", err, tc.want)
			}
		})
	}
}

// TestTrainCancellation checks that a cancelled context stops training with context.Canceled.
func TestTrainCancellation(t *testing.T) {
	m, err := models.NewRBM(3, 2, tensor.Float64, rand.NewPCG(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	epochs := 0
	_, err = optim.Train(ctx, m, dense(tensor.Float64, []int{4, 3}, make([]float64, 12)), optim.Settings{
		Epochs: 100, BatchSize: 2, Shuffle: rand.NewPCG(1, 1), Chains: rand.NewPCG(1, 1),
		OnEpoch: func(optim.EpochRecord) error {
			epochs++
			if epochs == 2 {
				cancel()
			}
			return nil
		},
	})
	if !errors.Is(err, context.Canceled) || epochs != 2 {
		t.Errorf("after cancel in epoch 2: err %v, %d epochs run", err, epochs)
	}
}

// TestNonFiniteTrainingFails checks that a diverging run stops with an error naming the epoch.
func TestNonFiniteTrainingFails(t *testing.T) {
	m, err := models.NewRBM(3, 2, tensor.Float32, rand.NewPCG(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	_, err = optim.Train(context.Background(), m, dense(tensor.Float32, []int{4, 3}, []float64{1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0}), optim.Settings{
		Epochs: 50, BatchSize: 4, LearningRate: optim.Constant(1e38), Shuffle: rand.NewPCG(1, 1), Chains: rand.NewPCG(1, 1), MonitorRows: -1,
	})
	if err == nil || !strings.Contains(err.Error(), "epoch") || !strings.Contains(err.Error(), "non-finite") {
		t.Errorf("learning rate 1e38: error %v; want a non-finite error naming the epoch", err)
	}
}

// TestB05OneBitPseudoLikelihood is case B05 (b): for P3x2 at v = 101 the one-bit estimator returns
// 3·log p(v_i|v_-i) ∈ {-2.473521, -2.775318, -1.476771}; its average over draws is the exact sum
// -2.241870 (unbiased); the same seed gives the same draws.
func TestB05OneBitPseudoLikelihood(t *testing.T) {
	m, err := models.NewRBMFromParams(dense(tensor.Float64, []int{3, 2}, []float64{1, -1, 0.5, 0.5, -1, 2}),
		dense(tensor.Float64, []int{3}, []float64{0.1, -0.2, 0.3}), dense(tensor.Float64, []int{2}, []float64{0, -0.5}))
	if err != nil {
		t.Fatal(err)
	}
	const n = 30000
	rows := make([]float64, 0, 3*n)
	for i := 0; i < n; i++ {
		rows = append(rows, 1, 0, 1)
	}
	ev, err := optim.NewEvaluator(m, 100)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	x := dense(tensor.Float64, []int{n, 3}, rows)
	rv, err := ev.Rows(x, rand.NewPCG(5, 5))
	if err != nil {
		t.Fatal(err)
	}
	terms := []float64{-2.473521, -2.775318, -1.476771}
	for i, v := range rv.PseudoLikelihood {
		ok := false
		for _, want := range terms {
			ok = ok || math.Abs(v-want) < 1e-6
		}
		if !ok {
			t.Fatalf("row %d: one-bit estimate %v is not one of %v", i, v, terms)
		}
	}
	// Standard deviation of one draw: about 0.57 nats; 4 standard errors of the mean ≈ 0.013.
	if got := mean(rv.PseudoLikelihood); math.Abs(got-(-2.241870)) > 4*0.57/math.Sqrt(n) {
		t.Errorf("mean one-bit estimate %v, want the exact sum -2.241870", got)
	}
	again, err := ev.Rows(x, rand.NewPCG(5, 5))
	if err != nil {
		t.Fatal(err)
	}
	for i := range again.PseudoLikelihood {
		if again.PseudoLikelihood[i] != rv.PseudoLikelihood[i] {
			t.Fatalf("row %d differs between two runs with the same seed", i)
		}
	}
}
