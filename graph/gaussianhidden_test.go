package graph_test

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/graph"
)

// ghFixture is a 3-visible, 2-hidden GaussianHiddenRBM (the P3x2 weights and biases).
func ghNodes(g *G.ExprGraph, dt tensor.Dtype) graph.GaussianHiddenRBM {
	p := rbmNodes(g, dt, 3, 2, p3x2W, p3x2B, p3x2C)
	return graph.GaussianHiddenRBM{W: p.W, B: p.B, C: p.C}
}

// ghGrid is a square grid over the hidden plane: step ghStep, ghHalf points either side of 0
// (±10 with step 0.05). For the fixture exp(-E(v,h)) is, in h, a unit-variance Gaussian centred
// within 3 of the origin, so the grid reaches at least 7σ beyond the centre (tail mass < e^{-24})
// and the Riemann sum, spectrally accurate for such integrands, equals the integral to ~1e-11.
const (
	ghStep = 0.05
	ghHalf = 200
)

// TestGaussianHiddenIntegrals checks the free energy, p(h|v) and p(v|h) of the graph against the
// energy integrated over h numerically on a grid and summed over v exactly, for all 8 visible
// states, float64 and float32.
func TestGaussianHiddenIntegrals(t *testing.T) {
	const nv, nh = 3, 2
	side := 2*ghHalf + 1
	pts := side * side
	vs := allStates(nv)
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		tol := 1e-9
		if dt.Eq(tensor.Float32) {
			tol = 2e-4
		}
		g := G.NewGraph()
		p := ghNodes(g, dt)
		// Every visible state paired with every grid point: 8·pts rows.
		vRows := make([]float64, 0, 8*pts*nv)
		hRows := make([]float64, 0, 8*pts*nh)
		for s := 0; s < 8; s++ {
			for a := 0; a < side; a++ {
				for b := 0; b < side; b++ {
					vRows = append(vRows, vs[s*nv:(s+1)*nv]...)
					hRows = append(hRows, float64(a-ghHalf)*ghStep, float64(b-ghHalf)*ghStep)
				}
			}
		}
		v := G.NewMatrix(g, dt, G.WithShape(8*pts, nv), G.WithName("v"), G.WithValue(dense(dt, []int{8 * pts, nv}, vRows)))
		h := G.NewMatrix(g, dt, G.WithShape(8*pts, nh), G.WithName("h"), G.WithValue(dense(dt, []int{8 * pts, nh}, hRows)))
		v8 := G.NewMatrix(g, dt, G.WithShape(8, nv), G.WithName("v8"), G.WithValue(dense(dt, []int{8, nv}, vs)))
		e, err := p.Energy(v, h)
		if err != nil {
			t.Fatal(err)
		}
		f, err := p.FreeEnergy(v8)
		if err != nil {
			t.Fatal(err)
		}
		mean, err := p.HiddenMean(v8)
		if err != nil {
			t.Fatal(err)
		}
		// p(v|h) at three hidden points.
		hq := []float64{0, 0, 1.5, -0.7, -2, 3}
		hn := G.NewMatrix(g, dt, G.WithShape(3, nh), G.WithName("hq"), G.WithValue(dense(dt, []int{3, nh}, hq)))
		pv, err := p.VisibleProbs(hn)
		if err != nil {
			t.Fatal(err)
		}
		got := run(t, g, e, f, mean, pv)
		energies := got[0]
		// Numerical -log ∫ exp(-E) dh and E[h|v] per visible state.
		wantF := make([]float64, 8)
		wantMean := make([]float64, 8*nh)
		logZ := math.Inf(-1)
		for s := 0; s < 8; s++ {
			es := energies[s*pts : (s+1)*pts]
			m := math.Inf(1)
			for _, x := range es {
				m = math.Min(m, x)
			}
			z, h0, h1 := 0.0, 0.0, 0.0
			for k, x := range es {
				w := math.Exp(m - x)
				z += w
				h0 += w * hRows[(s*pts+k)*nh]
				h1 += w * hRows[(s*pts+k)*nh+1]
			}
			wantF[s] = m - math.Log(z*ghStep*ghStep)
			wantMean[s*nh], wantMean[s*nh+1] = h0/z, h1/z
			logZ = logAdd(logZ, -wantF[s])
		}
		near(t, dt.String()+" F(v)", got[1], wantF, tol*100)
		near(t, dt.String()+" E[h|v]", got[2], wantMean, tol*10)
		// p(v_i = 1 | h) from the energies of the 8 visible states at each query point (computed
		// here in float64 from the definition, E(v,h) = -bᵀv - cᵀh - vᵀWh + ½‖h‖²).
		var wantPV []float64
		for q := 0; q < 3; q++ {
			hh := hq[q*nh : (q+1)*nh]
			logp := make([]float64, 8)
			norm := math.Inf(-1)
			for s := 0; s < 8; s++ {
				vv := vs[s*nv : (s+1)*nv]
				en := 0.5 * (hh[0]*hh[0] + hh[1]*hh[1])
				for j := 0; j < nh; j++ {
					en -= p3x2C[j] * hh[j]
				}
				for i := 0; i < nv; i++ {
					en -= p3x2B[i] * vv[i]
					for j := 0; j < nh; j++ {
						en -= vv[i] * p3x2W[i*nh+j] * hh[j]
					}
				}
				logp[s] = -en
				norm = logAdd(norm, -en)
			}
			for i := 0; i < nv; i++ {
				pi := 0.0
				for s := 0; s < 8; s++ {
					pi += vs[s*nv+i] * math.Exp(logp[s]-norm)
				}
				wantPV = append(wantPV, pi)
			}
		}
		near(t, dt.String()+" p(v|h)", got[3], wantPV, tol)
		if dt.Eq(tensor.Float64) {
			// The enumerated log Z: every state's F(v) plus the closed form sum.
			closed := math.Inf(-1)
			for _, fv := range got[1] {
				closed = logAdd(closed, -fv)
			}
			if math.Abs(closed-logZ) > 1e-9 {
				t.Errorf("log Z from the graph's F %v, from the integrals %v", closed, logZ)
			}
		}
	}
}

