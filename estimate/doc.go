// Package estimate evaluates energy-based models honestly: the exact partition function of small
// models, annealed importance sampling (AIS) for large ones, reverse AIS from data, and the test
// log-likelihood log p(v) = -F(v) - log Z that follows. Reconstruction error and
// pseudo-likelihood can improve while a model gets worse; the log-likelihood cannot.
//
// Everything is plain float64 Go, independent of Gorgonia graphs, and every random draw comes
// from a math/rand/v2 Source passed in. Models enter as float64 copies of their parameters
// (NewBernoulliRBM(m.W, m.B, m.C) for a models.RBM), so this package does not import models.
//
//	em, _ := estimate.NewBernoulliRBM(m.W, m.B, m.C)
//	logZ, err := estimate.ExactLogZ(em) // up to MaxExactUnits units in the smaller layer
//
//	base, _ := estimate.BaseRateBiases(train)   // clipped pixel marginals of the training data
//	path, _ := estimate.NewBernoulliPath(em, base)
//	r, err := estimate.AIS(ctx, path, estimate.Settings{}, rand.NewPCG(1, 2)) // 100 runs, 14,501 β
//	f, _ := em.FreeEnergies(test)
//	// test log-likelihood ≈ -mean(f) - r.LogZ, with r.StdErr and the ±3σ interval [r.Lower, r.Upper]
//
// # Exact log Z
//
// ExactLogZ sums over the 2^n states of the smaller layer with the other layer summed out
// analytically (Σ_h exp(cᵀh + Σ_i softplus(b_i + (Wh)_i)) for an RBM), with a streaming
// log-sum-exp so nothing overflows. States are visited in Gray-code order within chunks of 2^10
// that run in parallel; per state the cost is a few flops per unit of the other layer and no
// exp (exp(±x) are updated multiplicatively, recomputed exactly at each chunk start). A 784×20
// RBM (2^20 states) takes about 1 to 2 seconds on two cores. The result is exact up to float64
// rounding (relative error below 1e-12 in the tests) and independent of the number of
// goroutines. Models with more than MaxExactUnits units in the smaller layer get an error that
// names the size and points to AIS. ExactLogLikelihood returns the mean log p(v) of a data set.
// Enumerable is the interface behind it: a Gaussian–Bernoulli RBM enumerates its hidden layer
// with the visible layer integrated out.
//
// # AIS (Neal 2001; Salakhutdinov & Murray 2008)
//
// A Path anneals from a base model p_A with known Z_A (β = 0) to the model p_B (β = 1) through
// p_β ∝ f_A^(1-β) f_B^β. BernoulliPath uses the base-rate model of Salakhutdinov & Murray: visible
// biases log(p_i/(1-p_i)) from the training data's pixel marginals, clipped to [1e-3, 1-1e-3]
// (BaseRateBiases), zero weights; the energies are interpolated and the target's hidden units
// scaled by β, and the transition at β is one block-Gibbs sweep v → h → v of p_β. Each of M runs
// draws x_0 ~ p_A, then for k = 1…K accumulates log w += log f_k(x_{k-1}) - log f_{k-1}(x_{k-1})
// and draws x_k from the transition at β_k (k < K). Then
//
//	Ẑ = Z_A · mean_m w_m,   log Ẑ = log Z_A + log mean_m exp(log w_m)   (in log space),
//
// StdErr = sd(w)/(√M·mean(w)) is the delta-method standard error of log Ẑ, and [Lower, Upper] =
// [log(Ẑ - 3σ̂), log(Ẑ + 3σ̂)] with σ̂ = Z_A·sd(w)/√M is the ±3σ interval of the reference code
// (Lower is -Inf when 3σ̂ ≥ Ẑ). EffectiveRuns = (Σw)²/Σw² tells how many runs carry the estimate.
//
// What it bounds. Ẑ is an unbiased estimate of Z for any schedule and any M: E[Ẑ] = Z. So
// E[log Ẑ] ≤ log Z (Jensen), and P(log Ẑ > log Z + t) ≤ exp(-t) (Markov): log Ẑ is a stochastic
// lower bound on log Z, and the test log-likelihood -F(v) - log Ẑ is optimistic (too high in
// expectation). For well-behaved weights the bias of log Ẑ is about -StdErr²/2, negligible next to
// StdErr; but with too short a schedule the weights are heavy-tailed: the runs miss the modes
// that hold most of Z, log Ẑ falls several nats short, and StdErr (computed from the same runs)
// does not show it. Low EffectiveRuns is the visible symptom; reverse AIS is the check.
//
// # Reverse AIS and RAISE (Burda, Grosse & Salakhutdinov 2015)
//
// ReverseAIS runs the same chain backwards from start rows (usually test images): a run starts
// at x_{K-1} = its row, then makes transitions at β_{K-1}, …, β_1, accumulating the same terms.
// Its estimate over all runs is
//
//	log Ẑ_rev = log Z_A - log mean_m exp(-log w_m).
//
// What it bounds. Were the start rows exact samples of the model, exp(-log w_m)/Z_A would be an
// unbiased estimate of 1/Z, so E[log Ẑ_rev] ≥ log Z: a stochastic upper bound on log Z, and the
// test log-likelihood -F(v) - log Ẑ_rev is conservative. Data rows are not model samples, so for
// log Z this holds only as far as the data resemble the model's distribution. What holds
// exactly for any row v: exp(-F(v) - log Z_A - log w_m) from a run started at v is an unbiased
// estimate of p_fwd(v), where p_fwd is the distribution of the final state of a forward AIS run
// with the same schedule (the "RAISE model"), because the Gibbs transition is reversible. The
// RAISE log-likelihood of a row (LogLikelihood[n], the log of the mean of those estimates over
// the row's runs) therefore satisfies E[LogLikelihood[n]] ≤ log p_fwd(v_n): a stochastic lower
// bound on the log-likelihood of the RAISE model, which tends to the RBM's as the schedule gets
// finer. Forward AIS (optimistic) and RAISE (conservative) thus bracket the test log-likelihood
// in expectation; when they differ by more than their standard errors the schedule is too short.
// The RAISE bound is loose by about half the variance of a row's log-weights divided by the
// runs per row (Jensen): with one run per row on a 784×500 MNIST RBM that is about 2 nats, so
// give each row several runs (Settings.Runs a multiple of the rows) when the figure matters.
// MeanLogLikelihoodStdErr includes the spread between rows (a few nats for MNIST digits), so
// compare RAISE with forward AIS on the same rows.
//
// # Cost, and how to pick M and the schedule
//
// One AIS step costs a Gibbs sweep: vW and Wh are sums of the rows of W (or Wᵀ) picked by the
// binary state, updated by the rows of the units that changed since the previous step, plus
// nv + 2·nh exponentials. For a 784×500 RBM trained with CD-1 on MNIST, 100 runs × 14,501
// distributions took about 2.5 CPU-minutes (measured on a shared machine; ≈ 75 s on two quiet
// cores). Reverse AIS costs the same per run. Exact enumeration costs 2^n × (other layer) and is exact.
//
// M sets the statistical error: StdErr shrinks like 1/√M, and 100 runs (the default) give a
// few hundredths of a nat on MNIST RBMs. The schedule sets the bias: the variance of the log
// weights falls roughly like 1/K, and most of it arises near β = 1, where the model's structure
// appears; hence the reference schedule (DefaultSchedule: steps of 1e-3 to 0.5, 1e-4 to 0.9,
// 1e-5 to 1, 10,000 of its 14,500 steps above 0.9). To check a schedule, double K: if log Ẑ
// moves by more than StdErr, or EffectiveRuns is a small fraction of M, or forward and reverse
// AIS disagree, use more distributions rather than more runs. Always start from the data's base
// rate (BaseRateBiases) rather than the uniform model, and where the smaller layer has at most
// MaxExactUnits units, compare with ExactLogZ.
//
// # Reproducibility and errors
//
// AIS and ReverseAIS seed one PCG source per run from the Source passed in, before any run
// starts, and spread runs over goroutines: the same Source gives bit-identical results for any
// Settings.Workers. Errors name the problem: a schedule that is empty, does not run from 0 to 1
// or is not strictly increasing; fewer than 2 runs; a base bias that is not finite; data of the
// wrong shape, dtype or range; a model too large to enumerate; a cancelled context.
package estimate
