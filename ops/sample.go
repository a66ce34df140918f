package ops

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Bernoulli adds a node that samples each entry of p independently: 1 with probability p[i],
// else 0. The result has p's shape (any, scalars included) and dtype (Float32 or Float64; other
// dtypes give an error wrapping ErrDtype). Each run of the machine draws afresh.
//
// Randomness: the op owns rand.New(src) and draws one src.Uint64 per entry, in row-major order,
// as u = rand.Float64() ∈ [0, 1), returning 1 when u < p. Float32 probabilities are widened
// exactly to float64 and compared in float64, so a float32 p and its float64 copy give identical
// samples from the same seed, and P(1) = p to within 2⁻⁵³ (p = 0 never gives 1, p = 1 always
// does). The same seed gives bit-identical samples; consecutive runs continue the stream.
// Several ops may share one Source: the TapeMachine runs them in a fixed order, so results stay
// reproducible. The op is safe for concurrent use, but concurrent runs interleave draws.
//
// Grad treats the result as a constant: no gradient flows from it into p (the op is an SDOp
// whose DiffWRT is all false), as contrastive divergence needs (Hinton 2002). Every call
// creates a distinct op (a unique id in its hash), so Bernoulli(p) twice gives two nodes with
// independent draws, unlike Gorgonia's hash-consed random nodes.
//
// At run time an entry of p outside [0, 1], or NaN, makes the run return an error wrapping a
// *DomainError that names the entry and its index; the stream position after such an error is
// unspecified. Errors at construction: nil p or src, unsupported dtype.
func Bernoulli(p *G.Node, src rand.Source) (*G.Node, error) {
	if err := checkFloat("Bernoulli", "p", p); err != nil {
		return nil, err
	}
	if src == nil {
		return nil, fmt.Errorf("ops: Bernoulli: nil rand.Source")
	}
	op := &sampleOp{kind: sampleBernoulli, id: opID.Add(1), rng: rand.New(src)}
	n, err := G.ApplyOp(op, p)
	if err != nil {
		return nil, fmt.Errorf("ops: Bernoulli(%v): %w", p, err)
	}
	return n, nil
}

// Gaussian adds a node sampling mean + sigma·N(0,1) element-wise. The result has mean's shape
// and dtype (Float32 or Float64; sigma must have the same dtype, else an error wrapping
// ErrDtype). sigma may be
//   - the same shape as mean (one standard deviation per entry);
//   - a vector (n) or (1, n) where n is mean's last dimension: broadcast over the rows of a
//     (batch, n) mean (one standard deviation per unit, as for Gaussian visible units);
//   - a scalar, or any shape of size 1: one standard deviation for all entries.
//
// Anything else is an error wrapping ErrShape at construction.
//
// Randomness as for Bernoulli: the op owns rand.New(src) and draws one rand.NormFloat64 per
// entry of mean in row-major order (float32 results are computed in float64 and rounded once).
// Grad treats the result as a constant (no gradient into mean or sigma); every call is a
// distinct node.
//
// At run time an entry of sigma that is negative, +Inf or NaN makes the run return an error
// wrapping a *DomainError. mean is not checked: NaN means give NaN samples.
func Gaussian(mean, sigma *G.Node, src rand.Source) (*G.Node, error) {
	if err := checkFloat("Gaussian", "mean", mean); err != nil {
		return nil, err
	}
	if err := checkFloat("Gaussian", "sigma", sigma); err != nil {
		return nil, err
	}
	if mean.Dtype() != sigma.Dtype() {
		return nil, fmt.Errorf("%w: Gaussian: mean has dtype %v, sigma %v", ErrDtype, mean.Dtype(), sigma.Dtype())
	}
	if src == nil {
		return nil, fmt.Errorf("ops: Gaussian: nil rand.Source")
	}
	mode, err := sigmaModeOf(mean.Shape(), sigma.Shape())
	if err != nil {
		return nil, err
	}
	op := &sampleOp{kind: sampleGaussian, id: opID.Add(1), sigma: mode, rng: rand.New(src)}
	n, err := G.ApplyOp(op, mean, sigma)
	if err != nil {
		return nil, fmt.Errorf("ops: Gaussian(%v, %v): %w", mean, sigma, err)
	}
	return n, nil
}

// opID numbers sampling op instances so that each hashes uniquely.
var opID atomic.Uint64

type sampleKind uint8

const (
	sampleBernoulli sampleKind = iota
	sampleGaussian
)

func (k sampleKind) String() string {
	if k == sampleBernoulli {
		return "Bernoulli"
	}
	return "Gaussian"
}

