package graph_test

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/graph"
)

// smModel is a softmax RBM with m = 2 units of K = 3 values and 2 hidden units, parameters of
// order 1 drawn from a fixed seed.
type smModel struct{ w, b, c []float64 }

const smM, smK, smNH = 2, 3, 2

func newSMModel() smModel {
	r := rand.New(rand.NewPCG(8, 9))
	m := smModel{w: make([]float64, smM*smK*smNH), b: make([]float64, smM*smK), c: make([]float64, smNH)}
	for _, p := range [][]float64{m.w, m.b, m.c} {
		for i := range p {
			p[i] = r.NormFloat64()
		}
	}
	return m
}

func (m smModel) nodes(g *G.ExprGraph, dt tensor.Dtype) graph.SoftmaxRBM {
	nv := smM * smK
	val := func(shape []int, v []float64) *tensor.Dense {
		t := tensor.New(tensor.WithShape(shape...), tensor.Of(dt))
		switch d := t.Data().(type) {
		case []float64:
			copy(d, v)
		case []float32:
			for i := range d {
				d[i] = float32(v[i])
			}
		}
		return t
	}
	return graph.SoftmaxRBM{K: smK, RBM: graph.RBM{
		W: G.NewMatrix(g, dt, G.WithShape(nv, smNH), G.WithName("sm.W"), G.WithValue(val([]int{nv, smNH}, m.w))),
		B: G.NewVector(g, dt, G.WithShape(nv), G.WithName("sm.b"), G.WithValue(val([]int{nv}, m.b))),
		C: G.NewVector(g, dt, G.WithShape(smNH), G.WithName("sm.c"), G.WithValue(val([]int{smNH}, m.c))),
	}}
}

// energy is E(v,h) = -bᵀv - cᵀh - vᵀWh from the definition.
func (m smModel) energy(v, h []float64) float64 {
	e := 0.0
	for i, vi := range v {
		e -= m.b[i] * vi
		for j, hj := range h {
			e -= vi * m.w[i*smNH+j] * hj
		}
	}
	for j, hj := range h {
		e -= m.c[j] * hj
	}
	return e
}

// smVisible enumerates the K^m one-hot visible vectors; smHidden the 2^nh hidden vectors.
func smVisible() [][]float64 {
	var out [][]float64
	for a := range smK {
		for b := range smK {
			v := make([]float64, smM*smK)
			v[a], v[smK+b] = 1, 1
			out = append(out, v)
		}
	}
	return out
}

func smHidden() [][]float64 {
	var out [][]float64
	for s := range 1 << smNH {
		h := make([]float64, smNH)
		for j := range smNH {
			h[j] = float64(s >> j & 1)
		}
		out = append(out, h)
	}
	return out
}

func smInput(g *G.ExprGraph, dt tensor.Dtype, rows [][]float64, name string) *G.Node {
	var flat []float64
	for _, r := range rows {
		flat = append(flat, r...)
	}
	t := tensor.New(tensor.WithShape(len(rows), len(rows[0])), tensor.Of(dt))
	switch d := t.Data().(type) {
	case []float64:
		copy(d, flat)
	case []float32:
		for i := range d {
			d[i] = float32(flat[i])
		}
	}
	return G.NewMatrix(g, dt, G.WithShape(len(rows), len(rows[0])), G.WithName(name), G.WithValue(t))
}

func smRun(t *testing.T, g *G.ExprGraph, nodes ...*G.Node) [][]float64 {
	t.Helper()
	vals := make([]G.Value, len(nodes))
	for i, n := range nodes {
		G.Read(n, &vals[i])
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	out := make([][]float64, len(nodes))
	for i, v := range vals {
		switch d := v.Data().(type) {
		case []float64:
			out[i] = append([]float64(nil), d...)
		case []float32:
			for _, x := range d {
				out[i] = append(out[i], float64(x))
			}
		}
	}
	return out
}

// Softmax visible units by enumeration: E(v,h), F(v) = -log Σ_h exp(-E), p(h|v) and p(v_i = k | h)
// from the builders equal the brute-force values over the 9 one-hot visible and 4 hidden states,
// in float64 (1e-12) and float32 (1e-5).
func TestSoftmaxRBMByEnumeration(t *testing.T) {
	m := newSMModel()
	vs, hs := smVisible(), smHidden()
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		tol := 1e-12
		if dt == tensor.Float32 {
			tol = 1e-5
		}
		g := G.NewGraph()
		p := m.nodes(g, dt)
		if p.NumUnits() != smM {
			t.Fatalf("NumUnits = %d", p.NumUnits())
		}
		v := smInput(g, dt, vs, "v")
		h := smInput(g, dt, hs, "h")
		var vRep, hRep [][]float64
		for _, vv := range vs {
			for _, hh := range hs {
				vRep, hRep = append(vRep, vv), append(hRep, hh)
			}
		}
		ve, he := smInput(g, dt, vRep, "ve"), smInput(g, dt, hRep, "he")
		f := G.Must(p.FreeEnergy(v))
		ph := G.Must(p.HiddenProbs(v))
		pv := G.Must(p.VisibleProbs(h))
		e := G.Must(p.Energy(ve, he))
		out := smRun(t, g, f, ph, pv, e)
		for a, vv := range vs {
			var negE []float64
			for _, hh := range hs {
				negE = append(negE, -m.energy(vv, hh))
			}
			z := logSumExp(negE)
			if math.Abs(out[0][a]+z) > tol*math.Max(1, math.Abs(z)) {
				t.Errorf("%v: F(v%d) = %v, want %v", dt, a, out[0][a], -z)
			}
			for j := range smNH {
				want := 0.0
				for s, hh := range hs {
					want += hh[j] * math.Exp(negE[s]-z)
				}
				if got := out[1][a*smNH+j]; math.Abs(got-want) > tol {
					t.Errorf("%v: p(h_%d=1|v%d) = %v, want %v", dt, j, a, got, want)
				}
			}
			for s, hh := range hs {
				if got, want := out[3][a*len(hs)+s], m.energy(vv, hh); math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
					t.Errorf("%v: E(v%d, h%d) = %v, want %v", dt, a, s, got, want)
				}
			}
		}
		for s, hh := range hs {
			var negE []float64
			for _, vv := range vs {
				negE = append(negE, -m.energy(vv, hh))
			}
			z := logSumExp(negE)
			for i := range smM {
				for k := range smK {
					want := 0.0
					for a, vv := range vs {
						want += vv[i*smK+k] * math.Exp(negE[a]-z)
					}
					if got := out[2][s*smM*smK+i*smK+k]; math.Abs(got-want) > tol {
						t.Errorf("%v: p(v_%d=%d|h%d) = %v, want %v", dt, i, k, s, got, want)
					}
				}
			}
		}
	}
}

