package estimate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"

	"gorgonia.org/tensor"
)

// Path is an annealing path from a base distribution p_A (β = 0), whose partition function Z_A is
// known exactly, to a model p_B (β = 1), through the intermediate distributions
//
//	p_β(x) = f_β(x) / Z_β,   f_β = f_A^(1-β) f_B^β
//
// of Salakhutdinov & Murray (2008). NewBernoulliPath builds one for a Bernoulli RBM; a
// Gaussian–Bernoulli RBM would provide its own Path with a Gaussian base.
type Path interface {
	// NumVisible returns the number of visible units (the width of a start row for ReverseAIS).
	NumVisible() int
	// LogZBase returns log Z_A in nats.
	LogZBase() float64
	// NewChain returns a Chain that draws all its randomness from src and shares no mutable
	// state with other chains (AIS runs chains on several goroutines).
	NewChain(src rand.Source) Chain
}

// Chain is one AIS run's state x, with the operations AIS and ReverseAIS need.
type Chain interface {
	// SampleBase draws x from p_A exactly.
	SampleBase()
	// SetVisible sets the visible units of x to v (the other units summed out), for ReverseAIS.
	SetVisible(v []float64) error
	// LogUnnormalized returns log f_β(x) in nats.
	LogUnnormalized(beta float64) float64
	// LogRatio returns log f_to(x) - log f_from(x), computed so that terms which cancel in exact
	// arithmetic cancel exactly.
	LogRatio(from, to float64) float64
	// Transition replaces x by one draw from an MCMC kernel that leaves p_β invariant and is
	// reversible with respect to it (ReverseAIS relies on reversibility).
	Transition(beta float64)
}

// DefaultRuns is the number of AIS runs M when Settings.Runs is 0 (Salakhutdinov & Murray 2008).
const DefaultRuns = 100

// Settings configures AIS and ReverseAIS. The zero value means the defaults.
type Settings struct {
	// Runs is the number M of independent AIS runs (0 means DefaultRuns; otherwise at least 2).
	// For ReverseAIS, Runs is the total over all start rows: 0 means one run per row, otherwise a
	// multiple of the number of rows.
	Runs int
	// Schedule holds the inverse temperatures β_0 = 0 < β_1 < … < β_K = 1. nil means
	// DefaultSchedule(); a non-nil empty slice is an error.
	Schedule []float64
	// Workers is the number of goroutines running chains (0 means runtime.GOMAXPROCS(0)). The
	// result does not depend on it.
	Workers int
}

// Result is a partition-function estimate from M annealing runs.
type Result struct {
	// LogZ is log Ẑ in nats: AIS returns log Z_A + log mean_m exp(LogWeights[m]).
	LogZ float64
	// StdErr is the standard error of LogZ by the delta method: sd(w)/(√M · mean(w)) with w the
	// importance weights (for ReverseAIS, the weights exp(-LogWeights) of its estimate of 1/Z).
	StdErr float64
	// Lower and Upper bound the ±3σ interval of Salakhutdinov & Murray's reference code: the
	// estimate of Z (AIS) or of 1/Z (ReverseAIS) plus or minus three standard deviations of the
	// mean weight, mapped to log Z. An end is infinite when three standard deviations exceed the
	// estimate itself (too few runs or too short a schedule).
	Lower, Upper float64
	// LogZBase is log Z_A, exact.
	LogZBase float64
	// LogWeights holds, for each run m, log w_m = Σ_k [log f_k(x_{k-1}) - log f_{k-1}(x_{k-1})]:
	// the run's own estimate of log Z - log Z_A.
	LogWeights []float64
	// EffectiveRuns is (Σ w)² / Σ w², between 1 and M: far below M means a few runs dominate
	// and the estimate is unreliable (use a longer schedule).
	EffectiveRuns float64
	// Distributions is the number of β values in the schedule (K+1).
	Distributions int
}

