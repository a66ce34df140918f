// Command cf-movielens trains the collaborative-filtering RBM of Salakhutdinov, Mnih & Hinton
// (2007) on a MovieLens 100K split and prints its test RMSE next to the global-mean, user-mean and
// item-mean baselines, and the wall time.
//
// Each user is an RBM whose visible units are the movies that user rated, K = 5-way softmax units
// holding the rating; weights are shared across users and unrated movies are simply absent.
// Training is CD-T with T growing during training (-cd 1,3,5,9 splits the epochs into four equal
// phases with T = 1, 3, 5, 9); predictions are expected ratings from one up-down mean-field pass
// (the exact predictive distribution of the paper's equation 9 is reported too).
//
// The data set is not shipped (its licence forbids redistribution): download ml-100k.zip from
// https://grouplens.org/datasets/movielens/100k/, unzip it and run
//
//	go run ./examples/cf-movielens -data path/to/ml-100k
//	go run ./examples/cf-movielens -data path/to/ml-100k -split u2 -json
//
// -holdout 0.1 evaluates on 10% of the training ratings instead of the test file, for choosing
// settings without looking at the test set.
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
	jsonOut, probs, itemBased     bool
}

// Summary is the final JSON object printed with -json. RMSEs are on the evaluation ratings (the
// split's test file, or the held-out training ratings with -holdout).
type Summary struct {
	Split        string  `json:"split"`
	Evaluation   string  `json:"evaluation"`
	TrainRatings int     `json:"train_ratings"`
	EvalRatings  int     `json:"eval_ratings"`
	Users        int     `json:"users"`
	Items        int     `json:"items"`
	Hidden       int     `json:"hidden"`
	ItemBased    bool    `json:"item_based"`
	Epochs       int     `json:"epochs"`
	BatchSize    int     `json:"batch_size"`
	CDSteps      []int   `json:"cd_steps"`
	LearningRate float64 `json:"learning_rate"`
	Momentum     float64 `json:"momentum"`
	WeightDecay  float64 `json:"weight_decay"`
	Seed         uint64  `json:"seed"`

	GlobalMeanRMSE float64 `json:"global_mean_rmse"`
	UserMeanRMSE   float64 `json:"user_mean_rmse"`
	ItemMeanRMSE   float64 `json:"item_mean_rmse"`
	RBMRMSE        float64 `json:"rbm_rmse"`       // mean-field prediction (one up-down pass)
	RBMExactRMSE   float64 `json:"rbm_exact_rmse"` // exact predictive distribution
	TrainSeconds   float64 `json:"train_seconds"`
	WallSeconds    float64 `json:"wall_seconds"`
}

