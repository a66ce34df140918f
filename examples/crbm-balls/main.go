// Command crbm-balls trains a conditional RBM (Taylor, Hinton & Roweis 2007) on sequences and
// reports next-frame prediction error on held-out sequences against two baselines: repeating the
// last frame, and a linear autoregressive model of the same order (ridge least squares, gonum).
// By default the sequences are a generated bouncing-balls video (Sutskever & Hinton 2007); with
// -csv it reads any multivariate time series (one row per time step, numeric columns), which is
// standardised and modelled with Gaussian visible units. It writes a PNG strip of true and
// generated frames for the video.
//
//	go run ./examples/crbm-balls
//	go run ./examples/crbm-balls -csv series.csv -hidden 50
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
	"path/filepath"
	"time"

	"gonum.org/v1/gonum/mat"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
	"github.com/ebm-go/ebm/viz"
)

type config struct {
	size, balls, trainSeqs, testSeqs, frames   int
	order, hidden, epochs, batch, predictSteps int
	burn, samples                              int
	lr                                         float64
	seed                                       uint64
	csv, out                                   string
	jsonOut                                    bool
}

// Summary is the final JSON object printed with -json.
type Summary struct {
	Visible      int     `json:"visible"`
	Order        int     `json:"order"`
	Hidden       int     `json:"hidden"`
	TrainRows    int     `json:"train_rows"`
	TestRows     int     `json:"test_rows"`
	TrainSeconds float64 `json:"train_seconds"`
	// Next-frame mean squared error per value on the held-out rows. CRBMMSE uses the posterior
	// mean (Gibbs average, PredictMean); CRBMMeanFieldMSE the mean-field fixed point (Predict).
	CRBMMSE          float64 `json:"crbm_mse"`
	CRBMMeanFieldMSE float64 `json:"crbm_mean_field_mse"`
	RepeatLastMSE    float64 `json:"repeat_last_mse"`
	LinearARMSE      float64 `json:"linear_ar_mse"`
	Strip            string  `json:"strip_png,omitempty"`
	Model            string  `json:"model,omitempty"`
}

func main() {
	var c config
	flag.IntVar(&c.size, "size", 12, "frame side in pixels (bouncing balls)")
	flag.IntVar(&c.balls, "balls", 2, "balls per video")
	flag.IntVar(&c.trainSeqs, "train-seqs", 100, "training videos")
	flag.IntVar(&c.testSeqs, "test-seqs", 20, "held-out videos")
	flag.IntVar(&c.frames, "frames", 40, "frames per video")
	flag.IntVar(&c.order, "order", 3, "previous frames the CRBM (and the AR baseline) condition on")
	flag.IntVar(&c.hidden, "hidden", 200, "hidden units")
	flag.IntVar(&c.epochs, "epochs", 60, "training epochs")
	flag.IntVar(&c.batch, "batch", 20, "minibatch size")
	flag.IntVar(&c.predictSteps, "predict-steps", 10, "mean-field steps for a next-frame prediction")
	flag.IntVar(&c.burn, "burn", 5, "Gibbs steps before averaging for the posterior-mean prediction")
	flag.IntVar(&c.samples, "samples", 20, "Gibbs samples averaged for the posterior-mean prediction")
	flag.Float64Var(&c.lr, "lr", 0.05, "learning rate (use ~0.001 for Gaussian visibles with -csv)")
	flag.Uint64Var(&c.seed, "seed", 1, "random seed")
	flag.StringVar(&c.csv, "csv", "", "multivariate time series CSV (rows = time steps); the last 20% is held out")
	flag.StringVar(&c.out, "out", "out/crbm-balls", "folder for generated.png")
	flag.BoolVar(&c.jsonOut, "json", false, "print a final JSON summary on stdout")
	flag.Parse()
	if err := run(context.Background(), c, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "crbm-balls:", err)
		os.Exit(1)
	}
}

// bouncingBalls renders a video of frames×size×size pixels in [0,1]: anti-aliased discs of radius
// 1.8 pixels moving at constant speed (0.8-1.2 pixels per frame) and reflecting off the walls.
func bouncingBalls(r *rand.Rand, size, balls, frames int) []float64 {
	const radius = 1.8
	lim := float64(size) - 1
	x, y, vx, vy := make([]float64, balls), make([]float64, balls), make([]float64, balls), make([]float64, balls)
	for b := 0; b < balls; b++ {
		x[b], y[b] = radius+r.Float64()*(lim-2*radius), radius+r.Float64()*(lim-2*radius)
		a := 2 * math.Pi * r.Float64()
		speed := 0.8 + 0.4*r.Float64()
		vx[b], vy[b] = speed*math.Cos(a), speed*math.Sin(a)
	}
	out := make([]float64, frames*size*size)
	for f := 0; f < frames; f++ {
		img := out[f*size*size : (f+1)*size*size]
		for b := 0; b < balls; b++ {
			for py := 0; py < size; py++ {
				for px := 0; px < size; px++ {
					d := math.Hypot(float64(px)-x[b], float64(py)-y[b])
					img[py*size+px] = math.Max(img[py*size+px], math.Min(1, math.Max(0, radius+0.5-d)))
				}
			}
			x[b] += vx[b]
			y[b] += vy[b]
			if x[b] < radius || x[b] > lim-radius {
				vx[b] = -vx[b]
				x[b] = math.Min(math.Max(x[b], radius), lim-radius)
			}
			if y[b] < radius || y[b] > lim-radius {
				vy[b] = -vy[b]
				y[b] = math.Min(math.Max(y[b], radius), lim-radius)
			}
		}
	}
	return out
}

