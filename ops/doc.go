// Package ops provides the Gorgonia operations that energy-based models need and Gorgonia
// (gorgonia.org/gorgonia v0.9.18) lacks or gets wrong: seeded Bernoulli and Gaussian sampling
// nodes that are constants for Grad, a stop-gradient, numerically exact softplus, log-sigmoid
// and sigmoid with exact symbolic gradients, and the fused kernels of the RBM hot path (affine
// maps that skip zeros, a free-energy softplus sum with its own gradient, a sigmoid-and-sample
// step). It also exports the scalar kernels (Softplus64, Sigmoid64, ...) so that evaluation
// code outside a graph gets bit-identical values.
//
// # Operations
//
// Every constructor takes nodes of one graph and returns a new node, or an error; none panics.
// Shapes are written (batch, n); "any shape" includes scalars.
//
//	Bernoulli(p, src)         any shape, Float32/Float64 → same shape & dtype; 1 w.p. p[i], else 0.
//	                          Run error (*DomainError) for p[i] ∉ [0, 1] or NaN. Constant for Grad.
//	Gaussian(mean, sigma, src) mean any shape; sigma the same shape, a (n) or (1, n) row broadcast
//	                          over the rows of a (batch, n) mean, or a scalar → mean's shape & dtype.
//	                          Construction error (ErrShape, ErrDtype) for other shapes or mixed
//	                          dtypes; run error for sigma < 0, +Inf or NaN. Constant for Grad.
//	StopGradient(x)           any shape and dtype → a copy of x that Grad treats as a constant.
//	Softplus(x)               log(1+eˣ)     Float32/Float64, any shape; gradient σ(x).
//	LogSigmoid(x)             log σ(x)      Float32/Float64, any shape; gradient σ(-x).
//	Sigmoid(x)                σ(x)          Float32/Float64, any shape; gradient σ(x)σ(-x).
//	Affine(x, w, c)           x·w + c: x (batch, k), w (k, m), c (m) → (batch, m). Zeros of x are
//	                          skipped (a gather over the rows of w); bit-identical to MatMul +
//	                          BroadcastAdd in the default build. Gradients dx, dw = xᵀg, dc.
//	AffineT(x, w, c)          x·wᵀ + c: x (batch, k), w (m, k), c (m) → (batch, m).
//	SoftplusSum(a)            Σ_j softplus(a[r, j]): (batch, n) → (batch); gradient g_r·σ(a[r, j]).
//	SigmoidBernoulli(a, src)  Bernoulli(σ(a)) in one op, the same draws as Bernoulli(Sigmoid(a)).
//	StopSigmoid(a)            StopGradient(Sigmoid(a)) in one op (the end of a CD chain on
//	                          visible probabilities).
//
// SetGEMM installs a dense BLAS GEMM for dense operands of the product ops; BLAS names the build
// (the openblas build tag links OpenBLAS).
//
// Unsupported dtypes (Int, ...) are construction errors wrapping ErrDtype. Float32 results of
// the element-wise functions are computed in float64 and rounded once.
//
// # Why these ops exist
//
// These Gorgonia facts were checked by experiment (see the project's DESIGN.md, section 3):
//
//   - Grad needs every op on a path to the cost to be an SDOp. A sampling op must say it is not
//     differentiable with DiffWRT returning make([]bool, n): a nil DiffWRT makes Grad panic, and
//     DiffWRT true with a pass-through SymDiff gives silently wrong gradients. With the sampling
//     ops here, Grad of the contrastive-divergence cost mean F(v₀) - mean F(vₖ) equals the
//     analytic CD gradient (Hinton 2002).
//   - Gorgonia hash-conses nodes: an op with the same hash applied to the same children returns
//     the existing node. Gorgonia's own GaussianRandomNode and Dropout hash alike, so two random
//     nodes on one input collapse into one. Every sampling op here carries a unique id in its
//     hash; StopGradient and the element-wise functions are deterministic and are shared
//     (Softplus's gradient reuses a Sigmoid(x) node the caller already built).
//   - Gorgonia's random nodes and initialisers seed from the clock, and math/rand.Seed is a no-op
//     since Go 1.24. The sampling ops here draw only from the math/rand/v2 Source passed in.
//   - Gorgonia's float64 softplus returns x for x > 16 (error 6.8e-8 at 16.5) and its sigmoid
//     returns exactly 1 for x > 19, so log(1 - Sigmoid(x)) is -Inf. Softplus here is
//     max(x,0) + log1p(exp(-|x|)), log-sigmoid is -softplus(-x), and sigmoid is 1/(1+e) or
//     e/(1+e) with e = exp(-|x|): all accurate to a few ulps and never NaN for non-NaN input.
//
// Other Gorgonia behaviour met while building this package:
//
//   - The TapeMachine reuses registers: the value handed to UsePreallocDo may belong to an
//     unrelated node of another shape or dtype, or alias an input. The ops here check it and
//     allocate instead when it does not fit.
//   - An error returned by an op inside RunAll is wrapped in a type without Unwrap (it has an Err
//     method instead), so errors.As cannot find a *DomainError in it; use Transparent.
//   - Gorgonia's type inference names the result type variable 'b', so an op type such as
//     a → b → a silently makes the result take its second argument's type.
//   - Converting float32 to float64 inside a loop that calls math.Exp is up to 4.5× slower on
//     amd64 than converting in a separate loop (a false register dependency chains the calls);
//     the float32 kernels convert in blocks.
//
// # Randomness and reproducibility
//
// Each sampling op owns rand.New(src) and draws in row-major order: one Float64 per entry for
// Bernoulli (1 when u < p, compared in float64 for both dtypes, so a float32 p and its float64
// copy give identical samples), one NormFloat64 per entry for Gaussian. The same seed gives
// bit-identical samples on the same Go version and architecture; each run of a machine
// (Let, RunAll, Reset) continues the stream, so successive runs differ. Ops may share one Source:
// the TapeMachine executes them in a fixed order. The ops are safe for concurrent use, but
// concurrent runs interleave their draws.
//
// # Performance
//
// The kernels loop over the tensors' backing slices with one type switch per call. The fused
// ops keep their output and scratch buffers from run to run (a TapeMachine drops its registers
// at every Reset, so an op relying on them allocates at every run): a CD-1 step of a 784×500
// RBM allocates about 40 KB. A node's value is therefore overwritten by the next run (read
// results with G.Read, as Gorgonia's own register reuse requires anyway), and a graph holding
// fused ops must be run by one machine at a time. Measured on the project's 2-core AMD Zen 5 VM:
//
//   - Sigmoid, Softplus and LogSigmoid run four entries at a time with AVX2 + FMA (vmath_amd64.s),
//     lane-wise copies of the Go runtime's math.Exp and math.Log, so the values stay bit-identical
//     to Sigmoid64 and Softplus64 (pinned by tests over edge cases and random arguments); about
//     5× faster than the scalar loop. SoftplusSum uses Σ max(a, 0) + log Π (1 + e^-|a|): one
//     exponential per entry, a few logarithms per row.
//   - Affine, AffineT and the weight gradient xᵀg build a compressed view of x's non-zero entries
//     (AVX2 compaction, no data-dependent branch) and add the selected rows of the other operand
//     in column blocks that stay in cache, 8 vector registers at a time (AVX2, or AVX-512 where
//     available), each product rounded before its sum as gonum's GEMM does. A product with a
//     binary matrix is additions only; MNIST images (19% non-zero) and sampled states cost a
//     fraction of a dense GEMM. SetGEMM hands dense enough operands to a BLAS instead.
//   - SigmoidBernoulli draws its uniforms on one CPU while another computes σ(a), and calls a
//     *rand.PCG directly (the same stream as rand.New(src).Float64()).
//   - Large element-wise and product kernels split their work among the CPUs with the module's
//     pool of helper goroutines (internal/parallel), which spin for a moment between kernels
//     instead of being woken for each one (a fresh goroutine per kernel made a 2-CPU CD-1 epoch
//     slower than a 1-CPU one). Results never depend on the split; sampling stays sequential so
//     the draw order is fixed.
//   - MatVec computes the visible term bᵀv of a free energy without a BLAS call, and Engine
//     gives the training machines a vectorised Add for the gradient sums Gorgonia builds when a
//     parameter appears twice in a cost (W in F(v₀) and F(v_k)).
//
// Without AVX2 (or with the purego build tag) every kernel falls back to plain Go loops with the
// same results. The openblas build tag (cgo, libopenblas-dev) makes Gorgonia's own products and
// the dense products here call OpenBLAS (see BLAS and SetGEMM). See the package benchmarks and
// the repository's bench/ harness.
//
// # References
//
//   - G. E. Hinton (2002). Training products of experts by minimizing contrastive divergence.
//     Neural Computation 14(8), 1771–1800. (Sampling as a constant for the CD gradient.)
//   - T. Tieleman (2008). Training restricted Boltzmann machines using approximations to the
//     likelihood gradient. ICML. (Persistent chains: StopGradient on carried-over states.)
//   - G. E. Hinton (2010). A practical guide to training restricted Boltzmann machines.
//     UTML TR 2010-003. (Sampling hidden states, Gaussian visible units.)
//   - D. Goldberg (1991). What every computer scientist should know about floating-point
//     arithmetic. ACM Computing Surveys 23(1). (log1p(e) = log(u)·e/(u-1), u = 1+e.)
package ops
