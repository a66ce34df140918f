package models_test

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/models"
)

// Helpers of their own (not shared with rbm_test.go) so the DBN tests stand alone.

func dbnTensor(dt tensor.Dtype, v []float64, shape ...int) *tensor.Dense {
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

func dbnValues(t *tensor.Dense) []float64 {
	switch d := t.Data().(type) {
	case []float64:
		return append([]float64(nil), d...)
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	}
	return nil
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// b26DBN is the 3-2-1 stack of case B26 (W1 = [[1,-1],[0.5,0.5],[-1,1]], W2 = [[2],[-2]], no
// biases) as a DBN, with visible biases b1 = [0.1,-0.2,0.3] and b2 = [0.5,-0.5] for the down-pass.
func b26DBN(t *testing.T, dt tensor.Dtype) *models.DBN {
	t.Helper()
	l1, err := models.NewRBMFromParams(dbnTensor(dt, []float64{1, -1, 0.5, 0.5, -1, 1}, 3, 2), dbnTensor(dt, []float64{0.1, -0.2, 0.3}, 3), dbnTensor(dt, []float64{0, 0}, 2))
	if err != nil {
		t.Fatal(err)
	}
	l2, err := models.NewRBMFromParams(dbnTensor(dt, []float64{2, -2}, 2, 1), dbnTensor(dt, []float64{0.5, -0.5}, 2), dbnTensor(dt, []float64{0}, 1))
	if err != nil {
		t.Fatal(err)
	}
	d, err := models.NewDBNFromLayers([]*models.RBM{l1, l2})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func closeTo(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values %v, want %d %v", what, len(got), got, len(want), want)
	}
	for i := range got {
		if !(math.Abs(got[i]-want[i]) <= tol) {
			t.Errorf("%s[%d] = %.12g, want %.12g (tol %g)", what, i, got[i], want[i], tol)
		}
	}
}

// TestDBNUpPass checks the recognition pass against case B26's published bottom-up values
// σ(vᵀW1) = [0.817574, 0.377541] at v = 110 and the second layer computed by hand, in both dtypes.
func TestDBNUpPass(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		d := b26DBN(t, dt)
		tol := 1e-6
		if dt == tensor.Float32 {
			tol = 1e-5
		}
		up, err := d.UpPass(dbnTensor(dt, []float64{1, 1, 0, 0, 0, 1}, 2, 3))
		if err != nil {
			t.Fatal(err)
		}
		if len(up) != 2 {
			t.Fatalf("%d layers in the up-pass", len(up))
		}
		h1 := []float64{0.817574, 0.377541, sigmoid(-1), sigmoid(1)}
		closeTo(t, dt.String()+" h1", dbnValues(up[0]), h1, tol)
		h2 := []float64{sigmoid(2*h1[0] - 2*h1[1]), sigmoid(2*h1[2] - 2*h1[3])}
		closeTo(t, dt.String()+" h2", dbnValues(up[1]), h2, tol)
		f, err := d.Features(dbnTensor(dt, []float64{1, 1, 0, 0, 0, 1}, 2, 3))
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, dt.String()+" features", dbnValues(f), dbnValues(up[1]), 0)
		if !f.Dtype().Eq(dt) || f.Shape()[0] != 2 || f.Shape()[1] != 1 {
			t.Errorf("features %v %v", f.Dtype(), f.Shape())
		}
	}
}

