package models_test

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
)

func grbm(t testing.TB, dt tensor.Dtype, nv, nh int, w, b, c, sigma []float64) *models.GaussianRBM {
	t.Helper()
	m, err := models.NewGaussianRBM(nv, nh, dt, rand.NewPCG(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	m.W, m.B, m.C = dense(dt, []int{nv, nh}, w), dense(dt, []int{nv}, b), dense(dt, []int{nh}, c)
	if err := m.SetSigma(sigma); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestB21GaussianUnits is case B21: free energy, log Z (exact, and by grid integration) and log
// density of a 2×1 Gaussian–Bernoulli RBM at σ = 1 and σ = 0.5.
func TestB21GaussianUnits(t *testing.T) {
	for _, tc := range []struct {
		sigma               float64
		f, logZ, logDensity float64
	}{
		{1, -0.548587352, 3.151138754, -2.602551402},
		{0.5, 3.997524, 1.764844, -5.762369},
	} {
		m := grbm(t, tensor.Float64, 2, 1, []float64{1, 1}, []float64{0, 0}, []float64{0}, []float64{tc.sigma, tc.sigma})
		v := dense(tensor.Float64, []int{1, 2}, []float64{1, 2})
		f, err := m.FreeEnergy(v)
		if err != nil {
			t.Fatal(err)
		}
		logZ, err := m.ExactLogZ()
		if err != nil {
			t.Fatal(err)
		}
		ll, err := m.LogLikelihood(v)
		if err != nil {
			t.Fatal(err)
		}
		tol := 1e-9
		if tc.sigma != 1 {
			tol = 1e-6 // the case gives 7 significant digits
		}
		near(t, "F", f, []float64{tc.f}, tol)
		near(t, "log Z", []float64{logZ}, []float64{tc.logZ}, tol)
		near(t, "log density", ll, []float64{tc.logDensity}, tol)
		// Grid integration of exp(-F) over [-12, 14]², step 0.02.
		const lo, hi, step = -12.0, 14.0, 0.02
		var grid []float64
		for x := lo; x < hi; x += step {
			for y := lo; y < hi; y += step {
				grid = append(grid, x, y)
			}
		}
		fg, err := m.FreeEnergy(dense(tensor.Float64, []int{len(grid) / 2, 2}, grid))
		if err != nil {
			t.Fatal(err)
		}
		z := 0.0
		for _, e := range fg {
			z += math.Exp(-e) * step * step
		}
		near(t, "log Z by grid integration", []float64{math.Log(z)}, []float64{logZ}, 1e-6)
	}
}

// TestGaussianGraphFreeEnergyAndGradients checks the graph free energy against the plain-Go one,
// in float64 and float32, and its gradients (including ∂F/∂log σ) against central finite
// differences.
func TestGaussianGraphFreeEnergyAndGradients(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	nv, nh, rows := 4, 3, 5
	w, b, c, sigma := make([]float64, nv*nh), make([]float64, nv), make([]float64, nh), make([]float64, nv)
	for i := range w {
		w[i] = r.NormFloat64()
	}
	for i := range b {
		b[i], sigma[i] = r.NormFloat64(), 0.5+r.Float64()
	}
	for j := range c {
		c[j] = r.NormFloat64()
	}
	x := make([]float64, rows*nv)
	for i := range x {
		x[i] = 2 * r.NormFloat64()
	}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		m := grbm(t, dt, nv, nh, w, b, c, sigma)
		m.LearnSigma = true
		want, err := m.FreeEnergy(dense(dt, []int{rows, nv}, x))
		if err != nil {
			t.Fatal(err)
		}
		g := G.NewGraph()
		bound, err := m.Bind(g)
		if err != nil {
			t.Fatal(err)
		}
		v := G.NewMatrix(g, dt, G.WithShape(rows, nv), G.WithName("v"), G.WithValue(dense(dt, []int{rows, nv}, x)))
		f, err := bound.FreeEnergy(v)
		if err != nil {
			t.Fatal(err)
		}
		cost := G.Must(G.Sum(f))
		params := bound.Params()
		if len(params) != 4 {
			t.Fatalf("learned σ: %d parameters, want 4 (W, b, c, log σ)", len(params))
		}
		grads, err := G.Grad(cost, params...)
		if err != nil {
			t.Fatal(err)
		}
		var fv G.Value
		G.Read(f, &fv)
		gv := make([]G.Value, len(grads))
		for i := range grads {
			G.Read(grads[i], &gv[i])
		}
		vm := G.NewTapeMachine(g)
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		vm.Close()
		tol := 1e-9
		if dt.Eq(tensor.Float32) {
			tol = 1e-4
		}
		near(t, "graph F "+dt.String(), floatsV(fv), want, tol)
		if dt.Eq(tensor.Float32) {
			continue
		}
		// Finite differences on the plain-Go free energy.
		sum := func(m *models.GaussianRBM) float64 {
			f, err := m.FreeEnergy(dense(tensor.Float64, []int{rows, nv}, x))
			if err != nil {
				t.Fatal(err)
			}
			s := 0.0
			for _, v := range f {
				s += v
			}
			return s
		}
		for k, p := range []*tensor.Dense{m.W, m.B, m.C, m.LogSigma} {
			d := p.Data().([]float64)
			got := floatsV(gv[k])
			for i := range d {
				old := d[i]
				d[i] = old + 1e-6
				up := sum(m)
				d[i] = old - 1e-6
				down := sum(m)
				d[i] = old
				if fd := (up - down) / 2e-6; math.Abs(fd-got[i]) > 1e-5*math.Max(1, math.Abs(fd)) {
					t.Errorf("parameter %d entry %d: symbolic %v, finite difference %v", k, i, got[i], fd)
				}
			}
		}
	}
}

func floatsV(v G.Value) []float64 {
	switch d := v.Data().(type) {
	case []float64:
		return d
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	}
	return nil
}

// TestGaussianTraining trains a GRBM with learned σ on standardised two-cluster data: at a small
// rate it stays finite, σ stays positive (learned through log σ) and shrinks towards the
// within-cluster spread, and the hidden units separate the clusters; at an absurd rate on unscaled
// data training stops with an error naming the epoch and minibatch, not NaN weights. Mean-field
// reconstructions with learned σ are refused (they bias σ upward).
func TestGaussianTraining(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	const n, nv = 400, 6
	raw := make([]float64, n*nv)
	for i := 0; i < n; i++ {
		shift := 5.0
		if i%2 == 0 {
			shift = -5
		}
		for j := 0; j < nv; j++ {
			raw[i*nv+j] = 100 + 30*(shift+r.NormFloat64())
		}
	}
	x := dense(tensor.Float64, []int{n, nv}, raw)
	m, err := models.NewGaussianRBM(nv, 4, tensor.Float64, rand.NewPCG(5, 5))
	if err != nil {
		t.Fatal(err)
	}
	if w := m.VarianceWarnings(x); len(w) == 0 || !strings.Contains(w[0], "variance") {
		t.Errorf("unscaled data (variance ≈ 23,000, σ = 1): warnings %v", w)
	}
	st, err := datasets.FitStandardizer(x)
	if err != nil {
		t.Fatal(err)
	}
	z, err := st.Transform(x)
	if err != nil {
		t.Fatal(err)
	}
	if w := m.VarianceWarnings(z); len(w) != 0 {
		t.Errorf("standardised data: unexpected warnings %v", w)
	}
	m.LearnSigma = true
	_, err = optim.Train(context.Background(), m, z, optim.Settings{
		Estimator: optim.CD{K: 1}, Epochs: 100, BatchSize: 20,
		LearningRate: optim.Constant(0.05), Momentum: optim.HintonMomentum(),
		Shuffle: rand.NewPCG(6, 6), Chains: rand.NewPCG(7, 7), MonitorRows: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Check(); err != nil {
		t.Fatal(err)
	}
	for i, s := range m.Sigma() {
		if !(s > 0) || math.IsInf(s, 0) {
			t.Errorf("σ_%d = %v after training", i, s)
		}
	}
	// The two clusters are separated by the hidden units: hidden probabilities differ.
	ph, err := m.HiddenProbs(z)
	if err != nil {
		t.Fatal(err)
	}
	p := ph.Data().([]float64)
	diff := 0.0
	for j := 0; j < 4; j++ {
		diff = math.Max(diff, math.Abs(p[j]-p[4+j]))
	}
	// σ is learned down to the within-cluster spread (0.196 in standardised units), not beyond 1.
	for i, s := range m.Sigma() {
		if s > 1 {
			t.Errorf("learned σ_%d = %v on standardised data; want < 1", i, s)
		}
	}
	if diff < 0.5 {
		t.Errorf("hidden probabilities of the two clusters differ by at most %v; the model did not learn the clusters", diff)
	}

	_, err = optim.Train(context.Background(), m, z, optim.Settings{Estimator: optim.CD{VisibleProbabilities: true}, Epochs: 1,
		Shuffle: rand.NewPCG(6, 6), Chains: rand.NewPCG(7, 7)})
	if err == nil || !strings.Contains(err.Error(), "σ") {
		t.Errorf("mean-field reconstructions with learned σ: error %v", err)
	}

	m2, _ := models.NewGaussianRBM(nv, 4, tensor.Float64, rand.NewPCG(5, 5))
	_, err = optim.Train(context.Background(), m2, x, optim.Settings{
		Epochs: 50, BatchSize: 20, LearningRate: optim.Constant(1000), Shuffle: rand.NewPCG(6, 6), Chains: rand.NewPCG(7, 7), MonitorRows: -1,
	})
	if err == nil || !strings.Contains(err.Error(), "epoch") || !strings.Contains(err.Error(), "minibatch") || !strings.Contains(err.Error(), "non-finite") || !strings.Contains(err.Error(), "parameter") {
		t.Errorf("unscaled data at learning rate 10: error %v; want a non-finite error naming epoch, minibatch and the parameters' state", err)
	}
}

// TestGaussianSampling checks that a GRBM with W = 0 samples N(b, σ²) per visible unit.
func TestGaussianSampling(t *testing.T) {
	m := grbm(t, tensor.Float64, 2, 1, []float64{0, 0}, []float64{3, -1}, []float64{0}, []float64{0.5, 2})
	const n = 20000
	s, err := m.Sample(dense(tensor.Float64, []int{n, 2}, make([]float64, 2*n)), 2, rand.NewPCG(8, 8))
	if err != nil {
		t.Fatal(err)
	}
	x := s.Data().([]float64)
	for j, want := range []struct{ mean, sd float64 }{{3, 0.5}, {-1, 2}} {
		mu, sq := 0.0, 0.0
		for i := 0; i < n; i++ {
			mu += x[2*i+j]
		}
		mu /= n
		for i := 0; i < n; i++ {
			d := x[2*i+j] - mu
			sq += d * d
		}
		sd := math.Sqrt(sq / n)
		if math.Abs(mu-want.mean) > 4*want.sd/math.Sqrt(n) || math.Abs(sd-want.sd) > 0.03*want.sd {
			t.Errorf("unit %d: mean %v sd %v, want %v and %v", j, mu, sd, want.mean, want.sd)
		}
	}
}
