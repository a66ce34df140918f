package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Contrastive divergence (Hinton 2002) end to end: with the chain v₀ → h ~ Bernoulli(σ(c+v₀W))
// → v₁ ~ Bernoulli(σ(b+Wh)) built from these ops, Grad of cost = mean F(v₀) - mean F(v₁), with
// F(v) = -b·v - Σⱼ softplus(cⱼ + (vW)ⱼ), equals the analytic CD-1 gradient computed from the
// sampled v₁: the samples are constants and no gradient leaks through the chain.
func TestCDGradient(t *testing.T) {
	const batch, nv, nh = 5, 4, 3
	r := rand.New(rand.NewPCG(21, 21))
	randn := func(n int, scale float64) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = scale * r.NormFloat64()
		}
		return x
	}
	wv, bv, cv := randn(nv*nh, 1), randn(nv, 0.5), randn(nh, 0.5)
	v0v := make([]float64, batch*nv)
	for i := range v0v {
		v0v[i] = float64(r.IntN(2))
	}

	g := G.NewGraph()
	W := G.NewMatrix(g, tensor.Float64, G.WithShape(nv, nh), G.WithName("W"))
	b := G.NewVector(g, tensor.Float64, G.WithShape(nv), G.WithName("b"))
	c := G.NewVector(g, tensor.Float64, G.WithShape(nh), G.WithName("c"))
	v0 := G.NewMatrix(g, tensor.Float64, G.WithShape(batch, nv), G.WithName("v0"))
	src := rand.NewPCG(8, 8)

	hidPre := func(v *G.Node) *G.Node { return G.Must(G.BroadcastAdd(G.Must(G.Mul(v, W)), c, nil, []byte{0})) }
	freeEnergySum := func(v *G.Node) *G.Node {
		vb := G.Must(G.Sum(G.Must(G.Mul(v, b))))
		sp := G.Must(G.Sum(G.Must(Softplus(hidPre(v)))))
		return G.Must(G.Neg(G.Must(G.Add(vb, sp))))
	}
	h := G.Must(Bernoulli(G.Must(Sigmoid(hidPre(v0))), src))
	visPre := G.Must(G.BroadcastAdd(G.Must(G.Mul(h, G.Must(G.Transpose(W)))), b, nil, []byte{0}))
	v1 := G.Must(Bernoulli(G.Must(Sigmoid(visPre)), src))
	diff := G.Must(G.Sub(freeEnergySum(v0), freeEnergySum(v1)))
	cost := G.Must(G.Div(diff, G.NewConstant(float64(batch))))
	grads, err := G.Grad(cost, W, b, c)
	if err != nil {
		t.Fatal(err)
	}
	m := newMachine(t, g, v1, grads[0], grads[1], grads[2])
	m.mustRun(t, map[*G.Node]G.Value{
		W: valueOf(tensor.Float64, tensor.Shape{nv, nh}, wv), b: valueOf(tensor.Float64, tensor.Shape{nv}, bv),
		c: valueOf(tensor.Float64, tensor.Shape{nh}, cv), v0: valueOf(tensor.Float64, tensor.Shape{batch, nv}, v0v),
	})
	v1v := m.floats(t, v1)

	// analytic: dF/dW = -v σ(c+vW)ᵀ, dF/db = -v, dF/dc = -σ(c+vW)
	dW, db, dc := make([]float64, nv*nh), make([]float64, nv), make([]float64, nh)
	for sign, vs := range map[float64][]float64{1: v0v, -1: v1v} {
		for row := range batch {
			v := vs[row*nv : (row+1)*nv]
			for j := range nh {
				pre := cv[j]
				for i := range nv {
					pre += v[i] * wv[i*nh+j]
				}
				p := Sigmoid64(pre)
				dc[j] -= sign * p / batch
				for i := range nv {
					dW[i*nh+j] -= sign * v[i] * p / batch
				}
			}
			for i := range nv {
				db[i] -= sign * v[i] / batch
			}
		}
	}
	for k, want := range [][]float64{dW, db, dc} {
		got := m.floats(t, grads[k])
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-14 {
				t.Errorf("CD gradient %d[%d]: Grad %v, analytic %v", k, i, got[i], want[i])
			}
		}
	}
}
