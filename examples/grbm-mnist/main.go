// Command grbm-mnist trains a Gaussian–Bernoulli RBM on real-valued data: by default MNIST grey
// levels standardised per pixel (the standardisation statistics are kept with the model), or any
// numeric CSV file given with -csv. It prints per-epoch metrics and the test reconstruction error,
// and writes filters, reconstructions and Gibbs samples as PNG (MNIST only).
//
//	go run ./examples/grbm-mnist
//	go run ./examples/grbm-mnist -learn-sigma -epochs 10
//	go run ./examples/grbm-mnist -csv data.csv -hidden 20
//
// Ctrl-C during training saves a checkpoint (-checkpoint FILE, default <out>/checkpoint.ckpt),
// prints the command that resumes it and exits with status 130; -checkpoint-every N also saves
// every N epochs; -resume FILE with the same flags continues bit for bit.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
	"github.com/ebm-go/ebm/viz"
)

type config struct {
	epochs, hidden, batch, train, k int
	lr, minStd                      float64
	learnSigma, jsonOut             bool
	seed                            uint64
	data, csv, out                  string
	// Checkpoints: the file (default <out>/checkpoint.ckpt), epochs between saves (0 = only on
	// interrupt) and a checkpoint to resume from.
	checkpoint, resume string
	checkpointEvery    int
	// onEpoch, when set (by tests), is called after every training epoch.
	onEpoch func(optim.EpochRecord)
}

// Summary is the final JSON object printed with -json.
type Summary struct {
	Rows            int     `json:"rows"`
	Columns         int     `json:"columns"`
	Hidden          int     `json:"hidden"`
	LearnSigma      bool    `json:"learn_sigma"`
	SecondsPerEpoch float64 `json:"seconds_per_epoch"`
	// TestReconMSE is the mean squared error per value of the mean-field reconstruction of held-out
	// rows, in standardised units; BaselineMSE is that of predicting the training mean (= 1 per
	// non-constant column in standardised units).
	TestReconMSE float64  `json:"test_recon_mse"`
	BaselineMSE  float64  `json:"baseline_mse"`
	MeanSigma    float64  `json:"mean_sigma"`
	Warnings     []string `json:"warnings,omitempty"`
}

