// Command dbm-mnist trains a deep Boltzmann machine on the MNIST digits as Salakhutdinov & Hinton
// (2009, "Deep Boltzmann machines", AISTATS) do: greedy pretraining of a stack of RBMs with doubled
// weights for the first and last layers, joint training of all layers (mean-field positive phase,
// persistent Gibbs chains for the negative phase), an AIS estimate of log Z and the variational
// lower bound on the test log-probability, and discriminative fine-tuning of the network whose
// input is the image and the mean-field posterior of the second hidden layer.
//
//	go run ./examples/dbm-mnist -quick     # smaller budget (≤ 20 minutes on 2 cores), ≤ 2% test error
//	go run ./examples/dbm-mnist            # 784-500-1000 with the full schedule (many hours)
//
// The generative model is trained on stochastically binarised training images (one draw, seeded)
// and its lower bound measured on stochastically binarised test images; the classifier reads the
// grey-level images. Fine-tuning holds out the last -validation training images for early
// stopping; pretraining and joint training use only the images before them. With -json the final
// summary goes to stdout as one JSON object, progress to stderr.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/estimate"
	"github.com/ebm-go/ebm/finetune"
	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
	"github.com/ebm-go/ebm/pretrain"
)

// Published figures (Salakhutdinov & Hinton 2009, Table 1 and §5): a 784-500-1000 DBM.
const (
	paperTestError  = 0.0095
	paperLowerBound = -84.62
)

type config struct {
	hidden                                    string
	pretrainEpochs, dbmEpochs, finetuneEpochs int
	batch, chains, gibbs, mfIters             int
	patience, train, validation, testRows     int
	aisRuns, boundRows                        int
	aisFine                                   bool
	mfTol                                     float64
	pretrainLR, pretrainWD                    float64
	dbmLR, dbmDecay, dbmWD                    float64
	lr, lrDecay, momentum, weightDecay        float64
	jsonOut, quick                            bool
	seed                                      uint64
	data, dtype, out, load                    string
}

// defaults are the full run's settings: 784-500-1000, 100 CD-1 epochs per pretrained layer, 300
// epochs of joint training (100 chains, 5 Gibbs sweeps per update, up to 10 mean-field sweeps,
// learning rate 0.005/(1 + 0.01·epoch), weight cost 2e-4, momentum 0.5 → 0.9), AIS with 100 runs
// and the reference 14,501-temperature schedule, then up to 100 epochs of fine-tuning.
func defaults() config {
	return config{hidden: "500,1000", pretrainEpochs: 100, dbmEpochs: 300, finetuneEpochs: 100,
		batch: 100, chains: 100, gibbs: 5, mfIters: 10, mfTol: 1e-4,
		patience: 15, validation: 10000, aisRuns: 100, aisFine: true,
		pretrainLR: 0.05, pretrainWD: 2e-4, dbmLR: 0.005, dbmDecay: 0.01, dbmWD: 2e-4,
		lr: 0.1, lrDecay: 0.02, momentum: 0.9, weightDecay: 1e-5,
		seed: 1, dtype: "float32", out: "out/dbm-mnist"}
}

// quickDefaults are the -quick settings, applied to every flag not given explicitly.
var quickDefaults = map[string]string{
	"pretrain-epochs": "5", "dbm-epochs": "1", "finetune-epochs": "10", "lr": "0.2", "lr-decay": "0.1",
	"ais-runs": "20", "ais-fine": "false", "mf-iters": "5",
}