// ReverseResult is a reverse-AIS estimate: the log-Z fields of Result (LogZ is
// log Z_A - log mean_m exp(-LogWeights[m]), over all runs) and the RAISE log-likelihood of every
// start row.
type ReverseResult struct {
	Result
	// LogLikelihood[n] is the RAISE estimate (Burda, Grosse & Salakhutdinov 2015) of
	// log p_fwd(v_n) for start row n, in nats: log mean exp(-F(v_n) - log Z_A - LogWeights[m])
	// over the runs m started at row n (runs m ≡ n mod N).
	LogLikelihood []float64
	// MeanLogLikelihood is the mean of LogLikelihood (nats per row), MeanLogLikelihoodStdErr its
	// standard error over rows (sd/√N, which includes the spread between rows; 0 for one row).
	MeanLogLikelihood, MeanLogLikelihoodStdErr float64
}

// DefaultSchedule returns the β schedule of Salakhutdinov & Murray's reference code (RBM_AIS.m):
// steps of 1e-3 on [0, 0.5), 1e-4 on [0.5, 0.9) and 1e-5 on [0.9, 1], 14,501 values (14,500
// intermediate ratios, 14,499 transitions).
func DefaultSchedule() []float64 {
	s := make([]float64, 0, 14501)
	for i := 0; i < 500; i++ {
		s = append(s, float64(i)/1e3)
	}
	for i := 0; i < 4000; i++ {
		s = append(s, 0.5+float64(i)/1e4)
	}
	for i := 0; i < 10000; i++ {
		s = append(s, 0.9+float64(i)/1e5)
	}
	return append(s, 1)
}

// LinearSchedule returns k+1 equally spaced values β_i = i/k from 0 to 1 (k ≥ 1); nil for k < 1,
// which AIS rejects.
func LinearSchedule(k int) []float64 {
	if k < 1 {
		return nil
	}
	s := make([]float64, k+1)
	for i := range s {
		s[i] = float64(i) / float64(k)
	}
	s[k] = 1
	return s
}

// CheckSchedule reports whether s is a valid β schedule: at least two values, β_0 = 0, β_K = 1,
// strictly increasing. The error names the first offending index and value.
func CheckSchedule(s []float64) error {
	if len(s) == 0 {
		return errors.New("estimate: empty β schedule; it must run from 0 to 1 (see DefaultSchedule)")
	}
	if len(s) < 2 {
		return fmt.Errorf("estimate: β schedule has %d value; it needs at least β=0 and β=1", len(s))
	}
	if s[0] != 0 {
		return fmt.Errorf("estimate: β schedule starts at %v; it must start at 0 (the base model)", s[0])
	}
	if s[len(s)-1] != 1 {
		return fmt.Errorf("estimate: β schedule ends at %v; it must end at 1 (the target model)", s[len(s)-1])
	}
	for k := 1; k < len(s); k++ {
		if !(s[k] > s[k-1]) {
			return fmt.Errorf("estimate: β schedule is not strictly increasing: β[%d] = %v follows β[%d] = %v", k, s[k], k-1, s[k-1])
		}
	}
	return nil
}

// resolve applies the defaults of s and validates it.
func (s Settings) resolve() (Settings, error) {
	if s.Schedule == nil {
		s.Schedule = DefaultSchedule()
	}
	if err := CheckSchedule(s.Schedule); err != nil {
		return s, err
	}
	if s.Workers < 0 {
		return s, fmt.Errorf("estimate: Workers is %d; want 0 (GOMAXPROCS) or more", s.Workers)
	}
	if s.Workers == 0 {
		s.Workers = runtime.GOMAXPROCS(0)
	}
	return s, nil
}

func checkRuns(m int) error {
	if m < 2 {
		return fmt.Errorf("estimate: %d AIS runs; at least 2 are needed for a standard error (100 is usual)", m)
	}
	return nil
}