func main() {
	var c config
	flag.IntVar(&c.epochs, "epochs", 5, "passes over the training rows")
	flag.IntVar(&c.hidden, "hidden", 256, "hidden units")
	flag.IntVar(&c.batch, "batch", 100, "minibatch size")
	flag.IntVar(&c.train, "train", 20000, "use the first N training rows (0 = all)")
	flag.IntVar(&c.k, "k", 1, "CD-k steps")
	flag.Float64Var(&c.lr, "lr", 0.005, "learning rate (Gaussian units want rates 10-100× smaller than binary ones; Hinton 2010 §13.2)")
	flag.Float64Var(&c.minStd, "min-std", 0.1, "floor for each column's standard deviation in the standardisation (0 = none)")
	flag.BoolVar(&c.learnSigma, "learn-sigma", false, "learn σ through log σ (Cho, Ilin & Raiko 2011); otherwise σ = 1 on standardised data")
	flag.Uint64Var(&c.seed, "seed", 1, "random seed")
	flag.StringVar(&c.data, "data", "", "MNIST folder (default: the copy in the GoMNIST Go module)")
	flag.StringVar(&c.csv, "csv", "", "numeric CSV file to use instead of MNIST (last 20% of rows held out)")
	flag.StringVar(&c.out, "out", "out/grbm-mnist", "folder for the PNGs and the model")
	flag.BoolVar(&c.jsonOut, "json", false, "print a final JSON summary on stdout")
	flag.StringVar(&c.checkpoint, "checkpoint", "", "training checkpoint file, saved on Ctrl-C and every -checkpoint-every epochs (default <out>/checkpoint.ckpt)")
	flag.IntVar(&c.checkpointEvery, "checkpoint-every", 0, "save a checkpoint every N epochs (0 = only on Ctrl-C)")
	flag.StringVar(&c.resume, "resume", "", "continue training from this checkpoint; pass the same flags as the interrupted run (-epochs counts from its start)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, c, os.Stdout, os.Stderr); err != nil {
		var in *interrupted
		if errors.As(err, &in) {
			fmt.Fprintf(os.Stderr, "grbm-mnist: %v\nresume with: %s\n", in.err, resumeCommand(os.Args, in.path))
			os.Exit(130)
		}
		fmt.Fprintln(os.Stderr, "grbm-mnist:", err)
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
	out := []string{"go run ./examples/grbm-mnist"}
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

func load(c config) (train, test *tensor.Dense, images bool, err error) {
	if c.csv != "" {
		f, err := os.Open(c.csv)
		if err != nil {
			return nil, nil, false, err
		}
		defer f.Close()
		x, _, err := datasets.ReadCSV(f)
		if err != nil {
			return nil, nil, false, err
		}
		n, cols := x.Shape()[0], x.Shape()[1]
		cut := n * 4 / 5
		if cut < 1 || cut == n {
			return nil, nil, false, fmt.Errorf("%s: %d rows is too few to hold out 20%%", c.csv, n)
		}
		d := x.Data().([]float64)
		return tensor.New(tensor.WithShape(cut, cols), tensor.WithBacking(d[:cut*cols])),
			tensor.New(tensor.WithShape(n-cut, cols), tensor.WithBacking(d[cut*cols:])), false, nil
	}
	mn, err := datasets.LoadMNIST(c.data)
	if err != nil {
		return nil, nil, false, err
	}
	if train, err = mn.Train.Matrix(c.train, tensor.Float64); err != nil {
		return nil, nil, false, err
	}
	if test, err = mn.Test.Matrix(2000, tensor.Float64); err != nil {
		return nil, nil, false, err
	}
	return train, test, true, nil
}

func run(ctx context.Context, c config, stdout, stderr io.Writer) error {
	if c.checkpointEvery < 0 {
		return fmt.Errorf("-checkpoint-every %d: want ≥ 0", c.checkpointEvery)
	}
	if c.checkpoint == "" {
		c.checkpoint = filepath.Join(c.out, "checkpoint.ckpt")
	}
	log := stdout
	if c.jsonOut {
		log = stderr
	}
	rawTrain, rawTest, images, err := load(c)
	if err != nil {
		return err
	}
	st, err := datasets.FitStandardizer(rawTrain)
	if err != nil {
		return err
	}
	if c.minStd > 0 {
		if err := st.FloorStd(c.minStd); err != nil {
			return err
		}
	}
	train, err := st.Transform(rawTrain)
	if err != nil {
		return err
	}
	test, err := st.Transform(rawTest)
	if err != nil {
		return err
	}
	nv := train.Shape()[1]
	m, err := models.NewGaussianRBM(nv, c.hidden, tensor.Float64, rand.NewPCG(c.seed, 1))
	if err != nil {
		return err
	}
	m.LearnSigma, m.Standardizer = c.learnSigma, st
	sum := Summary{Rows: train.Shape()[0], Columns: nv, Hidden: c.hidden, LearnSigma: c.learnSigma, Warnings: m.VarianceWarnings(train)}
	for _, w := range sum.Warnings {
		fmt.Fprintln(log, "warning:", w)
	}
	fmt.Fprintf(log, "Gaussian–Bernoulli RBM %d×%d on %d standardised rows, σ %s, CD-%d, lr %g\n", nv, c.hidden, sum.Rows,
		map[bool]string{true: "learned", false: "fixed at 1"}[c.learnSigma], c.k, c.lr)
	if err := os.MkdirAll(filepath.Dir(c.checkpoint), 0o755); err != nil {
		return err
	}
	if c.resume != "" {
		fmt.Fprintf(log, "resuming from %s\n", c.resume)
	}
	hist, err := optim.Train(ctx, m, train, optim.Settings{
		Estimator:       optim.CD{K: c.k, VisibleProbabilities: !c.learnSigma},
		Epochs:          c.epochs,
		BatchSize:       c.batch,
		LearningRate:    optim.Constant(c.lr),
		Momentum:        optim.HintonMomentum(),
		WeightDecay:     1e-4,
		Shuffle:         rand.NewPCG(c.seed, 2),
		Chains:          rand.NewPCG(c.seed, 3),
		Validation:      test,
		Checkpoint:      c.checkpoint,
		CheckpointEvery: c.checkpointEvery,
		Resume:          c.resume,
		OnEpoch: func(r optim.EpochRecord) error {
			if c.onEpoch != nil {
				c.onEpoch(r)
			}
			fmt.Fprintf(log, "epoch %3d  %6.1fs  cost %9.4f  F(train) %10.2f  F(test) %10.2f  gap %+7.2f\n",
				r.Epoch, r.Seconds, r.Cost, r.Train.FreeEnergy, r.Validation.FreeEnergy, r.FreeEnergyGap)
			return nil
		},
	})
	if err != nil {
		if errors.Is(err, context.Canceled) && strings.Contains(err.Error(), "checkpoint saved to") {
			return &interrupted{path: c.checkpoint, err: err}
		}
		return err
	}
	for _, r := range hist {
		sum.SecondsPerEpoch += r.Seconds / float64(len(hist))
	}
	rec, err := m.Reconstruct(test)
	if err != nil {
		return err
	}
	tz, rz := test.Data().([]float64), rec.Data().([]float64)
	for i := range tz {
		d := tz[i] - rz[i]
		sum.TestReconMSE += d * d
		sum.BaselineMSE += tz[i] * tz[i]
	}
	sum.TestReconMSE /= float64(len(tz))
	sum.BaselineMSE /= float64(len(tz))
	for _, s := range m.Sigma() {
		sum.MeanSigma += s / float64(nv)
	}
	fmt.Fprintf(log, "test reconstruction MSE %.4f per value (standardised units; predicting the mean gives %.4f), mean σ %.3f\n",
		sum.TestReconMSE, sum.BaselineMSE, sum.MeanSigma)
	if images && nv == 784 {
		if err := os.MkdirAll(c.out, 0o755); err != nil {
			return err
		}
		if err := pictures(c, m, st, test, rec); err != nil {
			return err
		}
		fmt.Fprintf(log, "wrote filters.png, reconstructions.png and samples.png in %s\n", c.out)
	}
	if c.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	return nil
}

// pictures writes the filters, test images above their reconstructions, and Gibbs samples started
// from test images, all mapped back to grey levels with the standardiser.
func pictures(c config, m *models.GaussianRBM, st *datasets.Standardizer, test, rec *tensor.Dense) error {
	tiles, err := viz.Filters(m.W, 100)
	if err != nil {
		return err
	}
	if err := viz.WriteMosaic(filepath.Join(c.out, "filters.png"), tiles, 28, 28); err != nil {
		return err
	}
	grey := func(x *tensor.Dense, n int) ([][]float64, error) {
		back, err := st.Inverse(x)
		if err != nil {
			return nil, err
		}
		return viz.Rows(back, n, 0, 1)
	}
	orig, err := grey(test, 50)
	if err != nil {
		return err
	}
	recon, err := grey(rec, 50)
	if err != nil {
		return err
	}
	if err := viz.WriteMosaic(filepath.Join(c.out, "reconstructions.png"), append(orig, recon...), 28, 28); err != nil {
		return err
	}
	start := tensor.New(tensor.WithShape(100, 784), tensor.WithBacking(append([]float64(nil), test.Data().([]float64)[:100*784]...)))
	s, err := m.Sample(start, 100, rand.NewPCG(c.seed, 5))
	if err != nil {
		return err
	}
	// Show E[v|h] of the last step rather than the noisy sample.
	mean, err := m.Reconstruct(s)
	if err != nil {
		return err
	}
	samples, err := grey(mean, 100)
	if err != nil {
		return err
	}
	for _, t := range samples {
		for i, v := range t {
			t[i] = math.Min(1, math.Max(0, v))
		}
	}
	return viz.WriteMosaic(filepath.Join(c.out, "samples.png"), samples, 28, 28)
}
