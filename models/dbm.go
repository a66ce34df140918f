package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/pkg/errors"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/ops"
)

// DBM is a deep Boltzmann machine (Salakhutdinov & Hinton 2009, "Deep Boltzmann machines",
// AISTATS): binary layers x_0 = v (the data), x_1 = h1, …, x_L = hL with undirected connections
// between adjacent layers only and energy
//
//	E(x) = -Σ_{l=0..L} b_lᵀx_l - Σ_{l=0..L-1} x_lᵀ W_l x_{l+1}
//
// W[l] is (n_l, n_{l+1}) and B[l] is (n_l), so W has L entries and B has L+1 (B[0] the visible
// biases). All tensors share one dtype, Float32 or Float64; inference and sampling compute in
// float64 whatever the dtype. Unlike a DBN every hidden layer receives input from below and from
// above: p(x_l = 1 | rest) = σ(b_l + x_{l-1}W_{l-1} + x_{l+1}W_lᵀ).
//
// The layers split into the even ones (x_0, x_2, …) and the odd ones (x_1, x_3, …), which are
// conditionally independent given each other: a DBM is an RBM between the odd and the even
// layers with a block-structured weight matrix (AsRBM). Block Gibbs sampling, exact log Z and AIS
// use that form.
type DBM struct {
	W []*tensor.Dense // W[l] (n_l, n_{l+1}), l = 0..L-1
	B []*tensor.Dense // B[l] (n_l), l = 0..L
}

// NewDBM returns a DBM with layer sizes sizes[0] (visible units) to sizes[L] (top hidden layer),
// at least two sizes, each ≥ 1: weights from N(0, WeightStd²) drawn from src layer after layer in
// row-major order, zero biases.
func NewDBM(sizes []int, dt tensor.Dtype, src rand.Source) (*DBM, error) {
	if len(sizes) < 2 {
		return nil, fmt.Errorf("models: a DBM needs at least two layer sizes (visible and one hidden), got %v", sizes)
	}
	for i, n := range sizes {
		if n < 1 {
			return nil, fmt.Errorf("models: DBM layer %d has %d units; sizes must be ≥ 1 (got %v)", i, n, sizes)
		}
	}
	if err := checkDtype(dt); err != nil {
		return nil, err
	}
	if src == nil {
		return nil, errors.New("models: nil rand.Source for the initial weights")
	}
	r := rand.New(src)
	d := &DBM{}
	for l := 0; l+1 < len(sizes); l++ {
		w := make([]float64, sizes[l]*sizes[l+1])
		for i := range w {
			w[i] = WeightStd * r.NormFloat64()
		}
		d.W = append(d.W, denseOf(dt, w, sizes[l], sizes[l+1]))
	}
	for _, n := range sizes {
		d.B = append(d.B, tensor.New(tensor.WithShape(n), tensor.Of(dt)))
	}
	return d, nil
}

// NewDBMFromParams builds a DBM from existing tensors (not copied) after Check.
func NewDBMFromParams(w, b []*tensor.Dense) (*DBM, error) {
	d := &DBM{W: append([]*tensor.Dense(nil), w...), B: append([]*tensor.Dense(nil), b...)}
	if err := d.Check(); err != nil {
		return nil, err
	}
	return d, nil
}

// denseOf returns a new tensor of dtype dt and the given shape holding v (rounded for Float32).
func denseOf(dt tensor.Dtype, v []float64, shape ...int) *tensor.Dense {
	t := tensor.New(tensor.WithShape(shape...), tensor.Of(dt))
	setFloats(t, v)
	return t
}

