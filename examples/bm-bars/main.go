// Command bm-bars trains a fully connected Boltzmann machine with hidden units on 3×3
// bars-and-stripes with the exact Boltzmann learning rule, reporting the exact KL(data‖model) per
// epoch; then completes half-occluded patterns by simulated annealing with the known pixels
// clamped; then solves a random max-cut instance written as a Boltzmann-machine energy by
// annealing and checks it against exhaustive search.
//
//	go run ./examples/bm-bars
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
)

type config struct {
	epochs, hidden, report, cutNodes, cutRuns int
	lr                                        float64
	seed                                      uint64
}

func main() {
	var c config
	flag.IntVar(&c.epochs, "epochs", 1000, "epochs of exact Boltzmann learning")
	flag.IntVar(&c.hidden, "hidden", 6, "hidden units (9 + hidden ≤ 24 for exact learning)")
	flag.Float64Var(&c.lr, "lr", 0.3, "learning rate")
	flag.IntVar(&c.report, "report", 100, "print KL every this many epochs")
	flag.IntVar(&c.cutNodes, "cut-nodes", 20, "nodes of the random max-cut instance (≤ 24)")
	flag.IntVar(&c.cutRuns, "cut-runs", 20, "annealing runs on the max-cut instance")
	flag.Uint64Var(&c.seed, "seed", 1, "random seed")
	flag.Parse()
	if err := run(context.Background(), c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bm-bars:", err)
		os.Exit(1)
	}
}

// barsAndStripes returns the 14 distinct 3×3 bars-and-stripes images (rows of 9 pixels).
func barsAndStripes() [][]float64 {
	var out [][]float64
	seen := map[[9]float64]bool{}
	for mask := 0; mask < 8; mask++ {
		for _, vertical := range []bool{false, true} {
			var img [9]float64
			for r := 0; r < 3; r++ {
				for c := 0; c < 3; c++ {
					line := r
					if vertical {
						line = c
					}
					img[3*r+c] = float64(mask >> line & 1)
				}
			}
			if !seen[img] {
				seen[img] = true
				out = append(out, img[:])
			}
		}
	}
	return out
}

func isBarsAndStripes(v []float64) bool {
	for _, p := range barsAndStripes() {
		same := true
		for i := range p {
			same = same && p[i] == v[i]
		}
		if same {
			return true
		}
	}
	return false
}

func run(ctx context.Context, c config, out io.Writer) error {
	pats := barsAndStripes()
	var rows []float64
	for _, p := range pats {
		rows = append(rows, p...)
	}
	data := tensor.New(tensor.WithShape(len(pats), 9), tensor.WithBacking(rows))
	bm, err := models.NewBM(9, c.hidden, rand.NewPCG(c.seed, 1))
	if err != nil {
		return err
	}
	kl := func() (float64, error) {
		ll, err := bm.LogLikelihood(data)
		if err != nil {
			return 0, err
		}
		s := 0.0
		for _, l := range ll {
			s += l
		}
		return -math.Log(float64(len(pats))) - s/float64(len(ll)), nil
	}
	k0, err := kl()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "BM with 9 visible + %d hidden units, fully connected, 3×3 bars and stripes (%d patterns)\n", c.hidden, len(pats))
	fmt.Fprintf(out, "epoch %5d  KL(data‖model) %.4f nats\n", 0, k0)
	_, err = optim.Fit(ctx, &models.BMLearner{BM: bm, Exact: true}, data, optim.Settings{
		Epochs: c.epochs, BatchSize: len(pats), LearningRate: optim.Constant(c.lr), Momentum: optim.Constant(0.5),
		Shuffle: rand.NewPCG(c.seed, 2), Chains: rand.NewPCG(c.seed, 3),
		OnEpoch: func(r optim.EpochRecord) error {
			if r.Epoch%c.report != 0 && r.Epoch != c.epochs {
				return nil
			}
			k, err := kl()
			if err == nil {
				fmt.Fprintf(out, "epoch %5d  KL(data‖model) %.4f nats\n", r.Epoch, k)
			}
			return err
		},
	})
	if err != nil {
		return err
	}

	// Pattern completion: clamp the top two rows, anneal the bottom row and the hidden units.
	n := bm.Size()
	clamp := make([]bool, n)
	for i := 0; i < 6; i++ {
		clamp[i] = true
	}
	valid, total := 0, 0
	src := rand.NewPCG(c.seed, 4)
	fmt.Fprintln(out, "completing the bottom row from the top two rows (lowest-energy state found by annealing):")
	for _, p := range pats {
		start := make([]float64, n)
		copy(start, p[:6])
		best, _, err := bm.Anneal(tensor.New(tensor.WithShape(1, n), tensor.WithBacking(start)), bm.DefaultSchedule(200), clamp, src)
		if err != nil {
			return err
		}
		v := best.Data().([]float64)[:9]
		ok := isBarsAndStripes(v)
		if ok {
			valid++
		}
		total++
		fmt.Fprintf(out, "  %v %v | %v → %v  %s\n", p[0:3], p[3:6], p[6:9], v[6:9], map[bool]string{true: "valid pattern", false: "NOT a bars-and-stripes pattern"}[ok])
	}
	fmt.Fprintf(out, "completions that are valid bars-and-stripes patterns: %d of %d\n", valid, total)

	// Max-cut: maximise Σ_{i<j} w_ij [s_i ≠ s_j]; as a BM energy E = -cut with W_ij = -2w_ij and
	// b_i = Σ_j w_ij.
	r := rand.New(rand.NewPCG(c.seed, 5))
	m := c.cutNodes
	w, b := make([]float64, m*m), make([]float64, m)
	edges := 0
	for i := 0; i < m; i++ {
		for j := i + 1; j < m; j++ {
			if r.Float64() < 0.5 {
				w[i*m+j], w[j*m+i] = -2, -2
				b[i]++
				b[j]++
				edges++
			}
		}
	}
	cut, err := models.NewBMFromCouplings(m, w, b)
	if err != nil {
		return err
	}
	_, ground, err := cut.GroundState()
	if err != nil {
		return err
	}
	start := make([]float64, c.cutRuns*m)
	for i := range start {
		start[i] = float64(r.IntN(2))
	}
	_, energy, err := cut.Anneal(tensor.New(tensor.WithShape(c.cutRuns, m), tensor.WithBacking(start)), cut.DefaultSchedule(1000), nil, rand.NewPCG(c.seed, 6))
	if err != nil {
		return err
	}
	hits, bestCut := 0, 0.0
	for _, e := range energy {
		if e == ground {
			hits++
		}
		bestCut = math.Max(bestCut, -e)
	}
	fmt.Fprintf(out, "max-cut on a random %d-node graph with %d edges: exhaustive maximum cut %v; annealing found %v, reaching the maximum in %d of %d runs\n",
		m, edges, -ground, bestCut, hits, c.cutRuns)
	return nil
}