// AIS estimates log Z of the model at the end of p by annealed importance sampling (Neal 2001;
// Salakhutdinov & Murray 2008). Each of the M runs draws x_0 from p_A, then for k = 1…K adds
// log f_k(x_{k-1}) - log f_{k-1}(x_{k-1}) to its log-weight and, for k < K, draws x_k from the
// transition at β_k. Everything is in log space; log Ẑ = log Z_A + log mean_m exp(log w_m) is the
// log of an unbiased estimate of Z (see the package documentation for what that implies).
//
// Run m draws from its own PCG source seeded up front from src, and runs are spread over
// Settings.Workers goroutines, so the same src gives bit-identical results whatever the
// scheduling. Errors: nil path or src, an invalid schedule (empty, not from 0 to 1, not strictly
// increasing), Runs of 1 or less than 0, or ctx cancelled (checked every 1,000 steps).
func AIS(ctx context.Context, p Path, s Settings, src rand.Source) (*Result, error) {
	if p == nil || src == nil {
		return nil, errors.New("estimate: AIS needs a path and a rand.Source")
	}
	s, err := s.resolve()
	if err != nil {
		return nil, err
	}
	if s.Runs == 0 {
		s.Runs = DefaultRuns
	}
	if err := checkRuns(s.Runs); err != nil {
		return nil, err
	}
	logW := make([]float64, s.Runs)
	err = parallelRuns(ctx, p, s.Runs, s.Workers, src, func(c Chain, m int) error {
		w, err := forwardRun(ctx, c, s.Schedule)
		logW[m] = w
		return err
	})
	if err != nil {
		return nil, err
	}
	r := &Result{LogZBase: p.LogZBase(), LogWeights: logW, Distributions: len(s.Schedule)}
	lme, se, ess := weightStats(logW)
	r.LogZ = r.LogZBase + lme
	r.StdErr, r.EffectiveRuns = se, ess
	r.Lower, r.Upper = r.LogZ+log1pSafe(-3*se), r.LogZ+math.Log1p(3*se)
	return r, nil
}

// ReverseAIS runs the annealing backwards, from β = 1 to β = 0, from the rows of starts (N, nv):
// run m starts at row m mod N and, for k = K…1, adds log f_k(x_{k-1}) - log f_{k-1}(x_{k-1}) to
// its log-weight, with x_{K-1} the start row and x_{k-2} drawn from the transition at β_{k-1}
// (the forward runs' K-1 transitions in reverse order). It returns
//
//	log Ẑ_rev = log Z_A - log mean_m exp(-log w_m),
//
// the log of the inverse of an estimate of 1/Z, and, per row n, the RAISE log-likelihood
// log mean_{m: row n} exp(-F(v_n) - log Z_A - log w_m) (Burda, Grosse & Salakhutdinov 2015).
// See the package documentation for what each bounds. starts holds binary Float32 or Float64
// values (usually test images). Settings.Runs is the total number of runs: 0 means one per row;
// otherwise it must be a multiple of N (Runs/N chains per row, which tightens RAISE). At least 2
// runs. Randomness and errors as for AIS.
func ReverseAIS(ctx context.Context, p Path, starts *tensor.Dense, s Settings, src rand.Source) (*ReverseResult, error) {
	if p == nil || src == nil {
		return nil, errors.New("estimate: ReverseAIS needs a path and a rand.Source")
	}
	s, err := s.resolve()
	if err != nil {
		return nil, err
	}
	if starts == nil {
		return nil, errors.New("estimate: ReverseAIS needs start rows (e.g. test images)")
	}
	if sh := starts.Shape(); sh.Dims() != 2 || sh[0] < 1 || sh[1] != p.NumVisible() {
		return nil, fmt.Errorf("estimate: reverse-AIS starts must be a non-empty (N, %d) matrix, have shape %v", p.NumVisible(), sh)
	}
	x, err := copyFloats(starts)
	if err != nil {
		return nil, fmt.Errorf("estimate: reverse-AIS starts: %w", err)
	}
	nv := p.NumVisible()
	rows := len(x) / nv
	runs := s.Runs
	if runs == 0 {
		runs = rows
	}
	if runs < 0 || runs%rows != 0 {
		return nil, fmt.Errorf("estimate: ReverseAIS runs the same number of chains from each start row: Settings.Runs is %d, not a multiple of the %d rows", s.Runs, rows)
	}
	if err := checkRuns(runs); err != nil {
		return nil, err
	}
	logW := make([]float64, runs)
	top := make([]float64, runs)
	err = parallelRuns(ctx, p, runs, s.Workers, src, func(c Chain, m int) error {
		n := m % rows
		if err := c.SetVisible(x[n*nv : (n+1)*nv]); err != nil {
			return fmt.Errorf("estimate: reverse-AIS start row %d: %w", n, err)
		}
		top[m] = c.LogUnnormalized(1)
		w, err := reverseRun(ctx, c, s.Schedule)
		logW[m] = w
		return err
	})
	if err != nil {
		return nil, err
	}
	neg := make([]float64, runs)
	for m, w := range logW {
		neg[m] = -w
	}
	r := &ReverseResult{Result: Result{LogZBase: p.LogZBase(), LogWeights: logW, Distributions: len(s.Schedule)}, LogLikelihood: make([]float64, rows)}
	lme, se, ess := weightStats(neg)
	r.LogZ = r.LogZBase - lme
	r.StdErr, r.EffectiveRuns = se, ess
	r.Lower, r.Upper = r.LogZ-math.Log1p(3*se), r.LogZ-log1pSafe(-3*se)
	per := make([]float64, 0, runs/rows)
	for n := range r.LogLikelihood {
		per = per[:0]
		for m := n; m < runs; m += rows {
			per = append(per, top[m]-r.LogZBase-logW[m])
		}
		r.LogLikelihood[n], _, _ = weightStats(per)
	}
	r.MeanLogLikelihood = meanOf(r.LogLikelihood)
	if rows > 1 {
		v := 0.0
		for _, l := range r.LogLikelihood {
			v += (l - r.MeanLogLikelihood) * (l - r.MeanLogLikelihood)
		}
		r.MeanLogLikelihoodStdErr = math.Sqrt(v / float64(rows-1) / float64(rows))
	}
	return r, nil
}

