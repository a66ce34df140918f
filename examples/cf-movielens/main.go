// Command cf-movielens trains the collaborative-filtering RBM of Salakhutdinov, Mnih & Hinton
// (2007) on a MovieLens 100K split and prints its test RMSE next to the global-mean, user-mean and
// item-mean baselines, and the wall time.
//
// In the paper's model (-model user) each user is an RBM whose visible units are the movies that
// user rated, K = 5-way softmax units holding the rating; weights are shared across users and
// unrated movies are simply absent. -model item trains the same model on the transposed matrix: one
// RBM per movie whose visible units are the users who rated it (the "I-RBM" of later work), which
// does markedly better on this small data set; -model both (the default) trains and reports both.
// Training is CD-T with T growing during training (-cd 1,3,5,9 splits the epochs into four equal
// phases with T = 1, 3, 5, 9); predictions are expected ratings from one up-down mean-field pass
// (the exact predictive distribution of the paper's equation 9 is reported too).
//
// The data set is not shipped (its licence forbids redistribution): download ml-100k.zip from
// https://grouplens.org/datasets/movielens/100k/, unzip it and run
//
//	go run ./examples/cf-movielens -data path/to/ml-100k
//	go run ./examples/cf-movielens -data path/to/ml-100k -split u2 -model item -json
//
// -holdout 0.1 evaluates on 10% of the training ratings instead of the test file: the default
// settings were chosen that way, without looking at the test set.
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
	"strconv"
	"strings"
	"time"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
)

type config struct {
	data, split, cd               string
	hidden, epochs, batch, report int
	lr, momentum, decay, holdout  float64
	seed                          uint64
	model                         string
	jsonOut, probs                bool
}

// Summary is the final JSON object printed with -json. RMSEs are on the evaluation ratings (the
// split's test file, or the held-out training ratings with -holdout); times in seconds.
type Summary struct {
	Split        string  `json:"split"`
	Evaluation   string  `json:"evaluation"`
	TrainRatings int     `json:"train_ratings"`
	EvalRatings  int     `json:"eval_ratings"`
	Users        int     `json:"users"`
	Items        int     `json:"items"`
	Model        string  `json:"model"`
	Hidden       int     `json:"hidden"`
	Epochs       int     `json:"epochs"`
	BatchSize    int     `json:"batch_size"`
	CDSteps      []int   `json:"cd_steps"`
	LearningRate float64 `json:"learning_rate"`
	Momentum     float64 `json:"momentum"`
	WeightDecay  float64 `json:"weight_decay"`
	Seed         uint64  `json:"seed"`

	GlobalMeanRMSE float64    `json:"global_mean_rmse"`
	UserMeanRMSE   float64    `json:"user_mean_rmse"`
	ItemMeanRMSE   float64    `json:"item_mean_rmse"`
	UserRBM        *RBMResult `json:"user_based_rbm,omitempty"`
	ItemRBM        *RBMResult `json:"item_based_rbm,omitempty"`
	WallSeconds    float64    `json:"wall_seconds"`
}

// RBMResult is one CF-RBM's evaluation.
type RBMResult struct {
	RMSE         float64 `json:"rmse"`       // mean-field prediction (one up-down pass)
	ExactRMSE    float64 `json:"exact_rmse"` // exact predictive distribution (the paper's eq. 9)
	TrainSeconds float64 `json:"train_seconds"`
}

func main() {
	var c config
	flag.StringVar(&c.data, "data", "", "the unzipped MovieLens 100K folder (ml-100k), from "+datasets.MovieLensURL)
	flag.StringVar(&c.split, "split", "u1", "split to use: u1 … u5 (files SPLIT.base and SPLIT.test)")
	flag.IntVar(&c.hidden, "hidden", 100, "hidden units")
	flag.IntVar(&c.epochs, "epochs", 60, "passes over the training users")
	flag.IntVar(&c.batch, "batch", 10, "users per minibatch")
	flag.StringVar(&c.cd, "cd", "1,3,5,9", "CD-T steps: the epochs are split into equal phases, one per value")
	flag.Float64Var(&c.lr, "lr", 0.01, "learning rate on the gradient averaged over a minibatch (the paper: 0.01/batch-size on the summed gradient)")
	flag.Float64Var(&c.momentum, "momentum", 0.5, "momentum (at most 0.5 for the first 5 epochs; the paper uses 0.9, which overfits MovieLens 100K sooner)")
	flag.Float64Var(&c.decay, "decay", 0.001, "L2 weight decay on W")
	flag.Float64Var(&c.holdout, "holdout", 0, "if > 0, evaluate on this fraction of the training ratings (seeded) instead of the test file")
	flag.IntVar(&c.report, "report", 10, "print the evaluation RMSE every this many epochs (0: only at the end)")
	flag.Uint64Var(&c.seed, "seed", 1, "random seed")
	flag.BoolVar(&c.probs, "probs", false, "end each CD chain with visible probabilities instead of a sample")
	flag.StringVar(&c.model, "model", "both", "user: one RBM per user (the paper's model); item: one RBM per movie over the users who rated it; both")
	flag.BoolVar(&c.jsonOut, "json", false, "print a final JSON summary on stdout (the log goes to stderr)")
	flag.Parse()
	if err := run(context.Background(), c, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "cf-movielens:", err)
		if errors.Is(err, datasets.ErrNotFound) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// parseSteps parses "1,3,5,9".
func parseSteps(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		t, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || t < 1 {
			return nil, fmt.Errorf("-cd %q: want a comma-separated list of Gibbs step counts ≥ 1", s)
		}
		out = append(out, t)
	}
	return out, nil
}