// Check reports whether the DBM has at least one weight matrix, one more bias vector than weight
// matrices, shapes that chain (W[l] is (len(B[l]), len(B[l+1]))), one dtype (Float32 or Float64),
// contiguous tensors and finite values.
func (d *DBM) Check() error {
	if d == nil || len(d.W) == 0 {
		return errors.New("models: DBM has no weight matrices")
	}
	if len(d.B) != len(d.W)+1 {
		return fmt.Errorf("models: DBM has %d weight matrices but %d bias vectors; want %d", len(d.W), len(d.B), len(d.W)+1)
	}
	dt := tensor.Dtype{}
	for l, b := range d.B {
		if b == nil {
			return fmt.Errorf("models: DBM bias %d is nil", l)
		}
		if l == 0 {
			dt = b.Dtype()
			if err := checkDtype(dt); err != nil {
				return err
			}
		}
		if b.Shape().Dims() != 1 || b.Shape()[0] < 1 {
			return fmt.Errorf("models: DBM bias %d has shape %v; want a non-empty vector", l, b.Shape())
		}
	}
	for l, w := range d.W {
		if w == nil {
			return fmt.Errorf("models: DBM weight matrix %d is nil", l)
		}
		want := []int{d.B[l].Shape()[0], d.B[l+1].Shape()[0]}
		if w.Shape().Dims() != 2 || w.Shape()[0] != want[0] || w.Shape()[1] != want[1] {
			return fmt.Errorf("models: DBM weight matrix %d has shape %v; want %v (the sizes of biases %d and %d)", l, w.Shape(), want, l, l+1)
		}
	}
	all := append(append([]*tensor.Dense(nil), d.W...), d.B...)
	for i, t := range all {
		name := fmt.Sprintf("W[%d]", i)
		if i >= len(d.W) {
			name = fmt.Sprintf("B[%d]", i-len(d.W))
		}
		if !t.Dtype().Eq(dt) {
			return fmt.Errorf("models: DBM %s has dtype %v; want %v like B[0]", name, t.Dtype(), dt)
		}
		vals := floats(t)
		if t.IsView() || len(vals) != t.Shape().TotalSize() {
			return fmt.Errorf("models: DBM %s is a view or its backing does not match its shape %v; want a plain dense tensor", name, t.Shape())
		}
		for j, v := range vals {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("models: DBM %s entry %d is %v; want finite values", name, j, v)
			}
		}
	}
	return nil
}

// NumLayers is L, the number of hidden layers (= weight matrices).
func (d *DBM) NumLayers() int { return len(d.W) }

// Dtype is the parameters' dtype.
func (d *DBM) Dtype() tensor.Dtype { return d.B[0].Dtype() }

// NumVisible is n_0.
func (d *DBM) NumVisible() int { return d.B[0].Shape()[0] }

// Sizes returns n_0, …, n_L.
func (d *DBM) Sizes() []int {
	s := make([]int, len(d.B))
	for l, b := range d.B {
		s[l] = b.Shape()[0]
	}
	return s
}

// Clone returns a deep copy.
func (d *DBM) Clone() (*DBM, error) {
	if err := d.Check(); err != nil {
		return nil, err
	}
	out := &DBM{}
	for _, w := range d.W {
		out.W = append(out.W, w.Clone().(*tensor.Dense))
	}
	for _, b := range d.B {
		out.B = append(out.B, b.Clone().(*tensor.Dense))
	}
	return out, nil
}

// CheckData verifies that x is a non-empty (N, n_0) matrix of the DBM's dtype with values in
// [0,1].
func (d *DBM) CheckData(x *tensor.Dense) error {
	if err := d.Check(); err != nil {
		return err
	}
	if err := datasets.CheckMatrix("data", x, d.NumVisible(), d.Dtype()); err != nil {
		return errors.Wrap(err, "models: DBM")
	}
	return checkUnit("data", x)
}

// checkUnit reports the first entry of x (a checked matrix) outside [0,1].
func checkUnit(name string, x *tensor.Dense) error {
	cols := x.Shape()[1]
	for i, v := range floats(x) {
		if v < 0 || v > 1 {
			return fmt.Errorf("models: %s row %d column %d is %v; DBM units take values in [0,1]", name, i/cols, i%cols, v)
		}
	}
	return nil
}

// dbm64 is a float64 copy of a DBM's parameters, row-major.
type dbm64 struct {
	n  []int
	w  [][]float64 // w[l] (n[l], n[l+1])
	b  [][]float64
	wt [][]float64 // wt[l] = w[l]ᵀ (n[l+1], n[l]), made on first use
	// w32 holds float32 copies of the weights of a Float32 DBM: its dense products (mean-field)
	// run in float32 (gonum's Sgemm, about twice Dgemm's speed), accumulated into float64.
	w32 [][]float32
}