// log1pSafe is log(1+x), -Inf for x ≤ -1.
func log1pSafe(x float64) float64 {
	if x <= -1 {
		return math.Inf(-1)
	}
	return math.Log1p(x)
}

// weightStats returns log mean exp(lw), the delta-method standard error of that log-mean
// (sd of the weights / (√M · their mean)) and the effective number of runs (Σw)²/Σw².
func weightStats(lw []float64) (logMean, stdErr, ess float64) {
	top := math.Inf(-1)
	for _, v := range lw {
		top = max(top, v)
	}
	n := float64(len(lw))
	sum, sq := 0.0, 0.0
	for _, v := range lw {
		w := math.Exp(v - top)
		sum += w
		sq += w * w
	}
	mean := sum / n
	dev := 0.0
	for _, v := range lw {
		d := math.Exp(v-top) - mean
		dev += d * d
	}
	sd := math.Sqrt(dev / (n - 1))
	return top + math.Log(mean), sd / math.Sqrt(n) / mean, sum * sum / sq
}

// parallelRuns calls run(chain, m) for m = 0…runs-1 on workers goroutines, chain m drawing from a
// PCG source seeded from src before any run starts. The first error wins.
func parallelRuns(ctx context.Context, p Path, runs, workers int, src rand.Source, run func(Chain, int) error) error {
	rng := rand.New(src)
	seeds := make([][2]uint64, runs)
	for m := range seeds {
		seeds[m] = [2]uint64{rng.Uint64(), rng.Uint64()}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, runs)
	for w := min(workers, runs); w > 0; w-- {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				m := int(next.Add(1) - 1)
				if m >= runs {
					return
				}
				if errs[m] = run(p.NewChain(rand.NewPCG(seeds[m][0], seeds[m][1])), m); errs[m] != nil {
					next.Store(int64(runs)) // stop handing out runs
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// ctxCheckEvery is how many annealing steps pass between checks of the context.
const ctxCheckEvery = 1000

func forwardRun(ctx context.Context, c Chain, beta []float64) (float64, error) {
	c.SampleBase()
	w := 0.0
	last := len(beta) - 1
	for k := 1; k <= last; k++ {
		w += c.LogRatio(beta[k-1], beta[k])
		if k < last {
			c.Transition(beta[k])
		}
		if k%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return w, err
			}
		}
	}
	return w, nil
}

func reverseRun(ctx context.Context, c Chain, beta []float64) (float64, error) {
	w := 0.0
	for k := len(beta) - 1; k >= 1; k-- {
		w += c.LogRatio(beta[k-1], beta[k])
		if k > 1 {
			c.Transition(beta[k-1])
		}
		if k%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return w, err
			}
		}
	}
	return w, nil
}