// baselines returns the RMSE of predicting the global mean, the user's mean and the item's mean
// training rating (the global mean for users or items without training ratings).
func baselines(train, eval []datasets.Rating) (global, user, item float64) {
	sum := 0.0
	us, un := map[int]float64{}, map[int]float64{}
	is, in := map[int]float64{}, map[int]float64{}
	for _, r := range train {
		v := float64(r.Value)
		sum += v
		us[r.User] += v
		un[r.User]++
		is[r.Item] += v
		in[r.Item]++
	}
	g := sum / float64(len(train))
	mean := func(s, n map[int]float64, k int) float64 {
		if n[k] == 0 {
			return g
		}
		return s[k] / n[k]
	}
	var eg, eu, ei float64
	for _, r := range eval {
		v := float64(r.Value)
		eg += (g - v) * (g - v)
		d := mean(us, un, r.User) - v
		eu += d * d
		d = mean(is, in, r.Item) - v
		ei += d * d
	}
	n := float64(len(eval))
	return math.Sqrt(eg / n), math.Sqrt(eu / n), math.Sqrt(ei / n)
}

func rmse(pred []float64, eval []datasets.Rating) float64 {
	s := 0.0
	for q, r := range eval {
		d := pred[q] - float64(r.Value)
		s += d * d
	}
	return math.Sqrt(s / float64(len(eval)))
}

// result is one trained model's evaluation.
type result struct {
	rmse, exact, seconds float64
}

// trainCF trains a CF-RBM on train (ratings of rows × cols: users × items, or items × users for
// the item-based model) and returns its RMSE on eval (same orientation).
func trainCF(ctx context.Context, c config, steps []int, name string, train, eval []datasets.Rating, rows, cols int, log io.Writer) (result, error) {
	x, err := datasets.RatingMatrix(train, rows, cols)
	if err != nil {
		return result{}, err
	}
	qr, qc := make([]int, len(eval)), make([]int, len(eval))
	for q, r := range eval {
		qr[q], qc[q] = r.User-1, r.Item-1
	}
	m, err := models.NewCFRBM(cols, datasets.MovieLensMaxRating, c.hidden, rand.NewPCG(c.seed, 1))
	if err != nil {
		return result{}, err
	}
	if err := m.InitVisibleBiases(x); err != nil {
		return result{}, err
	}
	tAt := func(epoch int) int { return steps[min(epoch*len(steps)/c.epochs, len(steps)-1)] }
	learner := &models.CFLearner{Model: m, T: tAt(0), VisibleProbabilities: c.probs}
	fmt.Fprintf(log, "%s: %d RBMs of up to %d softmax units, %d hidden units; %d epochs of CD-T with T = %v in equal phases, minibatches of %d, learning rate %v, momentum %v, weight decay %v\n",
		name, rows, cols, c.hidden, c.epochs, steps, c.batch, c.lr, c.momentum, c.decay)
	began := time.Now()
	_, err = optim.Fit(ctx, learner, x, optim.Settings{
		Epochs:       c.epochs,
		BatchSize:    c.batch,
		LearningRate: optim.Constant(c.lr),
		Momentum:     optim.Switch{Before: math.Min(0.5, c.momentum), After: c.momentum, Epoch: 5},
		WeightDecay:  c.decay,
		Shuffle:      rand.NewPCG(c.seed, 2),
		Chains:       rand.NewPCG(c.seed, 3),
		OnEpoch: func(r optim.EpochRecord) error {
			if c.report > 0 && (r.Epoch%c.report == 0 || r.Epoch == 1) && r.Epoch != c.epochs {
				p, err := m.Predict(x, qr, qc)
				if err != nil {
					return err
				}
				fmt.Fprintf(log, "  epoch %3d  T=%d  evaluation RMSE %.4f  (%.2f s/epoch)\n", r.Epoch, learner.T, rmse(p, eval), r.Seconds)
			}
			learner.T = tAt(r.Epoch)
			return nil
		},
	})
	if err != nil {
		return result{}, err
	}
	res := result{seconds: time.Since(began).Seconds()}
	mf, err := m.Predict(x, qr, qc)
	if err != nil {
		return result{}, err
	}
	ex, err := m.PredictExact(x, qr, qc)
	if err != nil {
		return result{}, err
	}
	res.rmse, res.exact = rmse(mf, eval), rmse(ex, eval)
	return res, nil
}