// transposed returns w[l]ᵀ (n[l+1], n[l]) row-major.
func (p *dbm64) transposed(l int) []float64 {
	if p.wt == nil {
		p.wt = make([][]float64, len(p.w))
	}
	if p.wt[l] == nil {
		a, b := p.n[l], p.n[l+1]
		t := make([]float64, a*b)
		for i := 0; i < a; i++ {
			for j := 0; j < b; j++ {
				t[j*a+i] = p.w[l][i*b+j]
			}
		}
		p.wt[l] = t
	}
	return p.wt[l]
}

// inputBinary is input for binary states x (up = 1): for each row, the bias plus the rows of
// W_{l-1} picked by the ones of x_{l-1} and the rows of W_lᵀ picked by the ones of x_{l+1} (a
// gather-and-add, much cheaper than a dense product on sparse binary states). Rows are split
// between runtime.GOMAXPROCS(0) goroutines; the result does not depend on the split.
func (p *dbm64) inputBinary(out []float64, x [][]float64, rows, l int) {
	nl := p.n[l]
	var below, above []float64
	if l > 0 {
		below = p.w[l-1]
	}
	if l+1 < len(p.n) {
		above = p.transposed(l)
	}
	work := func(lo, hi int) {
		for r := lo; r < hi; r++ {
			o := out[r*nl : (r+1)*nl]
			copy(o, p.b[l])
			if below != nil {
				n := p.n[l-1]
				for i, xi := range x[l-1][r*n : (r+1)*n] {
					if xi != 0 {
						addTo(o, below[i*nl:(i+1)*nl])
					}
				}
			}
			if above != nil {
				n := p.n[l+1]
				for k, xk := range x[l+1][r*n : (r+1)*n] {
					if xk != 0 {
						addTo(o, above[k*nl:(k+1)*nl])
					}
				}
			}
		}
	}
	workers := min(runtime.GOMAXPROCS(0), rows)
	if workers <= 1 {
		work(0, rows)
		return
	}
	var wg sync.WaitGroup
	for k := 0; k < workers; k++ {
		lo, hi := k*rows/workers, (k+1)*rows/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(lo, hi)
		}()
	}
	wg.Wait()
}

// addTo adds src to dst (SIMD through gonum's Daxpy).
func addTo(dst, src []float64) {
	blas64.Implementation().Daxpy(len(dst), 1, src[:len(dst)], 1, dst, 1)
}

func (d *DBM) params64() *dbm64 {
	p := &dbm64{n: d.Sizes()}
	for _, w := range d.W {
		p.w = append(p.w, append([]float64(nil), floats(w)...))
	}
	for _, b := range d.B {
		p.b = append(p.b, append([]float64(nil), floats(b)...))
	}
	if d.Dtype().Eq(tensor.Float32) {
		for _, w := range d.W {
			p.w32 = append(p.w32, append([]float32(nil), w.Data().([]float32)...))
		}
	}
	return p
}

// mulW adds alpha·x·W_l (transposed false; x (rows, n_l)) or alpha·x·W_lᵀ (transposed true; x
// (rows, n_{l+1})) to out, in float32 for a Float32 DBM.
func (p *dbm64) mulW(out, x []float64, rows, l int, transposed bool, alpha float64) {
	k, n := p.n[l], p.n[l+1]
	if transposed {
		k, n = n, k
	}
	if p.w32 == nil {
		gemm(false, transposed, rows, n, k, alpha, x, p.w[l], 1, out)
		return
	}
	a := make([]float32, rows*k)
	for i, v := range x[:rows*k] {
		a[i] = float32(v)
	}
	c := make([]float32, rows*n)
	tB, ldb := blas.NoTrans, n
	if transposed {
		tB, ldb = blas.Trans, k
	}
	blas32.Implementation().Sgemm(blas.NoTrans, tB, rows, n, k, float32(alpha), a, k, p.w32[l], ldb, 0, c, n)
	for i, v := range c {
		out[i] += float64(v)
	}
}

// gemm computes c = alpha·op(a)·op(b) + beta·c for row-major matrices: op(a) (m, k), op(b) (k, n).
func gemm(ta, tb bool, m, n, k int, alpha float64, a []float64, b []float64, beta float64, c []float64) {
	tA, tB := blas.NoTrans, blas.NoTrans
	lda, ldb := k, n
	if ta {
		tA, lda = blas.Trans, m
	}
	if tb {
		tB, ldb = blas.Trans, k
	}
	blas64.Implementation().Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, n)
}