func logAdd(a, b float64) float64 {
	if math.IsInf(a, -1) {
		return b
	}
	m := math.Max(a, b)
	return m + math.Log(math.Exp(a-m)+math.Exp(b-m))
}

// TestGaussianHiddenGradients checks Grad of mean F(v) over a batch against central finite
// differences of the same graph's value, for W, B and C (float64), and the CD cost of a mean-field
// reconstruction against the analytic rule -(⟨v E[h|v]ᵀ⟩_data - ⟨v E[h|v]ᵀ⟩_model).
func TestGaussianHiddenGradients(t *testing.T) {
	const nv, nh, batch = 5, 3, 4
	r := rand.New(rand.NewPCG(11, 12))
	w := make([]float64, nv*nh)
	for i := range w {
		w[i] = 0.5 * r.NormFloat64()
	}
	b := []float64{0.1, -0.3, 0.2, 0, 0.4}
	c := []float64{-0.2, 0.3, 0.1}
	data := make([]float64, batch*nv)
	for i := range data {
		data[i] = r.Float64() // grey levels in [0,1], as the layer below gives
	}
	build := func(w, b, c []float64) (*G.ExprGraph, graph.GaussianHiddenRBM, *G.Node, *G.Node) {
		g := G.NewGraph()
		p0 := rbmNodes(g, tensor.Float64, nv, nh, w, b, c)
		p := graph.GaussianHiddenRBM{W: p0.W, B: p0.B, C: p0.C}
		v := G.NewMatrix(g, tensor.Float64, G.WithShape(batch, nv), G.WithName("v"), G.WithValue(dense(tensor.Float64, []int{batch, nv}, data)))
		f, err := p.FreeEnergy(v)
		if err != nil {
			t.Fatal(err)
		}
		m, err := G.Mean(f)
		if err != nil {
			t.Fatal(err)
		}
		return g, p, v, m
	}
	g, p, _, mean := build(w, b, c)
	grads, err := G.Grad(mean, p.W, p.B, p.C)
	if err != nil {
		t.Fatal(err)
	}
	got := run(t, g, grads...)
	value := func(w, b, c []float64) float64 {
		g, _, _, m := build(w, b, c)
		return run(t, g, m)[0][0]
	}
	const h = 1e-5
	for pi, param := range [][]float64{w, b, c} {
		for k := range param {
			orig := param[k]
			param[k] = orig + h
			up := value(w, b, c)
			param[k] = orig - h
			down := value(w, b, c)
			param[k] = orig
			fd := (up - down) / (2 * h)
			if math.Abs(got[pi][k]-fd) > 1e-7 {
				t.Errorf("param %d entry %d: Grad %v, finite difference %v", pi, k, got[pi][k], fd)
			}
		}
	}

	// CD cost with a mean-field negative phase (GibbsStepMean): the gradient is analytic in the
	// chain's end vk.
	g, p, v, _ := build(w, b, c)
	vk, _, err := p.GibbsStepMean(v, rand.NewPCG(3, 3))
	if err != nil {
		t.Fatal(err)
	}
	cost, err := graph.CDCost(p.FreeEnergy, v, vk)
	if err != nil {
		t.Fatal(err)
	}
	grads, err = G.Grad(cost, p.W, p.B, p.C)
	if err != nil {
		t.Fatal(err)
	}
	out := run(t, g, append(G.Nodes{vk}, grads...)...)
	stats := func(x []float64) (vh, vs, hs []float64) {
		vh, vs, hs = make([]float64, nv*nh), make([]float64, nv), make([]float64, nh)
		for row := 0; row < batch; row++ {
			xr := x[row*nv : (row+1)*nv]
			for j := 0; j < nh; j++ {
				a := c[j]
				for i := range xr {
					a += xr[i] * w[i*nh+j]
				}
				hs[j] += a / batch
				for i := range xr {
					vh[i*nh+j] += xr[i] * a / batch
				}
			}
			for i := range xr {
				vs[i] += xr[i] / batch
			}
		}
		return
	}
	dvh, dv, dh := stats(data)
	mvh, mv, mh := stats(out[0])
	neg := func(a, b []float64) []float64 {
		o := make([]float64, len(a))
		for i := range a {
			o[i] = b[i] - a[i]
		}
		return o
	}
	near(t, "CD dW", out[1], neg(dvh, mvh), 1e-12)
	near(t, "CD db", out[2], neg(dv, mv), 1e-12)
	near(t, "CD dc", out[3], neg(dh, mh), 1e-12)
	for _, x := range out[0] {
		if !(x > 0 && x < 1) {
			t.Fatalf("mean reconstruction %v is not a probability", x)
		}
	}
}