func sequences(c config) (train, test []*tensor.Dense, nv int, gaussian bool, err error) {
	if c.csv != "" {
		f, err := os.Open(c.csv)
		if err != nil {
			return nil, nil, 0, false, err
		}
		defer f.Close()
		x, _, err := datasets.ReadCSV(f)
		if err != nil {
			return nil, nil, 0, false, err
		}
		T, cols := x.Shape()[0], x.Shape()[1]
		cut := T * 4 / 5
		if cut <= c.order || T-cut <= c.order {
			return nil, nil, 0, false, fmt.Errorf("%s: %d time steps is too few for order %d with 20%% held out", c.csv, T, c.order)
		}
		d := x.Data().([]float64)
		tr := tensor.New(tensor.WithShape(cut, cols), tensor.WithBacking(d[:cut*cols]))
		st, err := datasets.FitStandardizer(tr)
		if err != nil {
			return nil, nil, 0, false, err
		}
		ztr, err := st.Transform(tr)
		if err != nil {
			return nil, nil, 0, false, err
		}
		zte, err := st.Transform(tensor.New(tensor.WithShape(T-cut, cols), tensor.WithBacking(d[cut*cols:])))
		if err != nil {
			return nil, nil, 0, false, err
		}
		return []*tensor.Dense{ztr}, []*tensor.Dense{zte}, cols, true, nil
	}
	r := rand.New(rand.NewPCG(c.seed, 10))
	nv = c.size * c.size
	for i := 0; i < c.trainSeqs+c.testSeqs; i++ {
		v := tensor.New(tensor.WithShape(c.frames, nv), tensor.WithBacking(bouncingBalls(r, c.size, c.balls, c.frames)))
		if i < c.trainSeqs {
			train = append(train, v)
		} else {
			test = append(test, v)
		}
	}
	return train, test, nv, false, nil
}

// split separates window rows [v | u] into targets v (rows, nv) and histories u (rows, nu).
func split(rows *tensor.Dense, nv int) (v, u *tensor.Dense) {
	n, cols := rows.Shape()[0], rows.Shape()[1]
	d := rows.Data().([]float64)
	vd, ud := make([]float64, 0, n*nv), make([]float64, 0, n*(cols-nv))
	for r := 0; r < n; r++ {
		vd = append(vd, d[r*cols:r*cols+nv]...)
		ud = append(ud, d[r*cols+nv:(r+1)*cols]...)
	}
	return tensor.New(tensor.WithShape(n, nv), tensor.WithBacking(vd)), tensor.New(tensor.WithShape(n, cols-nv), tensor.WithBacking(ud))
}

func mse(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += (a[i] - b[i]) * (a[i] - b[i])
	}
	return s / float64(len(a))
}

// linearAR fits v ≈ [u, 1]·M by ridge least squares (λ = 1e-3 per row) on the training rows and
// returns its predictions for the test histories.
func linearAR(trV, trU, teU *tensor.Dense) ([]float64, error) {
	n, nu := trU.Shape()[0], trU.Shape()[1]
	nv := trV.Shape()[1]
	x := mat.NewDense(n, nu+1, nil)
	ud := trU.Data().([]float64)
	for r := 0; r < n; r++ {
		for k := 0; k < nu; k++ {
			x.Set(r, k, ud[r*nu+k])
		}
		x.Set(r, nu, 1)
	}
	y := mat.NewDense(n, nv, trV.Data().([]float64))
	var xtx mat.Dense
	xtx.Mul(x.T(), x)
	for k := 0; k < nu+1; k++ {
		xtx.Set(k, k, xtx.At(k, k)+1e-3*float64(n))
	}
	var xty, coef mat.Dense
	xty.Mul(x.T(), y)
	if err := coef.Solve(&xtx, &xty); err != nil {
		return nil, fmt.Errorf("linear AR baseline: %w", err)
	}
	m := teU.Shape()[0]
	xt := mat.NewDense(m, nu+1, nil)
	td := teU.Data().([]float64)
	for r := 0; r < m; r++ {
		for k := 0; k < nu; k++ {
			xt.Set(r, k, td[r*nu+k])
		}
		xt.Set(r, nu, 1)
	}
	var pred mat.Dense
	pred.Mul(xt, &coef)
	return pred.RawMatrix().Data, nil
}