// input computes the total input to layer l for rows states x (x[j] is (rows, n_j)) into out
// (rows, n_l): b_l + x_{l-1}W_{l-1}·up + x_{l+1}W_lᵀ (terms whose layer is absent are left out).
func (p *dbm64) input(out []float64, x [][]float64, rows, l int, up float64) {
	nl := p.n[l]
	for r := 0; r < rows; r++ {
		copy(out[r*nl:(r+1)*nl], p.b[l])
	}
	if l > 0 && x[l-1] != nil {
		p.mulW(out, x[l-1], rows, l-1, false, up)
	}
	if l+1 < len(p.n) && x[l+1] != nil {
		p.mulW(out, x[l+1], rows, l, true, 1)
	}
}

// bottomUp returns the recognition initialisation of the hidden layers for v (rows, n_0): μ_l =
// σ(b_l + 2·μ_{l-1}W_{l-1}) for 0 < l < L (the bottom-up input doubled, standing in for the
// missing top-down input) and μ_L = σ(b_L + μ_{L-1}W_{L-1}). With double false no layer is
// doubled.
func (p *dbm64) bottomUp(v []float64, rows int, double bool) [][]float64 {
	L := len(p.w)
	mu := make([][]float64, L+1)
	mu[0] = v
	for l := 1; l <= L; l++ {
		up := 1.0
		if double && l < L {
			up = 2
		}
		mu[l] = make([]float64, rows*p.n[l])
		tmp := make([][]float64, L+1)
		tmp[l-1] = mu[l-1]
		p.input(mu[l], tmp, rows, l, up)
		sigmoidInPlace(mu[l])
	}
	return mu
}

func sigmoidInPlace(x []float64) {
	for i, a := range x {
		x[i] = ops.Sigmoid64(a)
	}
}

// MeanFieldSettings configures DBM.MeanField. Zero values are the documented defaults.
type MeanFieldSettings struct {
	// MaxIterations bounds the fixed-point sweeps; 0 means 30.
	MaxIterations int
	// Tolerance stops the sweeps once no μ entry changed by more than it in a sweep; 0 means
	// 1e-6.
	Tolerance float64
	// Init, when not nil, holds the starting μ_1..μ_L (L tensors (N, n_l), values in [0,1]);
	// nil means the doubled bottom-up pass (DBM.BottomUp).
	Init []*tensor.Dense
}

func (s MeanFieldSettings) defaults() (int, float64) {
	it, tol := s.MaxIterations, s.Tolerance
	if it <= 0 {
		it = 30
	}
	if tol <= 0 {
		tol = 1e-6
	}
	return it, tol
}

// meanField runs the fixed-point updates on mu (mu[0] = v clamped) in place, layers updated in
// order l = 1..L within a sweep (each update uses the newest values), and returns the sweeps done
// and the last sweep's largest change.
func (p *dbm64) meanField(mu [][]float64, rows, maxIt int, tol float64) (int, float64) {
	L := len(p.w)
	bufs := make([][]float64, L+1)
	// The visible layer is clamped: b_1 + vW_0 is computed once.
	n1 := p.n[1]
	fixed := make([]float64, rows*n1)
	clamped := make([][]float64, L+1)
	clamped[0] = mu[0]
	p.input(fixed, clamped, rows, 1, 1)
	var delta float64
	for it := 1; it <= maxIt; it++ {
		delta = 0
		for l := 1; l <= L; l++ {
			if bufs[l] == nil {
				bufs[l] = make([]float64, rows*p.n[l])
			}
			if l == 1 {
				copy(bufs[1], fixed)
				if L > 1 {
					p.mulW(bufs[1], mu[2], rows, 1, true, 1)
				}
			} else {
				p.input(bufs[l], mu, rows, l, 1)
			}
			for i, a := range bufs[l] {
				s := ops.Sigmoid64(a)
				delta = max(delta, math.Abs(s-mu[l][i]))
				mu[l][i] = s
			}
		}
		if delta <= tol {
			return it, delta
		}
	}
	return maxIt, delta
}