// sigmaMode says how Gaussian's sigma is laid against mean.
type sigmaMode uint8

const (
	sigmaSame   sigmaMode = iota // same shape as mean
	sigmaScalar                  // one value
	sigmaRow                     // a row of mean's last dimension, repeated over rows
)

func sigmaModeOf(mean, sigma tensor.Shape) (sigmaMode, error) {
	switch {
	case mean.Eq(sigma):
		return sigmaSame, nil
	case sigma.IsScalarEquiv():
		return sigmaScalar, nil
	case len(mean) >= 1 && len(sigma) >= 1 && sigma[len(sigma)-1] == mean[len(mean)-1] &&
		sigma.TotalSize() == sigma[len(sigma)-1]:
		return sigmaRow, nil
	}
	return 0, fmt.Errorf("%w: Gaussian: sigma has shape %v; want mean's shape %v, a vector of its last dimension, or a scalar",
		ErrShape, sigma, mean)
}

// sampleOp is the Gorgonia op of Bernoulli and Gaussian. It holds its random stream, so it is a
// pointer type with a unique id: Gorgonia hash-conses nodes by op hash and children.
type sampleOp struct {
	kind  sampleKind
	id    uint64
	sigma sigmaMode

	mu  sync.Mutex // guards rng
	rng *rand.Rand
}

var (
	_ G.Op              = (*sampleOp)(nil)
	_ G.SDOp            = (*sampleOp)(nil)
	_ G.UsePreallocDoer = (*sampleOp)(nil)
)

func (op *sampleOp) Arity() int {
	if op.kind == sampleGaussian {
		return 2
	}
	return 1
}

// Type is a → a for Bernoulli and a → s → a for Gaussian (sigma may have fewer dimensions).
// The variable must not be named 'b': Gorgonia's type inference names the result 'b', and an op
// type a → b → a would unify the result with sigma's type.
func (op *sampleOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	if op.kind == sampleGaussian {
		return hm.NewFnType(a, hm.TypeVariable('s'), a)
	}
	return hm.NewFnType(a, a)
}

func (op *sampleOp) InferShape(inputs ...G.DimSizer) (tensor.Shape, error) {
	if len(inputs) != op.Arity() || inputs[0] == nil {
		return nil, fmt.Errorf("ops: %v: want %d input shapes, got %v", op, op.Arity(), inputs)
	}
	s, ok := inputs[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("ops: %v: input shape is a %T", op, inputs[0])
	}
	return s.Clone(), nil
}

func (op *sampleOp) Do(inputs ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, inputs...) }