func run(ctx context.Context, c config, stdout, stderr io.Writer) error {
	log := stdout
	if c.jsonOut {
		log = stderr
	}
	train, test, nv, gaussian, err := sequences(c)
	if err != nil {
		return err
	}
	m, err := models.NewCRBM(nv, c.hidden, c.order, gaussian, tensor.Float64, rand.NewPCG(c.seed, 1))
	if err != nil {
		return err
	}
	trRows, err := m.Windows(train...)
	if err != nil {
		return err
	}
	teRows, err := m.Windows(test...)
	if err != nil {
		return err
	}
	sum := Summary{Visible: nv, Order: c.order, Hidden: c.hidden, TrainRows: trRows.Shape()[0], TestRows: teRows.Shape()[0]}
	fmt.Fprintf(log, "CRBM order %d, %d visible (%s), %d hidden; %d training windows, %d held-out windows\n",
		c.order, nv, map[bool]string{true: "Gaussian", false: "Bernoulli"}[gaussian], c.hidden, sum.TrainRows, sum.TestRows)
	began := time.Now()
	_, err = optim.Train(ctx, m.Trainable(), trRows, optim.Settings{
		Estimator:    optim.CD{K: 1, VisibleProbabilities: true},
		Epochs:       c.epochs,
		BatchSize:    c.batch,
		LearningRate: optim.Constant(c.lr),
		Momentum:     optim.HintonMomentum(),
		WeightDecay:  2e-4,
		Shuffle:      rand.NewPCG(c.seed, 2),
		Chains:       rand.NewPCG(c.seed, 3),
		MonitorRows:  -1,
		OnEpoch: func(r optim.EpochRecord) error {
			if r.Epoch%5 == 0 || r.Epoch == c.epochs {
				fmt.Fprintf(log, "epoch %3d  %5.1fs  CD cost %8.4f\n", r.Epoch, r.Seconds, r.Cost)
			}
			return nil
		},
	})
	if err != nil {
		return err
	}
	sum.TrainSeconds = time.Since(began).Seconds()
	trV, trU := split(trRows, nv)
	teV, teU := split(teRows, nv)
	pred, err := m.PredictMean(teU, c.burn, c.samples, rand.NewPCG(c.seed, 7))
	if err != nil {
		return err
	}
	mf, err := m.Predict(teU, c.predictSteps)
	if err != nil {
		return err
	}
	want := teV.Data().([]float64)
	sum.CRBMMSE = mse(pred.Data().([]float64), want)
	sum.CRBMMeanFieldMSE = mse(mf.Data().([]float64), want)
	last := make([]float64, len(want))
	ud := teU.Data().([]float64)
	for r := 0; r < teU.Shape()[0]; r++ {
		copy(last[r*nv:(r+1)*nv], ud[r*m.NumCondition():r*m.NumCondition()+nv])
	}
	sum.RepeatLastMSE = mse(last, want)
	ar, err := linearAR(trV, trU, teU)
	if err != nil {
		return err
	}
	sum.LinearARMSE = mse(ar, want)
	fmt.Fprintf(log, "next-frame MSE on held-out windows: CRBM %.5f (posterior mean; mean-field %.5f), repeat last frame %.5f, linear AR(%d) %.5f\n",
		sum.CRBMMSE, sum.CRBMMeanFieldMSE, sum.RepeatLastMSE, c.order, sum.LinearARMSE)
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}
	sum.Model = filepath.Join(c.out, "model.crbm")
	if err := m.Save(sum.Model); err != nil {
		return err
	}
	if !gaussian {
		sum.Strip = filepath.Join(c.out, "generated.png")
		if err := strip(sum.Strip, m, test[0], c); err != nil {
			return err
		}
		fmt.Fprintf(log, "wrote %s (top: held-out video; bottom: CRBM generation from its first %d frames)\n", sum.Strip, c.order)
	}
	if c.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	return nil
}

// strip writes the true frames of a held-out video above frames generated from its first Order
// frames.
func strip(path string, m *models.CRBM, video *tensor.Dense, c config) error {
	nv := m.NumVisible()
	d := video.Data().([]float64)
	n := min(20, video.Shape()[0]-c.order)
	hist := tensor.New(tensor.WithShape(c.order, nv), tensor.WithBacking(append([]float64(nil), d[:c.order*nv]...)))
	gen, err := m.Generate(hist, n, 5, rand.NewPCG(c.seed, 6))
	if err != nil {
		return err
	}
	var tiles [][]float64
	for f := 0; f < n; f++ {
		tiles = append(tiles, d[(c.order+f)*nv:(c.order+f+1)*nv])
	}
	g := gen.Data().([]float64)
	for f := 0; f < n; f++ {
		tiles = append(tiles, g[f*nv:(f+1)*nv])
	}
	img, err := viz.Mosaic(tiles, c.size, c.size, n)
	if err != nil {
		return err
	}
	return viz.WritePNG(path, viz.Enlarge(img, 4))
}