// MeanField returns the mean-field posterior q(h | v) = Π_l Π_j μ_lj^h (1-μ_lj)^(1-h) for each row
// of v (N, n_0), values in [0,1]: L tensors μ_1..μ_L (N, n_l) in the DBM's dtype satisfying the
// fixed-point equations μ_l = σ(b_l + μ_{l-1}W_{l-1} + μ_{l+1}W_lᵀ) with μ_0 = v (Salakhutdinov &
// Hinton 2009, §3). The sweeps start from s.Init or from the doubled bottom-up pass and stop after
// s.MaxIterations or once the largest change is at most s.Tolerance; rows are processed in chunks
// of 1000, each iterated until it converges, and the largest number of sweeps a chunk needed is
// returned. The doubled bottom-up weights are used only for that start, never inside the updates.
func (d *DBM) MeanField(v *tensor.Dense, s MeanFieldSettings) ([]*tensor.Dense, int, error) {
	if err := d.CheckData(v); err != nil {
		return nil, 0, err
	}
	p := d.params64()
	rows := v.Shape()[0]
	L := len(p.w)
	var init [][]float64
	if s.Init != nil {
		if len(s.Init) != L {
			return nil, 0, fmt.Errorf("models: mean-field Init has %d tensors; want one per hidden layer (%d)", len(s.Init), L)
		}
		init = make([][]float64, L+1)
		for l, t := range s.Init {
			name := fmt.Sprintf("mean-field Init[%d]", l)
			if err := datasets.CheckMatrix(name, t, p.n[l+1], t.Dtype()); err != nil {
				return nil, 0, err
			}
			if err := checkUnit(name, t); err != nil {
				return nil, 0, err
			}
			if t.Shape()[0] != rows {
				return nil, 0, fmt.Errorf("models: mean-field Init[%d] has %d rows; want %d like the data", l, t.Shape()[0], rows)
			}
			init[l+1] = floats(t)
		}
	}
	out := make([]*tensor.Dense, L)
	for l := range out {
		out[l] = tensor.New(tensor.WithShape(rows, p.n[l+1]), tensor.Of(d.Dtype()))
	}
	it, tol := s.defaults()
	vs := floats(v)
	sweeps := 0
	for start := 0; start < rows; start += meanFieldChunk {
		n := min(meanFieldChunk, rows-start)
		var mu [][]float64
		if init != nil {
			mu = make([][]float64, L+1)
			for l := 1; l <= L; l++ {
				mu[l] = append([]float64(nil), init[l][start*p.n[l]:(start+n)*p.n[l]]...)
			}
		} else {
			mu = p.bottomUp(vs[start*p.n[0]:(start+n)*p.n[0]], n, true)
		}
		mu[0] = vs[start*p.n[0] : (start+n)*p.n[0]]
		k, _ := p.meanField(mu, n, it, tol)
		sweeps = max(sweeps, k)
		for l := 1; l <= L; l++ {
			copyInto(out[l-1], start*p.n[l], denseOf(d.Dtype(), mu[l], n, p.n[l]))
		}
	}
	return out, sweeps, nil
}

// meanFieldChunk is the number of rows MeanField iterates on at once.
const meanFieldChunk = 1000

// BottomUp returns the recognition initialisation of mean-field for v (N, n_0): μ_l = σ(b_l +
// 2·μ_{l-1}W_{l-1}) for the hidden layers below the top and μ_L = σ(b_L + μ_{L-1}W_{L-1}) for the
// top one (Salakhutdinov & Hinton 2009: each hidden layer below the top gets input from two
// layers, so the bottom-up input is doubled to stand in for the top-down one). With double false
// it is the plain up-pass σ(b_l + μ_{l-1}W_{l-1}). L tensors (N, n_l) in the DBM's dtype.
func (d *DBM) BottomUp(v *tensor.Dense, double bool) ([]*tensor.Dense, error) {
	if err := d.CheckData(v); err != nil {
		return nil, err
	}
	p := d.params64()
	rows := v.Shape()[0]
	mu := p.bottomUp(floats(v), rows, double)
	out := make([]*tensor.Dense, len(p.w))
	for l := range out {
		out[l] = denseOf(d.Dtype(), mu[l+1], rows, p.n[l+1])
	}
	return out, nil
}

