// Command cd1epoch times epochs of CD-1 training of a 784×500 RBM on the 60,000 MNIST training
// images (grey levels in [0,1]), batch 100, learning rate 0.05, no momentum or weight decay:
// the conditions of the peer scripts of bench/peers.py. It prints one JSON object per line: the
// build (pure-Go or OpenBLAS), dtype, estimator, seconds per epoch (wall and CPU), the GEMM-
// equivalent GFLOP/s (the 235.2 GFLOP of the five dense products of a CD-1 epoch divided by the
// wall time) and the peak resident memory.
//
//	go run ./bench/cd1epoch -dtype float32 -repeats 3
//	go run -tags openblas ./bench/cd1epoch -dtype float32 -repeats 3
//
// Each repeat trains a fresh model (seeded) for -epochs epochs; the figures are medians over
// repeats of the per-epoch times.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"syscall"
	"time"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/ops"
	"github.com/ebm-go/ebm/optim"
)

// gemmFLOP is the work of the five dense matrix products of one CD-1 epoch over 60,000 images
// of a 784×500 RBM with batches of 100: 5 · 2·100·784·500 flops per batch, 600 batches.
const gemmFLOP = 5 * 2 * 100 * 784 * 500 * 600.0

type result struct {
	Bench           string    `json:"bench"`
	Build           string    `json:"build"`
	Dtype           string    `json:"dtype"`
	Estimator       string    `json:"estimator"`
	Rows            int       `json:"rows"`
	Batch           int       `json:"batch"`
	Hidden          int       `json:"hidden"`
	GOMAXPROCS      int       `json:"gomaxprocs"`
	SecPerEpoch     float64   `json:"sec_per_epoch_median"`
	SecPerEpochRuns []float64 `json:"sec_per_epoch_runs"`
	CPUPerEpoch     float64   `json:"cpu_sec_per_epoch_median"`
	GFLOPs          float64   `json:"gemm_equivalent_gflops"`
	PeakRSSMB       float64   `json:"peak_rss_mb"`
	FinalCost       float64   `json:"final_cd_cost"`
}

func main() {
	dtype := flag.String("dtype", "float32", "float32 or float64")
	est := flag.String("estimator", "cd", "cd (CD-1, sampled visible states), cd-vp (CD-1 ending in visible probabilities, as the numpy loop), or pcd (PCD-1, as scikit-learn)")
	repeats := flag.Int("repeats", 3, "fresh models trained (median reported)")
	epochs := flag.Int("epochs", 1, "epochs per repeat")
	rows := flag.Int("rows", 60000, "training images used")
	hidden := flag.Int("hidden", 500, "hidden units")
	dir := flag.String("data", "", "MNIST folder (default: the GoMNIST module's copy)")
	prof := flag.String("cpuprofile", "", "write a CPU profile of the training (not of loading MNIST) to this file")
	hz := flag.Int("profile-hz", 100, "CPU profile sampling rate with -cpuprofile, samples per second")
	flag.Parse()
	if err := run(*dtype, *est, *repeats, *epochs, *rows, *hidden, *dir, *prof, *hz); err != nil {
		fmt.Fprintln(os.Stderr, "cd1epoch:", err)
		os.Exit(1)
	}
}

// startProfile starts a CPU profile written to path at hz samples per second and returns the
// function that stops it.
func startProfile(path string, hz int) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if hz != 100 {
		// pprof.StartCPUProfile keeps a rate set before it (and warns that it cannot set its own).
		runtime.SetCPUProfileRate(hz)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func run(dtName, estName string, repeats, epochs, rows, hidden int, dir, prof string, hz int) error {
	var dt tensor.Dtype
	switch dtName {
	case "float32":
		dt = tensor.Float32
	case "float64":
		dt = tensor.Float64
	default:
		return fmt.Errorf("-dtype %q: want float32 or float64", dtName)
	}
	var cd optim.CD
	switch estName {
	case "cd":
		cd = optim.CD{K: 1}
	case "cd-vp":
		cd = optim.CD{K: 1, VisibleProbabilities: true}
	case "pcd":
		cd = optim.CD{K: 1, Persistent: true}
	default:
		return fmt.Errorf("-estimator %q: want cd, cd-vp or pcd", estName)
	}
	if repeats < 1 || epochs < 1 {
		return fmt.Errorf("-repeats and -epochs must be ≥ 1")
	}
	mnist, err := datasets.LoadMNIST(dir)
	if err != nil {
		return err
	}
	data, err := mnist.Train.Matrix(rows, dt)
	if err != nil {
		return err
	}
	n := data.Shape()[0]
	if prof != "" {
		stop, err := startProfile(prof, hz)
		if err != nil {
			return err
		}
		defer stop()
	}
	var wall, cpu []float64
	cost := 0.0
	for r := range repeats {
		m, err := models.NewRBM(784, hidden, dt, rand.NewPCG(uint64(r), 1))
		if err != nil {
			return err
		}
		tr, err := optim.NewTrainer(m, n, optim.Settings{
			Estimator: cd, Epochs: epochs, BatchSize: 100, LearningRate: optim.Constant(0.05),
			Shuffle: rand.NewPCG(uint64(r), 2), Chains: rand.NewPCG(uint64(r), 3), MonitorRows: -1,
		})
		if err != nil {
			return err
		}
		for range epochs {
			c0 := cpuTime()
			began := time.Now()
			recs, err := tr.Epochs(context.Background(), data, 1)
			if err != nil {
				tr.Close()
				return err
			}
			wall = append(wall, time.Since(began).Seconds())
			cpu = append(cpu, (cpuTime() - c0).Seconds())
			cost = recs[0].Cost
		}
		tr.Close()
	}
	med := median(wall)
	res := result{
		Bench: "ebm_cd1_epoch", Build: ops.BLAS(), Dtype: dtName, Estimator: cd.String(), Rows: n,
		Batch: 100, Hidden: hidden, GOMAXPROCS: runtime.GOMAXPROCS(0), SecPerEpoch: med,
		SecPerEpochRuns: wall, CPUPerEpoch: median(cpu),
		GFLOPs:    gemmFLOP * float64(n) / 60000 * float64(hidden) / 500 / med / 1e9,
		PeakRSSMB: peakRSS(), FinalCost: cost,
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

func median(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS is the process's peak resident memory in MB (Linux reports ru_maxrss in KiB).
func peakRSS() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}
