package models

// Tests of a DBN with a Gaussian–Bernoulli bottom layer. An internal test, so that corrupt or
// inconsistent archives can be written with newArchive.

import (
	"bytes"
	"encoding/base64"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
)

func gdSigm(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func gdCopy(t *tensor.Dense) []float64 { return append([]float64(nil), floats(t)...) }

func gdNear(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values %v, want %d %v", what, len(got), got, len(want), want)
	}
	for i := range got {
		if !(math.Abs(got[i]-want[i]) <= tol) {
			t.Fatalf("%s[%d] = %.15g, want %.15g (tol %g)", what, i, got[i], want[i], tol)
		}
	}
}

// gdParams are the parameters of a hand-made 3 → 4 → 2 Gaussian DBN with non-unit σ.
var (
	gdW1 = []float64{
		0.8, -0.5, 0.3, 1.2,
		-0.7, 0.4, 0.9, -0.2,
		0.25, 1.1, -0.6, 0.5,
	}
	gdB1     = []float64{0.3, -1.5, 2.0}
	gdC1     = []float64{0.1, -0.2, 0.3, -0.4}
	gdSigma1 = []float64{0.5, 1.0, 2.5}
	gdW2     = []float64{
		1.5, -1.0,
		-0.5, 2.0,
		0.75, 0.25,
		-1.25, 0.5,
	}
	gdB2 = []float64{0.2, -0.1, 0.05, 0.4}
	gdC2 = []float64{-0.3, 0.6}
)

// gdDBN builds the hand-made Gaussian DBN (W1 (3,4), σ, W2 (4,2)) in dtype dt.
func gdDBN(t *testing.T, dt tensor.Dtype) *DBN {
	t.Helper()
	g := &GaussianRBM{W: denseOf(dt, gdW1, 3, 4), B: denseOf(dt, gdB1, 3), C: denseOf(dt, gdC1, 4), LogSigma: tensor.New(tensor.WithShape(3), tensor.Of(dt))}
	if err := g.SetSigma(gdSigma1); err != nil {
		t.Fatal(err)
	}
	r, err := NewRBMFromParams(denseOf(dt, gdW2, 4, 2), denseOf(dt, gdB2, 4), denseOf(dt, gdC2, 2))
	if err != nil {
		t.Fatal(err)
	}
	d := &DBN{Gaussian: g, Layers: []*RBM{r}}
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
	return d
}

// gdData is 5 rows of real-valued data, well outside [0,1].
var gdData = []float64{
	0.5, -1.25, 3.0,
	-2.0, 0.75, -0.5,
	1.5, 2.5, -3.5,
	0, 0, 0,
	-0.3, -4.0, 7.25,
}

// TestGaussianDBNUpPass: the up-pass equals p(h1|v) = σ(c1 + Σ_i v_i W1_ij/σ_i) and then
// p(h2|h1) = σ(c2 + h1 W2), computed here in plain Go from the parameters.
func TestGaussianDBNUpPass(t *testing.T) {
	n := len(gdData) / 3
	h1 := make([]float64, n*4)
	h2 := make([]float64, n*2)
	for r := 0; r < n; r++ {
		for j := 0; j < 4; j++ {
			a := gdC1[j]
			for i := 0; i < 3; i++ {
				a += gdData[r*3+i] / gdSigma1[i] * gdW1[i*4+j]
			}
			h1[r*4+j] = gdSigm(a)
		}
		for k := 0; k < 2; k++ {
			a := gdC2[k]
			for j := 0; j < 4; j++ {
				a += h1[r*4+j] * gdW2[j*2+k]
			}
			h2[r*2+k] = gdSigm(a)
		}
	}
	for _, tc := range []struct {
		dt  tensor.Dtype
		tol float64
	}{{tensor.Float64, 1e-12}, {tensor.Float32, 2e-6}} {
		d := gdDBN(t, tc.dt)
		if d.NumLayers() != 2 || d.NumVisible() != 3 || d.NumHidden() != 2 || !d.Dtype().Eq(tc.dt) {
			t.Fatalf("%v: NumLayers %d NumVisible %d NumHidden %d Dtype %v", tc.dt, d.NumLayers(), d.NumVisible(), d.NumHidden(), d.Dtype())
		}
		if s := d.Sizes(); len(s) != 3 || s[0] != 3 || s[1] != 4 || s[2] != 2 {
			t.Fatalf("Sizes = %v, want [3 4 2]", s)
		}
		up, err := d.UpPass(denseOf(tc.dt, gdData, n, 3))
		if err != nil {
			t.Fatal(err)
		}
		if len(up) != 2 {
			t.Fatalf("%d up-pass layers, want 2", len(up))
		}
		gdNear(t, tc.dt.String()+" p(h1|v)", gdCopy(up[0]), h1, tc.tol)
		gdNear(t, tc.dt.String()+" p(h2|h1)", gdCopy(up[1]), h2, tc.tol)
		f, err := d.Features(denseOf(tc.dt, gdData, n, 3))
		if err != nil {
			t.Fatal(err)
		}
		gdNear(t, tc.dt.String()+" Features", gdCopy(f), h2, tc.tol)
	}
}