// energy returns E(x) for row r of states x (x[l] (rows, n_l)).
func (p *dbm64) energy(x [][]float64, r int) float64 {
	var e float64
	for l, b := range p.b {
		xl := x[l][r*p.n[l] : (r+1)*p.n[l]]
		for i, bi := range b {
			e -= bi * xl[i]
		}
	}
	for l, w := range p.w {
		a := x[l][r*p.n[l] : (r+1)*p.n[l]]
		c := x[l+1][r*p.n[l+1] : (r+1)*p.n[l+1]]
		nc := p.n[l+1]
		for i, ai := range a {
			if ai == 0 {
				continue
			}
			var s float64
			row := w[i*nc : (i+1)*nc]
			for j, cj := range c {
				s += row[j] * cj
			}
			e -= ai * s
		}
	}
	return e
}

// checkStates verifies L+1 state matrices (N, n_l) of values in [0,1] with one row count.
func (d *DBM) checkStates(x []*tensor.Dense) ([][]float64, int, error) {
	if err := d.Check(); err != nil {
		return nil, 0, err
	}
	if len(x) != len(d.B) {
		return nil, 0, fmt.Errorf("models: %d state matrices; want one per layer (%d)", len(x), len(d.B))
	}
	n := d.Sizes()
	out := make([][]float64, len(x))
	rows := 0
	for l, t := range x {
		if t == nil {
			return nil, 0, fmt.Errorf("models: DBM states of layer %d are nil", l)
		}
		name := fmt.Sprintf("layer %d states", l)
		if err := datasets.CheckMatrix(name, t, n[l], t.Dtype()); err != nil {
			return nil, 0, err
		}
		if err := checkUnit(name, t); err != nil {
			return nil, 0, err
		}
		if l == 0 {
			rows = t.Shape()[0]
		} else if t.Shape()[0] != rows {
			return nil, 0, fmt.Errorf("models: layer %d states have %d rows; layer 0 has %d", l, t.Shape()[0], rows)
		}
		out[l] = floats(t)
	}
	return out, rows, nil
}

// Energy returns E(x) in nats for each row of the layer states x (L+1 matrices (N, n_l), values in
// [0,1]; mean-field values give the mean-field energy E(v, μ), which is linear in each layer).
func (d *DBM) Energy(x []*tensor.Dense) ([]float64, error) {
	xs, rows, err := d.checkStates(x)
	if err != nil {
		return nil, err
	}
	p := d.params64()
	out := make([]float64, rows)
	for r := range out {
		out[r] = p.energy(xs, r)
	}
	return out, nil
}

// LowerBound returns, for each row of v (N, n_0), the variational lower bound
//
//	log p(v) ≥ -E(v, μ) + H(μ) - log Z,   H(μ) = -Σ_l Σ_j [μ_lj log μ_lj + (1-μ_lj) log(1-μ_lj)]
//
// in nats, with μ the mean-field posterior for v (MeanField with s) and logZ the DBM's log
// partition function (ExactLogZ, or an AIS estimate: the bound then inherits its error).
func (d *DBM) LowerBound(v *tensor.Dense, logZ float64, s MeanFieldSettings) ([]float64, error) {
	mu, _, err := d.MeanField(v, s)
	if err != nil {
		return nil, err
	}
	x := append([]*tensor.Dense{v}, mu...)
	e, err := d.Energy(x)
	if err != nil {
		return nil, err
	}
	n := d.Sizes()
	for r := range e {
		h := 0.0
		for l, t := range mu {
			m := floats(t)[r*n[l+1] : (r+1)*n[l+1]]
			for _, q := range m {
				h -= xlogx(q) + xlogx(1-q)
			}
		}
		e[r] = -e[r] + h - logZ
	}
	return e, nil
}

func xlogx(x float64) float64 {
	if x <= 0 {
		return 0
	}
	return x * math.Log(x)
}

