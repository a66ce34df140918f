package models

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/optim"
)

// tinySoftmax returns a SoftmaxRBM with 2 units of K = 3 values and 3 hidden units, parameters of
// order 1.
func tinySoftmax(t *testing.T, dt tensor.Dtype) *SoftmaxRBM {
	t.Helper()
	m, err := NewSoftmaxRBM(2, 3, 3, dt, rand.NewPCG(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(2, 3))
	for _, p := range []*tensor.Dense{m.W, m.B, m.C} {
		v := make([]float64, p.Shape().TotalSize())
		for i := range v {
			v[i] = r.NormFloat64()
		}
		setFloats(p, v)
	}
	return m
}

// oneHots returns the K^m one-hot rows of m units of k values, as an (K^m, m·k) matrix.
func oneHots(units, k int, dt tensor.Dtype) *tensor.Dense {
	n := int(math.Pow(float64(k), float64(units)))
	out := make([]float64, 0, n*units*k)
	for s := range n {
		row := make([]float64, units*k)
		for i, x := 0, s; i < units; i, x = i+1, x/k {
			row[i*k+x%k] = 1
		}
		out = append(out, row...)
	}
	t := tensor.New(tensor.WithShape(n, units*k), tensor.Of(dt))
	setFloats(t, out)
	return t
}

// Exact log Z, F and log p(v) by enumerating every (v, h): the 9 one-hot rows' probabilities sum
// to 1; the conditionals agree with the enumeration; the bound graph's free energy equals the
// plain-Go one.
func TestSoftmaxRBMExact(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		m := tinySoftmax(t, dt)
		w, b, c := floats(m.W), floats(m.B), floats(m.C)
		x := oneHots(2, 3, dt)
		vs := floats(x)
		nv, nh := 6, 3
		energy := func(v []float64, s int) float64 {
			e := 0.0
			for j := range nh {
				if s>>j&1 == 1 {
					e -= c[j]
					for i := range nv {
						e -= v[i] * w[i*nh+j]
					}
				}
			}
			for i := range nv {
				e -= b[i] * v[i]
			}
			return e
		}
		var all []float64
		fWant := make([]float64, 9)
		for r := range 9 {
			var le []float64
			for s := range 1 << nh {
				le = append(le, -energy(vs[r*nv:(r+1)*nv], s))
			}
			all = append(all, le...)
			fWant[r] = -logSumExp64(le)
		}
		zWant := logSumExp64(all)
		z, err := m.ExactLogZ()
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(z-zWant) > 1e-12 {
			t.Errorf("%v: ExactLogZ = %v, enumeration %v", dt, z, zWant)
		}
		f, err := m.FreeEnergy(x)
		if err != nil {
			t.Fatal(err)
		}
		ll, err := m.LogLikelihood(x)
		if err != nil {
			t.Fatal(err)
		}
		total := 0.0
		for r := range 9 {
			if math.Abs(f[r]-fWant[r]) > 1e-12 {
				t.Errorf("%v: F(v%d) = %v, want %v", dt, r, f[r], fWant[r])
			}
			total += math.Exp(ll[r])
		}
		if math.Abs(total-1) > 1e-12 {
			t.Errorf("%v: Σ p(v) over the one-hot rows = %v, want 1", dt, total)
		}
		// p(h|v) and p(v|h) by enumeration.
		ph, err := m.HiddenProbs(x)
		if err != nil {
			t.Fatal(err)
		}
		for r := range 9 {
			for j := range nh {
				num, den := 0.0, 0.0
				for s := range 1 << nh {
					p := math.Exp(-energy(vs[r*nv:(r+1)*nv], s) + fWant[r])
					den += p
					if s>>j&1 == 1 {
						num += p
					}
				}
				if got := ph.Float64s()[r*nh+j]; math.Abs(got-num/den) > 1e-12 {
					t.Errorf("%v: p(h_%d|v%d) = %v, want %v", dt, j, r, got, num/den)
				}
			}
		}
		hs := make([]float64, 0, 8*nh)
		for s := range 8 {
			for j := range nh {
				hs = append(hs, float64(s>>j&1))
			}
		}
		pv, err := m.VisibleProbs(tensor.New(tensor.WithShape(8, nh), tensor.WithBacking(hs)))
		if err != nil {
			t.Fatal(err)
		}
		for s := range 8 {
			var le []float64
			for r := range 9 {
				le = append(le, -energy(vs[r*nv:(r+1)*nv], s))
			}
			zh := logSumExp64(le)
			for col := range nv {
				want := 0.0
				for r := range 9 {
					want += vs[r*nv+col] * math.Exp(le[r]-zh)
				}
				if got := pv.Float64s()[s*nv+col]; math.Abs(got-want) > 1e-12 {
					t.Errorf("%v: p(v col %d | h%d) = %v, want %v", dt, col, s, got, want)
				}
			}
		}
		// The bound graph gives the same free energy.
		g := G.NewGraph()
		bound, err := m.Bind(g)
		if err != nil {
			t.Fatal(err)
		}
		v := G.NewMatrix(g, dt, G.WithShape(9, nv), G.WithName("v"), G.WithValue(x))
		fe := G.Must(bound.FreeEnergy(v))
		var fv G.Value
		G.Read(fe, &fv)
		vm := G.NewTapeMachine(g)
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		vm.Close()
		tol := 1e-12
		if dt == tensor.Float32 {
			tol = 1e-5
		}
		got := floats(fv.(*tensor.Dense))
		for r := range 9 {
			if math.Abs(got[r]-fWant[r]) > tol {
				t.Errorf("%v: graph F(v%d) = %v, want %v", dt, r, got[r], fWant[r])
			}
		}
	}
}