// TestGaussianHiddenSampling draws h ~ p(h|v) for 20,000 copies of one visible vector through
// GibbsStep and checks the sample mean (c + vW) and variance (1) of each hidden unit, and that the
// visible samples are binary with frequencies near E[σ(b + hWᵀ)] (seeded, tolerances of 5
// standard errors).
func TestGaussianHiddenSampling(t *testing.T) {
	const n = 20000
	g := G.NewGraph()
	p := ghNodes(g, tensor.Float64)
	rows := make([]float64, 0, n*3)
	for i := 0; i < n; i++ {
		rows = append(rows, 1, 0, 1)
	}
	v := G.NewMatrix(g, tensor.Float64, G.WithShape(n, 3), G.WithName("v"), G.WithValue(dense(tensor.Float64, []int{n, 3}, rows)))
	vNext, h, err := p.GibbsStep(v, rand.NewPCG(5, 6))
	if err != nil {
		t.Fatal(err)
	}
	pv, err := p.VisibleProbs(h)
	if err != nil {
		t.Fatal(err)
	}
	out := run(t, g, vNext, h, pv)
	// c + vW for v = (1,0,1): c + W row 0 + W row 2.
	want := []float64{p3x2C[0] + p3x2W[0] + p3x2W[4], p3x2C[1] + p3x2W[1] + p3x2W[5]}
	for j := 0; j < 2; j++ {
		s, s2 := 0.0, 0.0
		for i := 0; i < n; i++ {
			x := out[1][i*2+j]
			s += x
			s2 += x * x
		}
		mean := s / n
		variance := s2/n - mean*mean
		if math.Abs(mean-want[j]) > 5/math.Sqrt(n) {
			t.Errorf("hidden %d: sample mean %v, want %v", j, mean, want[j])
		}
		if math.Abs(variance-1) > 5*math.Sqrt(2.0/n) {
			t.Errorf("hidden %d: sample variance %v, want 1", j, variance)
		}
	}
	for i := 0; i < 3; i++ {
		ones, prob := 0.0, 0.0
		for r := 0; r < n; r++ {
			x := out[0][r*3+i]
			if x != 0 && x != 1 {
				t.Fatalf("visible sample %v is not binary", x)
			}
			ones += x
			prob += out[2][r*3+i]
		}
		if math.Abs(ones/n-prob/n) > 5*0.5/math.Sqrt(n) {
			t.Errorf("visible %d: frequency %v, mean probability %v", i, ones/n, prob/n)
		}
	}
}

// TestGaussianHiddenErrors checks that malformed parameters and inputs give errors.
func TestGaussianHiddenErrors(t *testing.T) {
	g := G.NewGraph()
	p := ghNodes(g, tensor.Float64)
	bad := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 4), G.WithName("bad"), G.WithValue(tensor.New(tensor.WithShape(2, 4), tensor.Of(tensor.Float64))))
	if _, err := p.FreeEnergy(bad); err == nil {
		t.Error("FreeEnergy accepted 4 columns for 3 visible units")
	}
	if _, err := p.VisibleProbs(bad); err == nil {
		t.Error("VisibleProbs accepted 4 columns for 2 hidden units")
	}
	if _, _, err := (graph.GaussianHiddenRBM{W: p.W, B: p.B}).GibbsStep(bad, rand.NewPCG(1, 1)); err == nil {
		t.Error("GibbsStep accepted a model without C")
	}
}