// AsRBM returns the DBM as an RBM between its even and its odd layers: visible units x_0, x_2, x_4,
// … concatenated in that order, hidden units x_1, x_3, …, weight matrix with the block W[l]
// coupling layer l (even) to l+1 (odd) and W[l]ᵀ coupling layer l+1 (even) to l (odd), zero
// elsewhere, and the layers' biases. The two models have the same energy, hence the same
// partition function and block-Gibbs chain; for a 2-layer DBM the RBM's visible layer is (v, h2)
// and its hidden layer h1. The RBM has the DBM's dtype and owns its tensors.
func (d *DBM) AsRBM() (*RBM, error) {
	if err := d.Check(); err != nil {
		return nil, err
	}
	p := d.params64()
	even, odd := p.offsets()
	nv, nh := even[len(even)-1], odd[len(odd)-1]
	w := make([]float64, nv*nh)
	b := make([]float64, nv)
	c := make([]float64, nh)
	for l := range p.n {
		if l%2 == 0 {
			copy(b[even[l/2]:], p.b[l])
		} else {
			copy(c[odd[l/2]:], p.b[l])
		}
	}
	for l, wl := range p.w {
		a, bb := p.n[l], p.n[l+1]
		for i := 0; i < a; i++ {
			for j := 0; j < bb; j++ {
				if l%2 == 0 { // l even (visible side), l+1 odd
					w[(even[l/2]+i)*nh+odd[(l+1)/2]+j] = wl[i*bb+j]
				} else { // l odd, l+1 even
					w[(even[(l+1)/2]+j)*nh+odd[l/2]+i] = wl[i*bb+j]
				}
			}
		}
	}
	dt := d.Dtype()
	return NewRBMFromParams(denseOf(dt, w, nv, nh), denseOf(dt, b, nv), denseOf(dt, c, nh))
}

// offsets returns the start of each even layer within the even units (even[k] for layer 2k) and
// of each odd layer within the odd units (odd[k] for layer 2k+1), each with the total appended.
func (p *dbm64) offsets() (even, odd []int) {
	even, odd = []int{0}, []int{0}
	for l, n := range p.n {
		if l%2 == 0 {
			even = append(even, even[len(even)-1]+n)
		} else {
			odd = append(odd, odd[len(odd)-1]+n)
		}
	}
	return even, odd
}

// ExactLogZ returns the DBM's log partition function in nats by enumeration: the states of the
// odd layers or of the even ones, whichever has fewer units (at most MaxExactUnits), with the
// other layers summed out analytically (AsRBM then RBM.ExactLogZ). Computed in float64.
func (d *DBM) ExactLogZ() (float64, error) {
	r, err := d.AsRBM()
	if err != nil {
		return 0, err
	}
	return r.ExactLogZ()
}

// MaxExactPosteriorUnits bounds the hidden units ExactPosterior enumerates.
const MaxExactPosteriorUnits = 20

// ExactPosterior returns, for each row of v (N, n_0, binary), the exact posterior marginals p(x_l
// = 1 | v) of the hidden layers (L tensors (N, n_l), the DBM's dtype) and log p*(v) = log Σ_h
// exp(-E(v, h)) (subtract log Z for log p(v)), by enumerating all hidden states: at most
// MaxExactPosteriorUnits hidden units. It is the reference against which mean-field is checked.
func (d *DBM) ExactPosterior(v *tensor.Dense) ([]*tensor.Dense, []float64, error) {
	if err := d.CheckData(v); err != nil {
		return nil, nil, err
	}
	p := d.params64()
	nh := 0
	for _, n := range p.n[1:] {
		nh += n
	}
	if nh > MaxExactPosteriorUnits {
		return nil, nil, fmt.Errorf("models: exact DBM posterior over %d hidden units (2^%d states) is too large; the limit is %d: use MeanField", nh, nh, MaxExactPosteriorUnits)
	}
	rows := v.Shape()[0]
	vs := floats(v)
	L := len(p.w)
	marg := make([][]float64, L+1)
	for l := 1; l <= L; l++ {
		marg[l] = make([]float64, rows*p.n[l])
	}
	logp := make([]float64, rows)
	x := make([][]float64, L+1)
	for l := 1; l <= L; l++ {
		x[l] = make([]float64, p.n[l])
	}
	es := make([]float64, 1<<nh)
	for r := 0; r < rows; r++ {
		x[0] = vs[r*p.n[0] : (r+1)*p.n[0]]
		m := math.Inf(-1)
		for s := range es {
			bit := 0
			for l := 1; l <= L; l++ {
				for j := range x[l] {
					x[l][j] = float64((s >> bit) & 1)
					bit++
				}
			}
			es[s] = -p.energy(x, 0)
			m = max(m, es[s])
		}
		var z float64
		for s, e := range es {
			w := math.Exp(e - m)
			z += w
			bit := 0
			for l := 1; l <= L; l++ {
				for j := 0; j < p.n[l]; j++ {
					if (s>>bit)&1 == 1 {
						marg[l][r*p.n[l]+j] += w
					}
					bit++
				}
			}
		}
		for l := 1; l <= L; l++ {
			for j := 0; j < p.n[l]; j++ {
				marg[l][r*p.n[l]+j] /= z
			}
		}
		logp[r] = m + math.Log(z)
	}
	out := make([]*tensor.Dense, L)
	for l := range out {
		out[l] = denseOf(d.Dtype(), marg[l+1], rows, p.n[l+1])
	}
	return out, logp, nil
}