// TestDBNDownPass checks the generative pass: for two layers it is the bottom RBM's p(v|h)
// exactly; for three layers with saturated weights the sampled middle layer is deterministic.
func TestDBNDownPass(t *testing.T) {
	d := b26DBN(t, tensor.Float64)
	x := dbnTensor(tensor.Float64, []float64{1, 0, 0, 1, 1, 1}, 3, 2)
	got, err := d.DownPass(x, rand.NewPCG(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	// p(v_i = 1 | h) = σ(b_i + Σ_j W_ij h_j) with W1 and b1 of layer 0.
	w := [][]float64{{1, -1}, {0.5, 0.5}, {-1, 1}}
	b := []float64{0.1, -0.2, 0.3}
	var want []float64
	for _, h := range [][]float64{{1, 0}, {0, 1}, {1, 1}} {
		for i := range 3 {
			want = append(want, sigmoid(b[i]+w[i][0]*h[0]+w[i][1]*h[1]))
		}
	}
	closeTo(t, "p(v|h1)", dbnValues(got), want, 1e-12)

	// Three layers 2-2-2-2, W = ±60·I: every sample below the top is a copy (or a flip) of the
	// layer above with probability 1 - σ(-60+30) ≈ 1 - 1e-13.
	mk := func(s float64) *models.RBM {
		m, err := models.NewRBMFromParams(dbnTensor(tensor.Float64, []float64{s, 0, 0, s}, 2, 2), dbnTensor(tensor.Float64, []float64{-s / 2, -s / 2}, 2), dbnTensor(tensor.Float64, []float64{0, 0}, 2))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	d3, err := models.NewDBNFromLayers([]*models.RBM{mk(60), mk(60), mk(60)})
	if err != nil {
		t.Fatal(err)
	}
	top := dbnTensor(tensor.Float64, []float64{1, 0, 0, 1}, 2, 2)
	got, err = d3.DownPass(top, rand.NewPCG(2, 2))
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "3-layer down-pass", dbnValues(got), []float64{1, 0, 0, 1}, 1e-12)
	if _, err := d3.DownPass(dbnTensor(tensor.Float64, []float64{1, 0, 0}, 1, 3), rand.NewPCG(1, 1)); err == nil || !strings.Contains(err.Error(), "3 columns") {
		t.Errorf("top states of the wrong width: error %v", err)
	}
}

// TestDBNSampling checks shapes, ranges and reproducibility of Generate and Sample (case B06 for
// a DBN: the same seed gives the same samples, successive calls on one source differ).
func TestDBNSampling(t *testing.T) {
	d, err := models.NewDBN([]int{12, 8, 6, 10}, tensor.Float32, rand.NewPCG(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range d.Layers { // larger weights than the default so the chains do something
		w := m.W.Data().([]float32)
		for i := range w {
			w[i] *= 100
		}
	}
	v0, err := d.Layers[0].RandomVisible(50, rand.NewPCG(3, 3))
	if err != nil {
		t.Fatal(err)
	}
	sample := func(src rand.Source) []float64 {
		s, err := d.Sample(v0, 5, src)
		if err != nil {
			t.Fatal(err)
		}
		if sh := s.Shape(); sh[0] != 50 || sh[1] != 12 || !s.Dtype().Eq(tensor.Float32) {
			t.Fatalf("sample shape %v dtype %v", sh, s.Dtype())
		}
		return dbnValues(s)
	}
	src := rand.NewPCG(7, 7)
	a, b := sample(src), sample(src)
	c := sample(rand.NewPCG(7, 7))
	closeTo(t, "same seed", c, a, 0)
	same := true
	for i := range a {
		if a[i] < 0 || a[i] > 1 {
			t.Fatalf("sample value %v outside [0,1]", a[i])
		}
		same = same && a[i] == b[i]
	}
	if same {
		t.Error("two successive calls on one source gave identical samples")
	}
	top, err := d.Top().RandomVisible(4, rand.NewPCG(4, 4))
	if err != nil {
		t.Fatal(err)
	}
	g, err := d.Generate(top, 3, rand.NewPCG(5, 5))
	if err != nil {
		t.Fatal(err)
	}
	if sh := g.Shape(); sh[0] != 4 || sh[1] != 12 {
		t.Errorf("Generate shape %v", sh)
	}
	if _, err := d.Sample(v0, 0, src); err == nil {
		t.Error("k = 0: no error")
	}
	if _, err := d.Sample(v0, 1, nil); err == nil {
		t.Error("nil source: no error")
	}
}

// TestB15DBN is case B15 for a DBN: layers of width 1 ([2,1,1]) work for 1-row and 2-row batches,
// a width mismatch and an empty batch give clear errors.
func TestB15DBN(t *testing.T) {
	d, err := models.NewDBN([]int{2, 1, 1}, tensor.Float64, rand.NewPCG(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	d.Layers[0].W = dbnTensor(tensor.Float64, []float64{1, 2}, 2, 1)
	for _, rows := range [][]float64{{1, 1}, {1, 1, 0, 0}} {
		x := dbnTensor(tensor.Float64, rows, len(rows)/2, 2)
		up, err := d.UpPass(x)
		if err != nil {
			t.Fatal(err)
		}
		h1 := sigmoid(3)
		closeTo(t, "h1 of [1,1]", dbnValues(up[0])[:1], []float64{h1}, 1e-12)
		closeTo(t, "h2 of [1,1]", dbnValues(up[1])[:1], []float64{sigmoid(h1 * floatAt(d.Layers[1].W, 0))}, 1e-12)
		if up[1].Shape()[0] != len(rows)/2 || up[1].Shape()[1] != 1 {
			t.Errorf("top shape %v", up[1].Shape())
		}
		s, err := d.Sample(x, 2, rand.NewPCG(1, 1))
		if err != nil {
			t.Fatal(err)
		}
		if s.Shape()[0] != len(rows)/2 || s.Shape()[1] != 2 {
			t.Errorf("sample shape %v", s.Shape())
		}
	}
	d3, _ := models.NewDBN([]int{3, 2}, tensor.Float64, rand.NewPCG(1, 1))
	if _, err := d3.Features(dbnTensor(tensor.Float64, make([]float64, 20), 4, 5)); err == nil || !strings.Contains(err.Error(), "model has 3 visible units, data has 5 columns") {
		t.Errorf("width mismatch: error %v", err)
	}
	if _, err := d3.Features(tensor.New(tensor.WithShape(0, 3), tensor.Of(tensor.Float64))); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty batch: error %v", err)
	}
}

func floatAt(t *tensor.Dense, i int) float64 { return dbnValues(t)[i] }

// TestNewDBN checks construction: sizes, seeded initialisation (layer after layer from one
// source, as NewRBM would draw), and errors for bad sizes, dtypes and mismatched stacks.
func TestNewDBN(t *testing.T) {
	d, err := models.NewDBN([]int{5, 4, 3}, tensor.Float64, rand.NewPCG(9, 9))
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Sizes(); len(got) != 3 || got[0] != 5 || got[1] != 4 || got[2] != 3 || d.NumLayers() != 2 || d.NumVisible() != 5 || d.NumHidden() != 3 {
		t.Errorf("sizes %v, layers %d", got, d.NumLayers())
	}
	src := rand.NewPCG(9, 9)
	r1, _ := models.NewRBM(5, 4, tensor.Float64, src)
	r2, _ := models.NewRBM(4, 3, tensor.Float64, src)
	closeTo(t, "layer 0 weights", dbnValues(d.Layers[0].W), dbnValues(r1.W), 0)
	closeTo(t, "layer 1 weights", dbnValues(d.Layers[1].W), dbnValues(r2.W), 0)
	for _, sizes := range [][]int{nil, {5}, {5, 0}, {-1, 3}} {
		if _, err := models.NewDBN(sizes, tensor.Float64, rand.NewPCG(1, 1)); err == nil {
			t.Errorf("sizes %v: no error", sizes)
		}
	}
	if _, err := models.NewDBN([]int{3, 2}, tensor.Int, rand.NewPCG(1, 1)); err == nil {
		t.Error("Int dtype: no error")
	}
	if _, err := models.NewDBN([]int{3, 2}, tensor.Float64, nil); err == nil {
		t.Error("nil source: no error")
	}
	a, _ := models.NewRBM(3, 2, tensor.Float64, rand.NewPCG(1, 1))
	b, _ := models.NewRBM(3, 2, tensor.Float64, rand.NewPCG(1, 1))
	if _, err := models.NewDBNFromLayers([]*models.RBM{a, b}); err == nil || !strings.Contains(err.Error(), "layer 0 has 2 hidden units but layer 1 has 3 visible units") {
		t.Errorf("mismatched stack: error %v", err)
	}
	c, _ := models.NewRBM(2, 2, tensor.Float32, rand.NewPCG(1, 1))
	if _, err := models.NewDBNFromLayers([]*models.RBM{a, c}); err == nil || !strings.Contains(err.Error(), "dtype") {
		t.Errorf("mixed dtypes: error %v", err)
	}
	if _, err := models.NewDBNFromLayers(nil); err == nil {
		t.Error("no layers: no error")
	}
	clone, err := d.Clone()
	if err != nil {
		t.Fatal(err)
	}
	clone.Layers[0].W.Data().([]float64)[0] += 1
	if dbnValues(d.Layers[0].W)[0] == dbnValues(clone.Layers[0].W)[0] {
		t.Error("Clone shares memory with the original")
	}
}

// TestDBNSaveLoad is case B17 for a DBN: a 3-layer DBN round-trips with its layer order, and
// damaged files or files of another kind give errors, never panics.
func TestDBNSaveLoad(t *testing.T) {
	dir := t.TempDir()
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		d, err := models.NewDBN([]int{6, 5, 4, 3}, dt, rand.NewPCG(1, 1))
		if err != nil {
			t.Fatal(err)
		}
		for l, m := range d.Layers { // distinguishable biases per layer
			m.B.Memset(castTo(dt, 0.1*float64(l+1)))
			m.C.Memset(castTo(dt, -0.2*float64(l+1)))
		}
		path := filepath.Join(dir, "dbn-"+dt.String())
		if err := d.Save(path); err != nil {
			t.Fatal(err)
		}
		got, err := models.LoadDBN(path)
		if err != nil {
			t.Fatal(err)
		}
		if got.NumLayers() != 3 || !got.Dtype().Eq(dt) {
			t.Fatalf("loaded %d layers of %v", got.NumLayers(), got.Dtype())
		}
		for l := range d.Layers {
			closeTo(t, "W", dbnValues(got.Layers[l].W), dbnValues(d.Layers[l].W), 0)
			closeTo(t, "B", dbnValues(got.Layers[l].B), dbnValues(d.Layers[l].B), 0)
			closeTo(t, "C", dbnValues(got.Layers[l].C), dbnValues(d.Layers[l].C), 0)
		}
		raw, _ := os.ReadFile(path)
		half := filepath.Join(dir, "half")
		os.WriteFile(half, raw[:len(raw)/2], 0o644)
		if _, err := models.LoadDBN(half); err == nil {
			t.Error("truncated file: no error")
		}
	}
	junk := make([]byte, 10<<10)
	r := rand.New(rand.NewPCG(5, 6))
	for i := range junk {
		junk[i] = byte(r.Uint32())
	}
	garbage := filepath.Join(dir, "garbage")
	os.WriteFile(garbage, junk, 0o644)
	if _, err := models.LoadDBN(garbage); err == nil {
		t.Error("random bytes: no error")
	}
	m, _ := models.NewRBM(3, 2, tensor.Float64, rand.NewPCG(1, 1))
	rbmPath := filepath.Join(dir, "model.rbm")
	if err := m.Save(rbmPath); err != nil {
		t.Fatal(err)
	}
	if _, err := models.LoadDBN(rbmPath); err == nil || !strings.Contains(err.Error(), "not a DBN") {
		t.Errorf("RBM file loaded as a DBN: error %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func castTo(dt tensor.Dtype, v float64) any {
	if dt.Eq(tensor.Float32) {
		return float32(v)
	}
	return v
}