// Summary is the final JSON object printed with -json.
type Summary struct {
	Sizes     []int  `json:"sizes"`
	Dtype     string `json:"dtype"`
	Seed      uint64 `json:"seed"`
	TrainRows int    `json:"train_rows"`
	ValidRows int    `json:"validation_rows"`
	TestRows  int    `json:"test_rows"`
	// TestError and ValError are classification error rates in [0,1] of the fine-tuned network.
	TestError        float64 `json:"test_error"`
	TestCrossEntropy float64 `json:"test_cross_entropy"`
	ValError         float64 `json:"val_error"`
	BestEpoch        int     `json:"best_epoch"`
	// TestLogProbLowerBound is the mean variational lower bound on log p(v) of the binarised test
	// images, nats, with log Z from AIS (LogZ ± LogZStdErr).
	TestLogProbLowerBound float64 `json:"test_log_prob_lower_bound"`
	BoundStdErr           float64 `json:"test_log_prob_lower_bound_std_err"`
	BoundRows             int     `json:"bound_rows"`
	LogZ                  float64 `json:"log_z"`
	LogZStdErr            float64 `json:"log_z_std_err"`
	AISRuns               int     `json:"ais_runs"`
	AISDistributions      int     `json:"ais_distributions"`
	AISEffectiveRuns      float64 `json:"ais_effective_runs"`
	PaperTestError        float64 `json:"paper_test_error"`
	PaperLowerBound       float64 `json:"paper_test_log_prob_lower_bound"`

	PretrainSeconds float64 `json:"pretrain_seconds"`
	DBMSeconds      float64 `json:"dbm_seconds"`
	EvalSeconds     float64 `json:"eval_seconds"`
	FinetuneSeconds float64 `json:"finetune_seconds"`
	TotalSeconds    float64 `json:"total_seconds"`
	Model           string  `json:"model,omitempty"`
	Filters         string  `json:"filters_png,omitempty"`

	Pretraining []pretrain.LayerRecord `json:"pretraining,omitempty"`
	DBMTraining []optim.EpochRecord    `json:"dbm_training,omitempty"`
	Finetuning  []finetune.EpochRecord `json:"finetuning"`
}