func logSumExp(xs []float64) float64 {
	mx := math.Inf(-1)
	for _, x := range xs {
		mx = math.Max(mx, x)
	}
	s := 0.0
	for _, x := range xs {
		s += math.Exp(x - mx)
	}
	return mx + math.Log(s)
}

// A Gibbs step from a fixed v gives one-hot units whose frequencies over 20,000 rows match the
// exact one-step distribution Σ_h p(h|v) p(v'_i = k | h) within 4 standard errors; the mean step
// returns exactly p(v|h) of its sampled h (each group sums to 1).
func TestSoftmaxRBMGibbsStep(t *testing.T) {
	m := newSMModel()
	const rows = 20000
	start := smVisible()[5]
	batch := make([][]float64, rows)
	for i := range batch {
		batch[i] = start
	}
	g := G.NewGraph()
	p := m.nodes(g, tensor.Float64)
	v := smInput(g, tensor.Float64, batch, "v")
	next, _, err := p.GibbsStep(v, rand.NewPCG(3, 3))
	if err != nil {
		t.Fatal(err)
	}
	mean, hm, err := p.GibbsStepMean(v, rand.NewPCG(4, 4))
	if err != nil {
		t.Fatal(err)
	}
	out := smRun(t, g, next, mean, hm)
	// Exact: p(v'_i = k | v) = Σ_h p(h|v) p(v'_i=k|h).
	hs, vs := smHidden(), smVisible()
	var negE []float64
	for _, hh := range hs {
		negE = append(negE, -m.energy(start, hh))
	}
	z := logSumExp(negE)
	want := make([]float64, smM*smK)
	condV := func(hh []float64) []float64 { // p(v_i=k|h), flattened
		var le []float64
		for _, vv := range vs {
			le = append(le, -m.energy(vv, hh))
		}
		zh := logSumExp(le)
		pv := make([]float64, smM*smK)
		for a, vv := range vs {
			for c := range pv {
				pv[c] += vv[c] * math.Exp(le[a]-zh)
			}
		}
		return pv
	}
	for s, hh := range hs {
		for c, q := range condV(hh) {
			want[c] += math.Exp(negE[s]-z) * q
		}
	}
	counts := make([]float64, smM*smK)
	for r := range rows {
		row := out[0][r*smM*smK : (r+1)*smM*smK]
		for i := range smM {
			ones := 0
			for k := range smK {
				if row[i*smK+k] == 1 {
					ones++
				} else if row[i*smK+k] != 0 {
					t.Fatalf("row %d: entry %v not in {0,1}", r, row[i*smK+k])
				}
			}
			if ones != 1 {
				t.Fatalf("row %d unit %d: %d ones", r, i, ones)
			}
		}
		for c := range counts {
			counts[c] += row[c]
		}
	}
	for c, w := range want {
		freq, se := counts[c]/rows, math.Sqrt(w*(1-w)/rows)
		if math.Abs(freq-w) > 4*se {
			t.Errorf("p(v'_%d=%d|v): frequency %v, exact %v (se %.2g)", c/smK, c%smK, freq, w, se)
		}
	}
	for r := range 5 {
		hh := out[2][r*smNH : (r+1)*smNH]
		got := out[1][r*smM*smK : (r+1)*smM*smK]
		for c, w := range condV(hh) {
			if math.Abs(got[c]-w) > 1e-12 {
				t.Fatalf("GibbsStepMean row %d = %v, want p(v|h=%v) = %v", r, got, hh, condV(hh))
			}
		}
	}
}

func TestSoftmaxRBMCheck(t *testing.T) {
	g := G.NewGraph()
	p := newSMModel().nodes(g, tensor.Float64)
	for _, k := range []int{0, 1, 4} {
		q := p
		q.K = k
		if err := q.Check(); err == nil {
			t.Errorf("K = %d with 6 columns: no error", k)
		}
		v := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 6), G.WithName("v"))
		if _, err := q.FreeEnergy(v); err == nil {
			t.Errorf("K = %d: FreeEnergy gave no error", k)
		}
		if _, _, err := q.GibbsStep(v, rand.NewPCG(1, 1)); err == nil {
			t.Errorf("K = %d: GibbsStep gave no error", k)
		}
	}
	if _, err := p.VisibleProbs(G.NewMatrix(g, tensor.Float64, G.WithShape(2, 3), G.WithName("h3"))); err == nil {
		t.Error("h with 3 columns for 2 hidden units: no error")
	}
}