// TestGaussianDBNDownPass: the down-pass of a two-layer Gaussian DBN is the Gaussian mean
// b + σ⊙(h Wᵀ) of the top RBM's visible states; with a Bernoulli layer in between whose visible
// biases saturate p(h1|h2) (±40), the sampled h1 is certain and the result is the Gaussian mean
// of that h1.
func TestGaussianDBNDownPass(t *testing.T) {
	d := gdDBN(t, tensor.Float64)
	x := []float64{1, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0}
	got, err := d.DownPass(denseOf(tensor.Float64, x, 3, 4), rand.NewPCG(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	mean := func(h []float64) []float64 {
		rows := len(h) / 4
		out := make([]float64, rows*3)
		for r := 0; r < rows; r++ {
			for i := 0; i < 3; i++ {
				a := 0.0
				for j := 0; j < 4; j++ {
					a += h[r*4+j] * gdW1[i*4+j]
				}
				out[r*3+i] = gdB1[i] + gdSigma1[i]*a
			}
		}
		return out
	}
	gdNear(t, "E[v|h1]", gdCopy(got), mean(x), 1e-12)

	// Three layers: 3 → 4 → 2 → 3, the middle layer's visible biases fixing h1 = (1,0,1,0).
	top, err := NewRBMFromParams(denseOf(tensor.Float64, []float64{0.5, -0.5, 0.25, 1, 2, -1}, 2, 3), denseOf(tensor.Float64, []float64{0, 0}, 2), denseOf(tensor.Float64, []float64{0, 0, 0}, 3))
	if err != nil {
		t.Fatal(err)
	}
	d.Layers[0].B = denseOf(tensor.Float64, []float64{40, -40, 40, -40}, 4)
	d3 := &DBN{Gaussian: d.Gaussian, Layers: []*RBM{d.Layers[0], top}}
	if err := d3.Check(); err != nil {
		t.Fatal(err)
	}
	h2 := []float64{1, 0, 0, 1, 1, 1, 0, 0}
	got, err = d3.DownPass(denseOf(tensor.Float64, h2, 4, 2), rand.NewPCG(3, 4))
	if err != nil {
		t.Fatal(err)
	}
	h1 := []float64{1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0}
	gdNear(t, "E[v|h1] through a Bernoulli layer", gdCopy(got), mean(h1), 1e-12)

	// Generate and Sample: shapes, real values, reproducible from the seed.
	for _, run := range []func(seed uint64) (*tensor.Dense, error){
		func(seed uint64) (*tensor.Dense, error) {
			return d3.Generate(denseOf(tensor.Float64, h2, 4, 2), 5, rand.NewPCG(seed, 9))
		},
		func(seed uint64) (*tensor.Dense, error) {
			return d3.Sample(denseOf(tensor.Float64, gdData, 5, 3), 5, rand.NewPCG(seed, 9))
		},
	} {
		a, err := run(7)
		if err != nil {
			t.Fatal(err)
		}
		b, err := run(7)
		if err != nil {
			t.Fatal(err)
		}
		if s := a.Shape(); s[1] != 3 {
			t.Fatalf("generated shape %v, want (N, 3)", s)
		}
		gdNear(t, "same seed", gdCopy(a), gdCopy(b), 0)
		// With h1 fixed by the saturated biases every sample is the same Gaussian mean.
		for r := 0; r < a.Shape()[0]; r++ {
			gdNear(t, "generated row", gdCopy(a)[r*3:r*3+3], mean(h1)[:3], 1e-12)
		}
	}
}

// TestGaussianDBNChecks: the Gaussian layer's part in Check, CheckData, NewGaussianDBN and Clone.
func TestGaussianDBNChecks(t *testing.T) {
	d := gdDBN(t, tensor.Float64)
	realData := denseOf(tensor.Float64, gdData, 5, 3)
	if err := d.CheckData(realData); err != nil {
		t.Fatalf("real-valued data rejected: %v", err)
	}
	nan := denseOf(tensor.Float64, []float64{0, math.NaN(), 1}, 1, 3)
	if err := d.CheckData(nan); err == nil {
		t.Fatal("NaN data accepted")
	}
	if _, err := d.UpPass(denseOf(tensor.Float64, gdData[:8], 2, 4)); err == nil {
		t.Fatal("data with 4 columns accepted by a DBN with 3 visible units")
	}
	plain, err := NewDBN([]int{3, 4, 2}, tensor.Float64, rand.NewPCG(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.CheckData(realData); err == nil {
		t.Fatal("a Bernoulli DBN accepted values outside [0,1]")
	}

	alone := &DBN{Gaussian: d.Gaussian}
	if err := alone.Check(); err == nil || !strings.Contains(err.Error(), "no Bernoulli layer") {
		t.Fatalf("Gaussian layer alone: %v", err)
	}
	bad, _ := NewRBM(5, 2, tensor.Float64, rand.NewPCG(1, 1))
	if err := (&DBN{Gaussian: d.Gaussian, Layers: []*RBM{bad}}).Check(); err == nil || !strings.Contains(err.Error(), "layer 0 has 4 hidden units but layer 1 has 5 visible") {
		t.Fatalf("size mismatch: %v", err)
	}
	f32, _ := NewRBM(4, 2, tensor.Float32, rand.NewPCG(1, 1))
	if err := (&DBN{Gaussian: d.Gaussian, Layers: []*RBM{f32}}).Check(); err == nil || !strings.Contains(err.Error(), "dtype") {
		t.Fatalf("dtype mismatch: %v", err)
	}
	nanSigma := gdDBN(t, tensor.Float64)
	floats(nanSigma.Gaussian.LogSigma)[1] = math.Inf(1)
	if err := nanSigma.Check(); err == nil || !strings.Contains(err.Error(), "layer 0 (Gaussian)") {
		t.Fatalf("non-finite log σ: %v", err)
	}

	if _, err := NewGaussianDBN([]int{3, 4}, tensor.Float64, rand.NewPCG(1, 1)); err == nil {
		t.Fatal("NewGaussianDBN accepted two sizes")
	}
	if _, err := NewGaussianDBN([]int{3, 0, 2}, tensor.Float64, rand.NewPCG(1, 1)); err == nil {
		t.Fatal("NewGaussianDBN accepted a zero size")
	}
	if _, err := NewGaussianDBN([]int{3, 4, 2}, tensor.Float64, nil); err == nil {
		t.Fatal("NewGaussianDBN accepted a nil source")
	}
	// NewGaussianDBN draws the Gaussian layer, then the RBMs, from one source, in order.
	g, err := NewGaussianDBN([]int{3, 4, 2, 5}, tensor.Float64, rand.NewPCG(8, 9))
	if err != nil {
		t.Fatal(err)
	}
	if g.NumLayers() != 3 || len(g.Layers) != 2 || g.Layers[1].NumHidden() != 5 {
		t.Fatalf("NewGaussianDBN([3 4 2 5]): %d layers, sizes %v", g.NumLayers(), g.Sizes())
	}
	src := rand.NewPCG(8, 9)
	wantG, _ := NewGaussianRBM(3, 4, tensor.Float64, src)
	wantR, _ := NewRBM(4, 2, tensor.Float64, src)
	gdNear(t, "Gaussian W", gdCopy(g.Gaussian.W), gdCopy(wantG.W), 0)
	gdNear(t, "σ", g.Gaussian.Sigma(), []float64{1, 1, 1}, 0)
	gdNear(t, "layer 1 W", gdCopy(g.Layers[0].W), gdCopy(wantR.W), 0)

	// Clone is deep: same values, no shared memory, σ settings and statistics copied.
	d.Gaussian.LearnSigma = true
	d.Gaussian.Standardizer = &datasets.Standardizer{Mean: []float64{1, 2, 3}, Std: []float64{0.5, 1, 2}}
	c, err := d.Clone()
	if err != nil {
		t.Fatal(err)
	}
	gdNear(t, "clone log σ", gdCopy(c.Gaussian.LogSigma), gdCopy(d.Gaussian.LogSigma), 0)
	gdNear(t, "clone W1", gdCopy(c.Gaussian.W), gdW1, 0)
	if !c.Gaussian.LearnSigma || c.Gaussian.Standardizer == nil || c.Gaussian.Standardizer.Std[2] != 2 {
		t.Fatalf("clone lost LearnSigma or the standardiser: %+v", c.Gaussian)
	}
	floats(c.Gaussian.W)[0] = 99
	floats(c.Gaussian.LogSigma)[0] = 3
	c.Gaussian.Standardizer.Mean[0] = 42
	if floats(d.Gaussian.W)[0] != gdW1[0] || d.Gaussian.Sigma()[0] != 0.5 || d.Gaussian.Standardizer.Mean[0] != 1 {
		t.Fatal("changing the clone changed the original")
	}
}

func gdSameDBN(t *testing.T, got, want *DBN) {
	t.Helper()
	if (got.Gaussian == nil) != (want.Gaussian == nil) || len(got.Layers) != len(want.Layers) || !got.Dtype().Eq(want.Dtype()) {
		t.Fatalf("loaded DBN has sizes %v dtype %v (Gaussian %v); want %v %v (Gaussian %v)", got.Sizes(), got.Dtype(), got.Gaussian != nil, want.Sizes(), want.Dtype(), want.Gaussian != nil)
	}
	if g, w := got.Gaussian, want.Gaussian; w != nil {
		for i, p := range [][2]*tensor.Dense{{g.W, w.W}, {g.B, w.B}, {g.C, w.C}, {g.LogSigma, w.LogSigma}} {
			if !p[0].Shape().Eq(p[1].Shape()) {
				t.Fatalf("Gaussian tensor %d shape %v, want %v", i, p[0].Shape(), p[1].Shape())
			}
			gdNear(t, "Gaussian tensor", gdCopy(p[0]), gdCopy(p[1]), 0)
		}
		if g.LearnSigma != w.LearnSigma || (g.Standardizer == nil) != (w.Standardizer == nil) {
			t.Fatalf("LearnSigma %v standardiser %v; want %v %v", g.LearnSigma, g.Standardizer, w.LearnSigma, w.Standardizer)
		}
		if w.Standardizer != nil {
			gdNear(t, "standardiser mean", g.Standardizer.Mean, w.Standardizer.Mean, 0)
			gdNear(t, "standardiser std", g.Standardizer.Std, w.Standardizer.Std, 0)
		}
	}
	for l := range want.Layers {
		for _, p := range [][2]*tensor.Dense{{got.Layers[l].W, want.Layers[l].W}, {got.Layers[l].B, want.Layers[l].B}, {got.Layers[l].C, want.Layers[l].C}} {
			if !p[0].Shape().Eq(p[1].Shape()) {
				t.Fatalf("layer %d shape %v, want %v", l, p[0].Shape(), p[1].Shape())
			}
			gdNear(t, "layer tensor", gdCopy(p[0]), gdCopy(p[1]), 0)
		}
	}
}

// TestGaussianDBNSaveLoad: Save → LoadDBN gives back every value bit for bit, for Gaussian and
// plain DBNs in both dtypes, and the loaded Gaussian DBN computes the same up-pass.
func TestGaussianDBNSaveLoad(t *testing.T) {
	dir := t.TempDir()
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		d := gdDBN(t, dt)
		d.Gaussian.LearnSigma = true
		d.Gaussian.Standardizer = &datasets.Standardizer{Mean: []float64{0.25, -1, 3}, Std: []float64{2, 0.5, 1}}
		plain, err := NewDBN([]int{3, 4, 2, 2}, dt, rand.NewPCG(4, 4))
		if err != nil {
			t.Fatal(err)
		}
		another, err := NewGaussianDBN([]int{6, 3, 2, 4}, dt, rand.NewPCG(5, 5))
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []*DBN{d, plain, another} {
			path := filepath.Join(dir, dt.String()+strings.Repeat("x", i)+".ebm")
			if err := want.Save(path); err != nil {
				t.Fatal(err)
			}
			got, err := LoadDBN(path)
			if err != nil {
				t.Fatal(err)
			}
			gdSameDBN(t, got, want)
		}
		got, err := LoadDBN(filepath.Join(dir, dt.String()+".ebm"))
		if err != nil {
			t.Fatal(err)
		}
		x := denseOf(dt, gdData, 5, 3)
		a, err := got.Features(x)
		if err != nil {
			t.Fatal(err)
		}
		b, err := d.Features(x)
		if err != nil {
			t.Fatal(err)
		}
		gdNear(t, "features after loading", gdCopy(a), gdCopy(b), 0)
		if _, err := LoadGaussianRBM(filepath.Join(dir, dt.String()+".ebm")); err == nil {
			t.Fatal("a DBN file loaded as a GaussianRBM")
		}
	}
}

// gdOldDBN is a file written by DBN.Save before DBNs had Gaussian layers (commit 80f7021): the
// float64 3-2-1 stack W1 = [[1,-1],[0.5,0.5],[-1,1]], b1 = [0.1,-0.2,0.3], c1 = [0.25,-0.75],
// W2 = [[2],[-2]], b2 = [0.5,-0.5], c2 = [0.125].
const gdOldDBN = "RUJNTU9ERUwCAAAAHwEAAFp/AwEBDWFyY2hpdmVIZWFkZXIB/4AAAQYBBEtpbmQBDAABBUR0eXBlAQwAAQRNZXRhAf+CAAEFTmFtZXMB/4QAAQZTaGFwZXMB/4gAAQdWZXJzaW9uAQQAAAAh/4EEAQERbWFwW3N0cmluZ11zdHJpbmcB/4IAAQwBDAAAFv+DAgEBCFtdc3RyaW5nAf+EAAEMAAAW/4cCAQEHW11bXWludAH/iAAB/4YAAAz/hQIBAv+GAAEEAABm/4ABA0RCTgEHZmxvYXQ2NAEBBmxheWVycwEyAQYIbGF5ZXIwLlcIbGF5ZXIwLmIIbGF5ZXIwLmMIbGF5ZXIxLlcIbGF5ZXIxLmIIbGF5ZXIxLmMBBgIGBAEGAQQCBAIBBAECAQQAxwAAABSbqO0r/4kDAQELYXJjaGl2ZUJvZHkB/4oAAQIBA0Y2NAH/jgABA0YzMgH/kgAAABr/jQIBAQtbXVtdZmxvYXQ2NAH/jgAB/4wAAAz/iwIBAv+MAAEIAAAa/5ECAQELW11bXWZsb2F0MzIB/5IAAf+QAAAM/48CAQL/kAABCAAASv+KAQYG/vA//vC//uA//uA//vC//vA/A/iamZmZmZm5P/iamZmZmZnJv/gzMzMzMzPTPwL+0D/+6L8CQP/AAv7gP/7gvwH+wD8A"

// TestDBNOldFormat: a plain DBN file written before the Gaussian layer existed still loads, with
// its values, and a plain DBN is still saved byte for byte as before.
func TestDBNOldFormat(t *testing.T) {
	old, err := base64.StdEncoding.DecodeString(gdOldDBN)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "old.ebm")
	if err := os.WriteFile(path, old, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := LoadDBN(path)
	if err != nil {
		t.Fatal(err)
	}
	f64 := tensor.Float64
	l1, _ := NewRBMFromParams(denseOf(f64, []float64{1, -1, 0.5, 0.5, -1, 1}, 3, 2), denseOf(f64, []float64{0.1, -0.2, 0.3}, 3), denseOf(f64, []float64{0.25, -0.75}, 2))
	l2, _ := NewRBMFromParams(denseOf(f64, []float64{2, -2}, 2, 1), denseOf(f64, []float64{0.5, -0.5}, 2), denseOf(f64, []float64{0.125}, 1))
	want := &DBN{Layers: []*RBM{l1, l2}}
	gdSameDBN(t, d, want)
	if err := want.Save(filepath.Join(dir, "new.ebm")); err != nil {
		t.Fatal(err)
	}
	now, err := os.ReadFile(filepath.Join(dir, "new.ebm"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(now, old) {
		t.Fatalf("a plain DBN is now saved as %d bytes that differ from the %d of the old format", len(now), len(old))
	}
}

// TestGaussianDBNBadFiles: truncated, corrupt and inconsistent Gaussian DBN files give errors.
func TestGaussianDBNBadFiles(t *testing.T) {
	dir := t.TempDir()
	d := gdDBN(t, tensor.Float64)
	good := filepath.Join(dir, "good.ebm")
	if err := d.Save(good); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	load := func(name string, data []byte) error {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadDBN(p)
		return err
	}
	for _, n := range []int{0, 12, len(raw) / 2, len(raw) - 1} {
		if err := load("trunc.ebm", raw[:n]); err == nil {
			t.Fatalf("file truncated to %d of %d bytes loaded", n, len(raw))
		}
	}
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)-5] ^= 0x40
	if err := load("flip.ebm", flipped); err == nil {
		t.Fatal("file with a flipped body bit loaded")
	}

	// Archives that are well formed but do not describe a Gaussian DBN.
	f64 := tensor.Float64
	write := func(name string, edit func(a *archive)) error {
		t.Helper()
		a := newArchive("DBN", f64)
		a.meta["layers"] = "1"
		a.put("layer0.W", d.Layers[0].W)
		a.put("layer0.b", d.Layers[0].B)
		a.put("layer0.c", d.Layers[0].C)
		a.meta["gaussian"] = "true"
		a.meta["gaussian.learn_sigma"] = "false"
		a.put("gaussian.W", d.Gaussian.W)
		a.put("gaussian.b", d.Gaussian.B)
		a.put("gaussian.c", d.Gaussian.C)
		a.put("gaussian.logsigma", d.Gaussian.LogSigma)
		edit(a)
		p := filepath.Join(dir, name)
		if err := a.write(p); err != nil {
			t.Fatal(err)
		}
		_, err := LoadDBN(p)
		return err
	}
	if err := write("ok.ebm", func(*archive) {}); err != nil {
		t.Fatalf("the reference archive does not load: %v", err)
	}
	swap := func(name string, x *tensor.Dense) func(a *archive) {
		return func(a *archive) { a.tensors[name] = x }
	}
	cases := map[string]func(a *archive){
		"gaussian flag":   func(a *archive) { a.meta["gaussian"] = "yes" },
		"learn_sigma":     func(a *archive) { a.meta["gaussian.learn_sigma"] = "maybe" },
		"no flag":         func(a *archive) { delete(a.meta, "gaussian") },
		"layer count":     func(a *archive) { a.meta["layers"] = "2" },
		"Gaussian W rank": swap("gaussian.W", denseOf(f64, make([]float64, 12), 12)),
		"Gaussian W size": swap("gaussian.W", denseOf(f64, make([]float64, 15), 3, 5)),
		"log σ shape":     swap("gaussian.logsigma", denseOf(f64, make([]float64, 4), 4)),
		"log σ NaN":       swap("gaussian.logsigma", denseOf(f64, []float64{0, math.NaN(), 0}, 3)),
		"c shape":         swap("gaussian.c", denseOf(f64, make([]float64, 3), 3)),
		"stats count":     func(a *archive) { a.putFloats("gaussian.standardizer.mean", []float64{1, 2, 3}) },
		"stats without std": func(a *archive) {
			a.putFloats("gaussian.standardizer.mean", []float64{1, 2, 3})
			a.putFloats("gaussian.standardizer.sd", []float64{1, 2, 3})
		},
		"sizes do not chain": func(a *archive) {
			a.tensors["gaussian.W"] = denseOf(f64, make([]float64, 15), 3, 5)
			a.tensors["gaussian.c"] = denseOf(f64, make([]float64, 5), 5)
		},
		"stats shape": func(a *archive) {
			a.putFloats("gaussian.standardizer.mean", []float64{1, 2, 3})
			a.putFloats("gaussian.standardizer.std", []float64{1, 2})
		},
	}
	for name, edit := range cases {
		err := write("bad.ebm", edit)
		t.Logf("%s: %v", name, err)
		if err == nil {
			t.Errorf("%s: inconsistent archive loaded", name)
		}
	}
}