// transpose swaps users and items, for the item-based model.
func transpose(rs []datasets.Rating) []datasets.Rating {
	out := make([]datasets.Rating, len(rs))
	for i, r := range rs {
		out[i] = r
		out[i].User, out[i].Item = r.Item, r.User
	}
	return out
}

func run(ctx context.Context, c config, stdout, stderr io.Writer) error {
	began := time.Now()
	log := stdout
	if c.jsonOut {
		log = stderr
	}
	steps, err := parseSteps(c.cd)
	if err != nil {
		return err
	}
	if c.epochs < 1 || c.hidden < 1 || c.batch < 1 {
		return fmt.Errorf("-epochs, -hidden and -batch must be ≥ 1")
	}
	userBased, itemBased := c.model == "user" || c.model == "both", c.model == "item" || c.model == "both"
	if !userBased && !itemBased {
		return fmt.Errorf("-model %q: want user, item or both", c.model)
	}
	ml, err := datasets.LoadMovieLens(c.data, c.split)
	if err != nil {
		return err
	}
	train, eval := ml.Train, ml.Test
	evalName := ml.Split + ".test"
	if c.holdout > 0 {
		if c.holdout >= 1 {
			return fmt.Errorf("-holdout %v: want a fraction in (0, 1)", c.holdout)
		}
		r := rand.New(rand.NewPCG(c.seed, 99))
		train, eval = nil, nil
		for _, x := range ml.Train {
			if r.Float64() < c.holdout {
				eval = append(eval, x)
			} else {
				train = append(train, x)
			}
		}
		evalName = fmt.Sprintf("%.0f%% of %s.base held out", 100*c.holdout, ml.Split)
	}
	fmt.Fprintf(log, "MovieLens 100K split %s: %d training ratings, %d evaluation ratings (%s), %d users, %d items\n",
		ml.Split, len(train), len(eval), evalName, ml.Users, ml.Items)
	sum := Summary{
		Split: ml.Split, Evaluation: evalName, TrainRatings: len(train), EvalRatings: len(eval),
		Users: ml.Users, Items: ml.Items, Model: c.model, Hidden: c.hidden, Epochs: c.epochs, BatchSize: c.batch,
		CDSteps: steps, LearningRate: c.lr, Momentum: c.momentum, WeightDecay: c.decay, Seed: c.seed,
	}
	sum.GlobalMeanRMSE, sum.UserMeanRMSE, sum.ItemMeanRMSE = baselines(train, eval)
	if userBased {
		r, err := trainCF(ctx, c, steps, "user-based CF-RBM (one RBM per user over the movies it rated)", train, eval, ml.Users, ml.Items, log)
		if err != nil {
			return err
		}
		sum.UserRBM = &RBMResult{RMSE: r.rmse, ExactRMSE: r.exact, TrainSeconds: r.seconds}
	}
	if itemBased {
		r, err := trainCF(ctx, c, steps, "item-based CF-RBM (one RBM per movie over the users who rated it)", transpose(train), transpose(eval), ml.Items, ml.Users, log)
		if err != nil {
			return err
		}
		sum.ItemRBM = &RBMResult{RMSE: r.rmse, ExactRMSE: r.exact, TrainSeconds: r.seconds}
	}
	sum.WallSeconds = time.Since(began).Seconds()
	fmt.Fprintf(log, "RMSE on the %d ratings of %s:\n", len(eval), evalName)
	line := func(label string, v float64, extra string) { fmt.Fprintf(log, "  %-44s %.4f%s\n", label, v, extra) }
	line("global mean", sum.GlobalMeanRMSE, "")
	line("user mean", sum.UserMeanRMSE, "")
	line("item mean", sum.ItemMeanRMSE, "")
	for _, m := range []struct {
		name string
		r    *RBMResult
	}{{"user-based", sum.UserRBM}, {"item-based", sum.ItemRBM}} {
		if m.r != nil {
			line("CF-RBM "+m.name+", mean-field prediction", m.r.RMSE, fmt.Sprintf("   (training %.1f s)", m.r.TrainSeconds))
			line("CF-RBM "+m.name+", exact p(v_q|V) prediction", m.r.ExactRMSE, "")
		}
	}
	fmt.Fprintf(log, "wall time %.1f s\n", sum.WallSeconds)
	if c.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	return nil
}