// optim.Train fits a SoftmaxRBM with CD-1 to categorical data with a known distribution: three
// 3-valued units that copy a hidden cause z (uniform over 3 values) with probability 0.8. The exact
// mean log-likelihood rises from the uniform model's 3·log(1/3) to within 0.05 nats of the true
// distribution's on the same rows.
func TestSoftmaxRBMTrains(t *testing.T) {
	const rows, units, k = 3000, 3, 3
	r := rand.New(rand.NewPCG(4, 5))
	data := make([]float64, rows*units*k)
	for n := range rows {
		z := r.IntN(k)
		for i := range units {
			val := z
			if r.Float64() >= 0.8 {
				val = r.IntN(k)
			}
			data[n*units*k+i*k+val] = 1
		}
	}
	x := tensor.New(tensor.WithShape(rows, units*k), tensor.WithBacking(data))
	trueLL := 0.0
	for n := range rows {
		p := 0.0
		for z := range k {
			q := 1.0 / k
			for i := range units {
				if data[n*units*k+i*k+z] == 1 {
					q *= 0.8 + 0.2/k
				} else {
					q *= 0.2 / k
				}
			}
			p += q
		}
		trueLL += math.Log(p) / rows
	}
	m, err := NewSoftmaxRBM(units, k, 4, tensor.Float64, rand.NewPCG(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.InitVisibleBiases(x); err != nil {
		t.Fatal(err)
	}
	meanLL := func() float64 {
		ll, err := m.LogLikelihood(x)
		if err != nil {
			t.Fatal(err)
		}
		s := 0.0
		for _, v := range ll {
			s += v / rows
		}
		return s
	}
	before := meanLL()
	_, err = optim.Train(context.Background(), m, x, optim.Settings{
		Epochs: 60, BatchSize: 20, LearningRate: optim.Constant(0.1), Momentum: optim.HintonMomentum(),
		Shuffle: rand.NewPCG(1, 3), Chains: rand.NewPCG(1, 4), MonitorRows: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	after := meanLL()
	t.Logf("mean log-likelihood: %.4f before, %.4f after training; true distribution %.4f; uniform %.4f", before, after, trueLL, units*math.Log(1.0/k))
	if after < trueLL-0.05 {
		t.Errorf("mean log-likelihood %.4f after training, want within 0.05 of the true %.4f (before: %.4f)", after, trueLL, before)
	}
}

func TestSoftmaxRBMErrors(t *testing.T) {
	if _, err := NewSoftmaxRBM(0, 3, 2, tensor.Float64, rand.NewPCG(1, 1)); err == nil {
		t.Error("0 units: no error")
	}
	if _, err := NewSoftmaxRBM(2, 1, 2, tensor.Float64, rand.NewPCG(1, 1)); err == nil {
		t.Error("K = 1: no error")
	}
	m, err := NewSoftmaxRBM(2, 3, 2, tensor.Float64, rand.NewPCG(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	row := func(v ...float64) *tensor.Dense {
		return tensor.New(tensor.WithShape(1, len(v)), tensor.WithBacking(v))
	}
	for _, c := range []struct {
		x    *tensor.Dense
		want string
	}{
		{row(1, 0, 0, 1, 1, 0), "row 0 unit 1 (columns 3..5) has 2 ones"},
		{row(0, 0, 0, 1, 0, 0), "row 0 unit 0 (columns 0..2) has 0 ones"},
		{row(1, 0, 0, 0.5, 0.5, 0), "column 3 (unit 1) is 0.5"},
		{row(1, 0, 0, 1, 0), "6 visible units"},
		{tensor.New(tensor.WithShape(1, 6), tensor.WithBacking([]float32{1, 0, 0, 1, 0, 0})), "dtype"},
	} {
		if err := m.CheckData(c.x); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckData: %v, want an error containing %q", err, c.want)
		}
		if _, err := m.FreeEnergy(c.x); err == nil {
			t.Errorf("FreeEnergy(%q case): no error", c.want)
		}
	}
	if _, err := m.VisibleProbs(tensor.New(tensor.WithShape(1, 3), tensor.Of(tensor.Float64))); err == nil {
		t.Error("VisibleProbs with 3 hidden columns for 2 units: no error")
	}
	bad := &SoftmaxRBM{W: m.W, B: m.B, C: m.C, K: 4}
	if _, err := bad.Bind(G.NewGraph()); err == nil {
		t.Error("K = 4 with 6 columns: Bind gave no error")
	}
	big, _ := NewSoftmaxRBM(2, 3, MaxExactUnits+1, tensor.Float64, rand.NewPCG(1, 1))
	if _, err := big.ExactLogZ(); err == nil {
		t.Error("ExactLogZ with too many hidden units: no error")
	}
}