// UsePreallocDo draws into prealloc when it fits (see output) and into a new value otherwise.
func (op *sampleOp) UsePreallocDo(prealloc G.Value, inputs ...G.Value) (G.Value, error) {
	if len(inputs) != op.Arity() {
		return nil, fmt.Errorf("ops: %v: want %d inputs, got %d", op, op.Arity(), len(inputs))
	}
	first, err := flatOf(inputs[0])
	if err != nil {
		return nil, fmt.Errorf("ops: %v: %w", op, err)
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	if op.kind == sampleBernoulli {
		v, out := output(prealloc, first, first)
		if err := op.bernoulli(out, first); err != nil {
			return nil, err
		}
		return v, nil
	}
	sigma, err := flatOf(inputs[1])
	if err != nil {
		return nil, fmt.Errorf("ops: %v: sigma: %w", op, err)
	}
	if err := op.checkSigma(first, sigma); err != nil {
		return nil, err
	}
	v, out := output(prealloc, first, first, sigma)
	if err := op.gaussian(out, first, sigma); err != nil {
		return nil, err
	}
	return v, nil
}

// bernoulli sets out[i] = 1 if u_i < p[i] else 0. The comparison is branch-free (the sign bit
// of u - p, which is exact in sign): a data-dependent branch would be mispredicted about half
// the time and made this loop 3.5× slower.
func (op *sampleOp) bernoulli(out, p flat) error {
	r := op.rng
	if p.dt == tensor.Float64 {
		o := out.f64[:len(p.f64)]
		for i, pi := range p.f64 {
			if !(pi >= 0 && pi <= 1) {
				return newDomainError(op.String(), "p", p.shape, i, pi, "[0, 1]")
			}
			o[i] = float64(int64(math.Float64bits(r.Float64()-pi) >> 63))
		}
		return nil
	}
	o := out.f32[:len(p.f32)]
	for i, p32 := range p.f32 {
		pi := float64(p32)
		if !(pi >= 0 && pi <= 1) {
			return newDomainError(op.String(), "p", p.shape, i, pi, "[0, 1]")
		}
		o[i] = float32(int64(math.Float64bits(r.Float64()-pi) >> 63))
	}
	return nil
}

// checkSigma checks sigma's length against mean's for the op's mode and, unless sigma has
// mean's shape (checked while drawing), its values.
func (op *sampleOp) checkSigma(mean, sigma flat) error {
	m, s := mean.len(), sigma.len()
	ok := false
	switch op.sigma {
	case sigmaSame:
		ok = s == m
	case sigmaScalar:
		ok = s == 1
	case sigmaRow:
		ok = s > 0 && m%s == 0 && (len(mean.shape) == 0 || mean.shape[len(mean.shape)-1] == s)
	}
	if !ok {
		return fmt.Errorf("%w: ops: %v: sigma value has shape %v, mean %v", ErrShape, op, sigma.shape, mean.shape)
	}
	if op.sigma != sigmaSame {
		for j := range s {
			if v := sigma.at(j); !validSigma(v) {
				return newDomainError(op.String(), "sigma", sigma.shape, j, v, "[0, +Inf)")
			}
		}
	}
	return nil
}

func validSigma(s float64) bool { return s >= 0 && s <= math.MaxFloat64 }

// gaussian sets out = mean + sigma·N(0,1), one NormFloat64 per entry in row-major order.
func (op *sampleOp) gaussian(out, mean, sigma flat) error {
	r := op.rng
	if mean.dt == tensor.Float64 {
		m, s, o := mean.f64, sigma.f64, out.f64[:len(mean.f64)]
		switch op.sigma {
		case sigmaSame:
			s = s[:len(m)]
			for i, mi := range m {
				if !validSigma(s[i]) {
					return newDomainError(op.String(), "sigma", sigma.shape, i, s[i], "[0, +Inf)")
				}
				o[i] = mi + s[i]*r.NormFloat64()
			}
		case sigmaScalar:
			s0 := s[0]
			for i, mi := range m {
				o[i] = mi + s0*r.NormFloat64()
			}
		case sigmaRow:
			n := len(s)
			for lo := 0; lo < len(m); lo += n {
				mr, or := m[lo:lo+n], o[lo:lo+n]
				for j, mj := range mr {
					or[j] = mj + s[j]*r.NormFloat64()
				}
			}
		}
		return nil
	}
	m, s, o := mean.f32, sigma.f32, out.f32[:len(mean.f32)]
	switch op.sigma {
	case sigmaSame:
		s = s[:len(m)]
		for i, mi := range m {
			si := float64(s[i])
			if !validSigma(si) {
				return newDomainError(op.String(), "sigma", sigma.shape, i, si, "[0, +Inf)")
			}
			o[i] = float32(float64(mi) + si*r.NormFloat64())
		}
	case sigmaScalar:
		s0 := float64(s[0])
		for i, mi := range m {
			o[i] = float32(float64(mi) + s0*r.NormFloat64())
		}
	case sigmaRow:
		n := len(s)
		for lo := 0; lo < len(m); lo += n {
			mr, or := m[lo:lo+n], o[lo:lo+n]
			for j, mj := range mr {
				or[j] = float32(float64(mj) + float64(s[j])*r.NormFloat64())
			}
		}
	}
	return nil
}

func (op *sampleOp) ReturnsPtr() bool     { return false }
func (op *sampleOp) CallsExtern() bool    { return false }
func (op *sampleOp) OverwritesInput() int { return -1 }

// WriteHash writes the op's unique name, so that no two sampling ops are merged by
// Gorgonia's hash-consing.
func (op *sampleOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "ebm/ops.%v", op) }

// Hashcode is injective in the op's id (for a given kind), so two sampling ops never compare
// equal in Gorgonia's node equality test, which compares op hash codes.
func (op *sampleOp) Hashcode() uint32 {
	h := fnv.New32a()
	fmt.Fprintf(h, "ebm/ops.%v", op.kind)
	return h.Sum32() ^ uint32(op.id)*0x9E3779B1
}

func (op *sampleOp) String() string { return fmt.Sprintf("%v#%d", op.kind, op.id) }

// DiffWRT is all false: Grad treats the samples as constants. (A nil result makes Grad panic;
// true with a pass-through SymDiff would give silently wrong gradients.)
func (op *sampleOp) DiffWRT(inputs int) []bool { return make([]bool, inputs) }

// SymDiff returns no gradients. Grad never calls it, since DiffWRT is all false.
func (op *sampleOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	return make(G.Nodes, len(inputs)), nil
}