func main() {
	c := defaults()
	flag.StringVar(&c.hidden, "hidden", c.hidden, "hidden layer sizes, bottom first, comma-separated")
	flag.IntVar(&c.pretrainEpochs, "pretrain-epochs", c.pretrainEpochs, "CD-1 epochs per pretrained RBM")
	flag.Float64Var(&c.pretrainLR, "pretrain-lr", c.pretrainLR, "pretraining learning rate")
	flag.Float64Var(&c.pretrainWD, "pretrain-weight-decay", c.pretrainWD, "pretraining L2 weight decay")
	flag.IntVar(&c.dbmEpochs, "dbm-epochs", c.dbmEpochs, "epochs of joint DBM training (0 = none)")
	flag.Float64Var(&c.dbmLR, "dbm-lr", c.dbmLR, "joint training learning rate (epoch 0)")
	flag.Float64Var(&c.dbmDecay, "dbm-lr-decay", c.dbmDecay, "joint training learning rate is dbm-lr/(1 + dbm-lr-decay·epoch)")
	flag.Float64Var(&c.dbmWD, "dbm-weight-decay", c.dbmWD, "joint training weight cost (L2)")
	flag.IntVar(&c.chains, "chains", c.chains, "persistent Gibbs chains")
	flag.IntVar(&c.gibbs, "gibbs", c.gibbs, "Gibbs sweeps per joint training update")
	flag.IntVar(&c.mfIters, "mf-iters", c.mfIters, "mean-field sweeps at most (training, features and bound)")
	flag.Float64Var(&c.mfTol, "mf-tol", c.mfTol, "mean-field stops when no marginal changes by more than this")
	flag.IntVar(&c.aisRuns, "ais-runs", c.aisRuns, "AIS runs for log Z")
	flag.BoolVar(&c.aisFine, "ais-fine", c.aisFine, "AIS with the reference 14,501-temperature schedule (false: a 2,251-temperature one)")
	flag.IntVar(&c.boundRows, "bound-rows", c.boundRows, "test images for the lower bound (0 = all)")
	flag.IntVar(&c.batch, "batch", c.batch, "minibatch size")
	flag.IntVar(&c.finetuneEpochs, "finetune-epochs", c.finetuneEpochs, "maximum fine-tuning epochs")
	flag.Float64Var(&c.lr, "lr", c.lr, "fine-tuning learning rate (epoch 0)")
	flag.Float64Var(&c.lrDecay, "lr-decay", c.lrDecay, "fine-tuning learning rate is lr/(1 + lr-decay·epoch)")
	flag.Float64Var(&c.momentum, "momentum", c.momentum, "fine-tuning momentum")
	flag.Float64Var(&c.weightDecay, "weight-decay", c.weightDecay, "fine-tuning L2 weight decay")
	flag.IntVar(&c.patience, "patience", c.patience, "stop fine-tuning after this many epochs without a better validation error (0 = never)")
	flag.StringVar(&c.load, "dbm", c.load, "skip pretraining and joint training: evaluate and fine-tune the DBM saved in this file")
	flag.Uint64Var(&c.seed, "seed", c.seed, "random seed")
	flag.StringVar(&c.data, "data", c.data, "folder with the MNIST .gz files (default: the copy in the GoMNIST Go module)")
	flag.IntVar(&c.train, "train", c.train, "use the first N training images (0 = all 60,000), of which the last -validation are held out")
	flag.IntVar(&c.validation, "validation", c.validation, "training images held out for early stopping")
	flag.IntVar(&c.testRows, "test", c.testRows, "test images to evaluate (0 = all 10,000)")
	flag.StringVar(&c.dtype, "dtype", c.dtype, "float32 or float64")
	flag.StringVar(&c.out, "out", c.out, "folder for model.dbm and filters.png")
	flag.BoolVar(&c.quick, "quick", c.quick, "smaller budget: 5 pretraining epochs per layer, 1 joint epoch, 5 mean-field sweeps, 10 fine-tuning epochs (lr 0.2, decay 0.1), AIS with 20 runs and 2,251 temperatures (flags given explicitly win)")
	flag.BoolVar(&c.jsonOut, "json", c.jsonOut, "print one final JSON summary on stdout (progress goes to stderr)")
	flag.Parse()
	if c.quick {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, v := range quickDefaults {
			if !set[name] {
				if err := flag.Set(name, v); err != nil {
					fmt.Fprintln(os.Stderr, "dbm-mnist:", err)
					os.Exit(2)
				}
			}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var progress io.Writer
	if term.IsTerminal(int(os.Stderr.Fd())) {
		progress = os.Stderr
	}
	mn, err := datasets.LoadMNIST(c.data)
	if err == nil {
		err = run(ctx, c, mn, os.Stdout, os.Stderr, progress)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dbm-mnist:", err)
		os.Exit(1)
	}
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-hidden %q: want comma-separated positive layer sizes such as 500,1000", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// aisSchedule is the quick schedule: steps of 2e-3 to 0.5, 4e-4 to 0.9, 1e-4 to 1 (2,251 values).
func aisSchedule(fine bool) []float64 {
	if fine {
		return estimate.DefaultSchedule()
	}
	var s []float64
	for i := 0; i < 250; i++ {
		s = append(s, float64(i)*0.002)
	}
	for i := 0; i < 1000; i++ {
		s = append(s, 0.5+float64(i)*0.0004)
	}
	for i := 0; i <= 1000; i++ {
		s = append(s, 0.9+float64(i)*0.0001)
	}
	s[len(s)-1] = 1
	return s
}

func run(ctx context.Context, c config, mn *datasets.MNIST, stdout, stderr, progress io.Writer) error {
	began := time.Now()
	var dt tensor.Dtype
	switch c.dtype {
	case "float32":
		dt = tensor.Float32
	case "float64":
		dt = tensor.Float64
	default:
		return fmt.Errorf("-dtype %q: want float32 or float64", c.dtype)
	}
	hidden, err := parseSizes(c.hidden)
	if err != nil {
		return err
	}
	if c.train < 0 || c.testRows < 0 || c.validation < 1 || c.batch < 1 || c.pretrainEpochs < 1 || c.dbmEpochs < 0 ||
		c.finetuneEpochs < 1 || c.chains < 1 || c.gibbs < 1 || c.mfIters < 1 || c.aisRuns < 2 || c.boundRows < 0 {
		return fmt.Errorf("-train, -test, -bound-rows and -dbm-epochs must be ≥ 0; -validation, -batch, -chains, -gibbs, -mf-iters and the other epoch counts ≥ 1; -ais-runs ≥ 2")
	}
	log := stdout
	if c.jsonOut {
		log = stderr
	}
	all, err := mn.Train.Matrix(c.train, dt)
	if err != nil {
		return err
	}
	n := all.Shape()[0]
	if c.validation >= n {
		return fmt.Errorf("-validation %d leaves no training images out of %d", c.validation, n)
	}
	labels := ints(mn.TrainLabels[:n])
	test, err := mn.Test.Matrix(c.testRows, dt)
	if err != nil {
		return err
	}
	testLabels := ints(mn.TestLabels[:test.Shape()[0]])
	sizes := append([]int{all.Shape()[1]}, hidden...)
	sum := Summary{Sizes: sizes, Dtype: c.dtype, Seed: c.seed, TrainRows: n - c.validation, ValidRows: c.validation,
		TestRows: test.Shape()[0], PaperTestError: paperTestError, PaperLowerBound: paperLowerBound}
	fmt.Fprintf(log, "MNIST from %s: %d training images (%d held out for validation), %d test images\n", mn.Dir, n, c.validation, sum.TestRows)
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}
	mf := models.MeanFieldSettings{MaxIterations: c.mfIters, Tolerance: c.mfTol}

	var d *models.DBM
	if c.load != "" {
		if d, err = models.LoadDBM(c.load); err != nil {
			return err
		}
		if !equalInts(d.Sizes(), sizes) || !d.Dtype().Eq(dt) {
			return fmt.Errorf("-dbm %s holds a %v DBM %v; the flags ask for %v %v", c.load, d.Dtype(), d.Sizes(), dt, sizes)
		}
		fmt.Fprintf(log, "loaded the DBM %v from %s\n", sizes, c.load)
	} else {
		trainBin, err := datasets.Binarize(firstRows(all, n-c.validation), rand.NewPCG(c.seed, 11))
		if err != nil {
			return err
		}
		if d, err = models.NewDBM(sizes, dt, rand.NewPCG(c.seed, 1)); err != nil {
			return err
		}
		if err := pretrainDBM(ctx, c, d, trainBin, log, progress, &sum); err != nil {
			return err
		}
		if c.dbmEpochs > 0 {
			if err := trainDBM(ctx, c, d, trainBin, mf, log, progress, &sum); err != nil {
				return err
			}
		}
		sum.Model = filepath.Join(c.out, "model.dbm")
		if err := d.Save(sum.Model); err != nil {
			return err
		}
	}
	sum.Filters = filepath.Join(c.out, "filters.png")
	if err := writeFilters(sum.Filters, d.W[0], 100); err != nil {
		return err
	}

	// Generative evaluation: AIS log Z and the mean-field lower bound on binarised test images.
	evalBegan := time.Now()
	trainBase, err := datasets.Binarize(firstRows(all, min(n-c.validation, 10000)), rand.NewPCG(c.seed, 12))
	if err != nil {
		return err
	}
	base, err := d.BaseRateBiases(trainBase, mf)
	if err != nil {
		return err
	}
	sched := aisSchedule(c.aisFine)
	fmt.Fprintf(log, "AIS: %d runs, %d temperatures, over the even layers (v, h2) with h1 summed out\n", c.aisRuns, len(sched))
	ais, err := d.AIS(ctx, base, estimate.Settings{Runs: c.aisRuns, Schedule: sched}, rand.NewPCG(c.seed, 13))
	if err != nil {
		return err
	}
	sum.LogZ, sum.LogZStdErr, sum.AISRuns, sum.AISDistributions, sum.AISEffectiveRuns = ais.LogZ, ais.StdErr, c.aisRuns, ais.Distributions, ais.EffectiveRuns
	boundRows := test.Shape()[0]
	if c.boundRows > 0 {
		boundRows = min(boundRows, c.boundRows)
	}
	testBin, err := datasets.Binarize(firstRows(test, boundRows), rand.NewPCG(c.seed, 14))
	if err != nil {
		return err
	}
	lb, err := d.MeanLowerBound(testBin, ais.LogZ, mf)
	if err != nil {
		return err
	}
	sum.TestLogProbLowerBound, sum.BoundStdErr, sum.BoundRows = lb.Mean, lb.StdErr, lb.Rows
	sum.EvalSeconds = time.Since(evalBegan).Seconds()
	fmt.Fprintf(log, "log Z = %.3f ± %.3f (AIS, %.1f effective runs); test log-probability lower bound %.2f ± %.2f nats over %d images (paper: %.2f); %.0fs\n",
		ais.LogZ, ais.StdErr, ais.EffectiveRuns, lb.Mean, lb.StdErr, lb.Rows, paperLowerBound, sum.EvalSeconds)

	// Discriminative fine-tuning on [v, q(h2|v)].
	ftBegan := time.Now()
	x, err := finetune.DBMInput(d, all, mf)
	if err != nil {
		return err
	}
	xTest, err := finetune.DBMInput(d, test, mf)
	if err != nil {
		return err
	}
	net, err := finetune.FromDBM(d, 10, rand.NewPCG(c.seed, 5))
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "fine-tuning the network [v, q(h2)] (%d inputs) → %v → 10, lr %g/(1+%g·epoch), momentum %g, weight decay %g, up to %d epochs (mean-field inputs took %.0fs)\n",
		x.Shape()[1], hidden, c.lr, c.lrDecay, c.momentum, c.weightDecay, c.finetuneEpochs, time.Since(ftBegan).Seconds())
	res, err := finetune.Train(ctx, net, x, labels, finetune.Settings{
		Epochs: c.finetuneEpochs, BatchSize: c.batch,
		LearningRate: optim.InverseDecay{Rate: c.lr, Decay: c.lrDecay}, Momentum: optim.Constant(c.momentum),
		WeightDecay: c.weightDecay, ValidationRows: c.validation, Patience: c.patience,
		Shuffle: rand.NewPCG(c.seed, 6), Progress: progress,
		OnEpoch: func(r finetune.EpochRecord) error {
			mark := ""
			if r.Best {
				mark = " *"
			}
			fmt.Fprintf(log, "fine-tune epoch %3d  %6.1fs  lr %.4f  cost %.4f  train error %6.3f%%  validation error %6.3f%%%s\n",
				r.Epoch, r.Seconds, r.LearningRate, r.Cost, 100*r.TrainError, 100*r.Validation.Error, mark)
			return nil
		},
	})
	if err != nil {
		return err
	}
	sum.Finetuning, sum.BestEpoch, sum.ValError = res.Epochs, res.BestEpoch, res.Validation.Error
	ev, err := net.Evaluate(xTest, testLabels)
	if err != nil {
		return err
	}
	sum.TestError, sum.TestCrossEntropy = ev.Error, ev.CrossEntropy
	sum.FinetuneSeconds = time.Since(ftBegan).Seconds()
	sum.TotalSeconds = time.Since(began).Seconds()
	fmt.Fprintf(log, "best epoch %d: validation error %.2f%%, test error %.2f%% (paper %.2f%%); lower bound %.2f nats (paper %.2f); total %.0fs (pretraining %.0fs, joint training %.0fs, evaluation %.0fs, fine-tuning %.0fs)\n",
		res.BestEpoch, 100*sum.ValError, 100*ev.Error, 100*paperTestError, sum.TestLogProbLowerBound, paperLowerBound,
		sum.TotalSeconds, sum.PretrainSeconds, sum.DBMSeconds, sum.EvalSeconds, sum.FinetuneSeconds)
	if c.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	return nil
}

// pretrainDBM trains d greedily (pretrain.TrainDBM) with CD-1, momentum 0.5 → 0.9 after 5 epochs
// and L2 weight decay, the visible biases from the pixel marginals.
func pretrainDBM(ctx context.Context, c config, d *models.DBM, data *tensor.Dense, log, progress io.Writer, sum *Summary) error {
	layers := make([]pretrain.Layer, d.NumLayers())
	for l := range layers {
		layers[l] = pretrain.Layer{Settings: optim.Settings{
			Estimator: optim.CD{K: 1}, Epochs: c.pretrainEpochs, BatchSize: c.batch,
			LearningRate: optim.Constant(c.pretrainLR), Momentum: optim.HintonMomentum(), WeightDecay: c.pretrainWD,
			Shuffle: rand.NewPCG(c.seed, uint64(100+10*l)), Chains: rand.NewPCG(c.seed, uint64(101+10*l)),
			Monitor: rand.NewPCG(c.seed, uint64(102+10*l)), MonitorRows: 200, Progress: progress,
		}}
	}
	layers[0].InitVisibleBiases = true
	fmt.Fprintf(log, "pretraining DBM %v: RBMs with doubled weights (first: up ×2, last: down ×2), CD-1, lr %g, %d epochs per layer\n",
		d.Sizes(), c.pretrainLR, c.pretrainEpochs)
	began := time.Now()
	recs, err := pretrain.TrainDBM(ctx, d, data, pretrain.Settings{
		Layers: layers,
		OnEpoch: func(layer int, r optim.EpochRecord) error {
			fmt.Fprintf(log, "layer %d epoch %3d  %6.1fs  cost %8.4f  F %8.2f\n", layer, r.Epoch, r.Seconds, r.Cost, r.Train.FreeEnergy)
			return nil
		},
	})
	sum.PretrainSeconds = time.Since(began).Seconds()
	sum.Pretraining = recs
	return err
}

// trainDBM trains all layers jointly (models.DBMLearner with optim.Fit).
func trainDBM(ctx context.Context, c config, d *models.DBM, data *tensor.Dense, mf models.MeanFieldSettings, log, progress io.Writer, sum *Summary) error {
	l := &models.DBMLearner{DBM: d, Chains: c.chains, GibbsSteps: c.gibbs, MeanField: mf}
	defer l.Close()
	fmt.Fprintf(log, "joint training: %d epochs, %d persistent chains, %d Gibbs sweeps per update, ≤ %d mean-field sweeps, lr %g/(1+%g·epoch), weight cost %g, momentum 0.5 → 0.9\n",
		c.dbmEpochs, c.chains, c.gibbs, c.mfIters, c.dbmLR, c.dbmDecay, c.dbmWD)
	began := time.Now()
	recs, err := optim.Fit(ctx, l, data, optim.Settings{
		Epochs: c.dbmEpochs, BatchSize: c.batch,
		LearningRate: optim.InverseDecay{Rate: c.dbmLR, Decay: c.dbmDecay}, Momentum: optim.HintonMomentum(), WeightDecay: c.dbmWD,
		Shuffle: rand.NewPCG(c.seed, 200), Chains: rand.NewPCG(c.seed, 201), Progress: progress,
		OnEpoch: func(r optim.EpochRecord) error {
			fmt.Fprintf(log, "DBM epoch %3d  %6.1fs  lr %.5f  momentum %.2f  mean-field sweeps (last batch) %d\n", r.Epoch, r.Seconds, r.LearningRate, r.Momentum, l.Sweeps)
			if math.IsNaN(r.Seconds) {
				return fmt.Errorf("bad epoch record")
			}
			return nil
		},
	})
	sum.DBMSeconds = time.Since(began).Seconds()
	sum.DBMTraining = recs
	return err
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func ints(b []uint8) []int {
	out := make([]int, len(b))
	for i, v := range b {
		out[i] = int(v)
	}
	return out
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