func main() {
	var c config
	flag.StringVar(&c.data, "data", "", "the unzipped MovieLens 100K folder (ml-100k), from "+datasets.MovieLensURL)
	flag.StringVar(&c.split, "split", "u1", "split to use: u1 … u5 (files SPLIT.base and SPLIT.test)")
	flag.IntVar(&c.hidden, "hidden", 100, "hidden units")
	flag.IntVar(&c.epochs, "epochs", 60, "passes over the training users")
	flag.IntVar(&c.batch, "batch", 10, "users per minibatch")
	flag.StringVar(&c.cd, "cd", "1,3,5,9", "CD-T steps: the epochs are split into equal phases, one per value")
	flag.Float64Var(&c.lr, "lr", 0.1, "learning rate (on the gradient averaged over a minibatch's users)")
	flag.Float64Var(&c.momentum, "momentum", 0.9, "momentum (0.5 for the first 5 epochs)")
	flag.Float64Var(&c.decay, "decay", 0.001, "L2 weight decay on W")
	flag.Float64Var(&c.holdout, "holdout", 0, "if > 0, evaluate on this fraction of the training ratings (seeded) instead of the test file")
	flag.IntVar(&c.report, "report", 10, "print the evaluation RMSE every this many epochs (0: only at the end)")
	flag.Uint64Var(&c.seed, "seed", 1, "random seed")
	flag.BoolVar(&c.probs, "probs", false, "end each CD chain with visible probabilities instead of a sample")
	flag.BoolVar(&c.itemBased, "item-based", false, "one RBM per movie over the users who rated it (I-RBM) instead of one per user")
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
	var sum Summary
	sum.GlobalMeanRMSE, sum.UserMeanRMSE, sum.ItemMeanRMSE = baselines(train, eval)
	rows, cols := ml.Users, ml.Items
	if c.itemBased {
		swap := func(rs []datasets.Rating) []datasets.Rating {
			out := make([]datasets.Rating, len(rs))
			for i, r := range rs {
				out[i] = r
				out[i].User, out[i].Item = r.Item, r.User
			}
			return out
		}
		train, eval = swap(train), swap(eval)
		rows, cols = cols, rows
	}
	x, err := datasets.RatingMatrix(train, rows, cols)
	if err != nil {
		return err
	}
	users, items := make([]int, len(eval)), make([]int, len(eval))
	for q, r := range eval {
		users[q], items[q] = r.User-1, r.Item-1
	}
	fmt.Fprintf(log, "MovieLens 100K split %s: %d training ratings, %d evaluation ratings (%s), %d users, %d items\n",
		ml.Split, len(train), len(eval), evalName, ml.Users, ml.Items)

	m, err := models.NewCFRBM(cols, datasets.MovieLensMaxRating, c.hidden, rand.NewPCG(c.seed, 1))
	if err != nil {
		return err
	}
	if err := m.InitVisibleBiases(x); err != nil {
		return err
	}
	tAt := func(epoch int) int { return steps[min(epoch*len(steps)/c.epochs, len(steps)-1)] }
	learner := &models.CFLearner{Model: m, T: tAt(0), VisibleProbabilities: c.probs}
	fmt.Fprintf(log, "CF-RBM: %d hidden units, %d epochs, %d users per minibatch, CD-T with T = %v in equal phases, learning rate %v, momentum %v, weight decay %v\n",
		c.hidden, c.epochs, c.batch, steps, c.lr, c.momentum, c.decay)
	evaluate := func() (float64, error) {
		p, err := m.Predict(x, users, items)
		if err != nil {
			return 0, err
		}
		return rmse(p, eval), nil
	}
	trainStart := time.Now()
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
				e, err := evaluate()
				if err != nil {
					return err
				}
				fmt.Fprintf(log, "epoch %3d  T=%d  evaluation RMSE %.4f  (%.2f s/epoch)\n", r.Epoch, learner.T, e, r.Seconds)
			}
			learner.T = tAt(r.Epoch)
			return nil
		},
	})
	if err != nil {
		return err
	}
	trainSeconds := time.Since(trainStart).Seconds()
	mf, err := m.Predict(x, users, items)
	if err != nil {
		return err
	}
	ex, err := m.PredictExact(x, users, items)
	if err != nil {
		return err
	}
	sum.Split, sum.Evaluation, sum.TrainRatings, sum.EvalRatings = ml.Split, evalName, len(train), len(eval)
	sum.Users, sum.Items, sum.Hidden, sum.Epochs, sum.BatchSize = ml.Users, ml.Items, c.hidden, c.epochs, c.batch
	sum.ItemBased, sum.CDSteps, sum.LearningRate, sum.Momentum, sum.WeightDecay, sum.Seed = c.itemBased, steps, c.lr, c.momentum, c.decay, c.seed
	sum.RBMRMSE, sum.RBMExactRMSE, sum.TrainSeconds = rmse(mf, eval), rmse(ex, eval), trainSeconds
	sum.WallSeconds = time.Since(began).Seconds()
	fmt.Fprintf(log, "RMSE on %d ratings of %s:\n", len(eval), evalName)
	fmt.Fprintf(log, "  global mean            %.4f\n", sum.GlobalMeanRMSE)
	fmt.Fprintf(log, "  user mean              %.4f\n", sum.UserMeanRMSE)
	fmt.Fprintf(log, "  item mean              %.4f\n", sum.ItemMeanRMSE)
	fmt.Fprintf(log, "  CF-RBM (mean-field)    %.4f\n", sum.RBMRMSE)
	fmt.Fprintf(log, "  CF-RBM (exact p(v|V))  %.4f\n", sum.RBMExactRMSE)
	fmt.Fprintf(log, "training %.1f s, wall time %.1f s\n", trainSeconds, sum.WallSeconds)
	if c.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	return nil
}