// gibbsSweep updates chain states x (x[l] (rows, n_l), binary: 0 or 1 exactly) in place by one block-Gibbs sweep:
// first every odd layer from p(x_l | x_{l-1}, x_{l+1}), then every even layer (the visible layer
// included), drawing one r.Float64 per unit, layer by layer, row-major.
func (p *dbm64) gibbsSweep(x [][]float64, rows int, r *rand.Rand, buf [][]float64) {
	for parity := 1; parity >= 0; parity-- {
		for l := parity; l < len(p.n); l += 2 {
			if buf[l] == nil {
				buf[l] = make([]float64, rows*p.n[l])
			}
			p.inputBinary(buf[l], x, rows, l)
			for i, a := range buf[l] {
				if r.Float64() < ops.Sigmoid64(a) {
					x[l][i] = 1
				} else {
					x[l][i] = 0
				}
			}
		}
	}
}

// Sample runs k ≥ 1 block-Gibbs sweeps (odd layers, then even layers) from the binary states x0
// (L+1 matrices (N, n_l), every entry 0 or 1, else an error) and returns the new states in the DBM's dtype; every draw comes from
// src. Start from, e.g., RandomStates.
func (d *DBM) Sample(x0 []*tensor.Dense, k int, src rand.Source) ([]*tensor.Dense, error) {
	xs, rows, err := d.checkStates(x0)
	if err != nil {
		return nil, err
	}
	if k < 1 {
		return nil, errors.Errorf("models: Gibbs sweeps k = %d; want ≥ 1", k)
	}
	if src == nil {
		return nil, errors.New("models: nil rand.Source for DBM sampling")
	}
	for l, xl := range xs {
		for i, v := range xl {
			if v != 0 && v != 1 {
				return nil, fmt.Errorf("models: layer %d state %d is %v; Gibbs sampling starts from binary states", l, i, v)
			}
		}
	}
	p := d.params64()
	x := make([][]float64, len(xs))
	for l := range xs {
		x[l] = append([]float64(nil), xs[l]...)
	}
	r := rand.New(src)
	buf := make([][]float64, len(x))
	for range k {
		p.gibbsSweep(x, rows, r, buf)
	}
	out := make([]*tensor.Dense, len(x))
	for l := range x {
		out[l] = denseOf(d.Dtype(), x[l], rows, p.n[l])
	}
	return out, nil
}

// RandomStates returns n rows of states for every layer, each unit 1 with probability σ(b_l)
// (its bias alone), drawn from src layer by layer, row-major: a start for Sample.
func (d *DBM) RandomStates(n int, src rand.Source) ([]*tensor.Dense, error) {
	if err := d.Check(); err != nil {
		return nil, err
	}
	if n < 1 {
		return nil, errors.Errorf("models: %d chains; want ≥ 1", n)
	}
	if src == nil {
		return nil, errors.New("models: nil rand.Source for DBM states")
	}
	p := d.params64()
	x := p.randomStates(n, rand.New(src))
	out := make([]*tensor.Dense, len(x))
	for l := range x {
		out[l] = denseOf(d.Dtype(), x[l], n, p.n[l])
	}
	return out, nil
}

func (p *dbm64) randomStates(n int, r *rand.Rand) [][]float64 {
	x := make([][]float64, len(p.n))
	for l, nl := range p.n {
		x[l] = make([]float64, n*nl)
		for i := range x[l] {
			if r.Float64() < ops.Sigmoid64(p.b[l][i%nl]) {
				x[l][i] = 1
			}
		}
	}
	return x
}
