package ops

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Softmax64 against the definition, and at extremes where a naive exp overflows or underflows.
func TestSoftmax64(t *testing.T) {
	x := []float64{0.5, -1, 2, 0}
	den := 0.0
	for _, v := range x {
		den += math.Exp(v)
	}
	got := make([]float64, len(x))
	Softmax64(got, x)
	for i, v := range x {
		if want := math.Exp(v) / den; ulps(got[i], want) > 4 {
			t.Errorf("Softmax64(%v)[%d] = %v, want %v", x, i, got[i], want)
		}
	}
	// In place, large logits (exp(1000) overflows), and equal very negative logits (exp(-1000)
	// underflows to 0, so a naive version divides 0 by 0).
	for _, c := range []struct{ x, want []float64 }{
		{[]float64{1000, 0}, []float64{1, 0}},
		{[]float64{1000, 1000 + math.Log(3)}, []float64{0.25, 0.75}},
		{[]float64{-1000, -1000}, []float64{0.5, 0.5}},
		{[]float64{math.Inf(-1), 0, math.Inf(-1)}, []float64{0, 1, 0}},
		{[]float64{7}, []float64{1}},
	} {
		y := append([]float64(nil), c.x...)
		Softmax64(y, y)
		for i := range y {
			if math.Abs(y[i]-c.want[i]) > 1e-12 { // 1000 + log 3 is exact only to 1e-13
				t.Errorf("Softmax64(%v) = %v, want %v", c.x, y, c.want)
				break
			}
		}
	}
	for _, x := range [][]float64{{math.Inf(-1), math.Inf(-1)}, {math.Inf(1), 0}, {0, math.NaN()}} {
		y := make([]float64, len(x))
		Softmax64(y, x)
		if !math.IsNaN(y[0]) || !math.IsNaN(y[1]) {
			t.Errorf("Softmax64(%v) = %v, want NaN (no distribution)", x, y)
		}
	}
	Softmax64(nil, nil) // no panic
}

// CategoricalIndex is inversion of the cumulative sums, skips zero-probability categories and
// falls back to the last positive one when rounding leaves u above the total.
func TestCategoricalIndex(t *testing.T) {
	p := []float64{0.2, 0.3, 0.5}
	for _, c := range []struct {
		u    float64
		want int
	}{{0, 0}, {0.1999, 0}, {0.2, 1}, {0.4999, 1}, {0.5, 2}, {math.Nextafter(1, 0), 2}} {
		if got := CategoricalIndex(p, c.u); got != c.want {
			t.Errorf("CategoricalIndex(%v, %v) = %d, want %d", p, c.u, got, c.want)
		}
	}
	for _, c := range []struct {
		p    []float64
		u    float64
		want int
	}{
		{[]float64{0, 1, 0}, 0, 1},
		{[]float64{0, 1, 0}, 0.999, 1},
		{[]float64{0.5, 0.4999999, 0}, 0.99999999, 1}, // sum < 1: the last positive category
		{[]float64{0, 0}, 0.5, -1},
		{nil, 0.5, -1},
		{[]float64{math.NaN(), 0}, 0.5, -1},
	} {
		if got := CategoricalIndex(c.p, c.u); got != c.want {
			t.Errorf("CategoricalIndex(%v, %v) = %d, want %d", c.p, c.u, got, c.want)
		}
	}
}

// categoricalOnce builds y = Categorical(p, k), runs it once and returns y's values.
func categoricalOnce(t *testing.T, dt tensor.Dtype, shape tensor.Shape, k int, p []float64, src rand.Source) []float64 {
	t.Helper()
	g := G.NewGraph()
	pn := newInput(g, dt, shape, "p")
	y, err := Categorical(pn, k, src)
	if err != nil {
		t.Fatal(err)
	}
	m := newMachine(t, g, y)
	m.mustRun(t, map[*G.Node]G.Value{pn: valueOf(dt, shape, p)})
	return m.floats(t, y)
}

// Seeded statistical test: over 20,000 rows of four 4-way units with different probabilities
// (zeros and a certain category included), each category's frequency is within 4 standard errors
// sqrt(p(1-p)/n) of its probability, categories of probability 0 never occur, and every group is
// exactly one-hot.
func TestCategoricalFrequencies(t *testing.T) {
	const rows, k = 20000, 4
	units := [][]float64{{0.1, 0.2, 0.3, 0.4}, {0, 0.5, 0, 0.5}, {1, 0, 0, 0}, {0.7, 0.1, 0.15, 0.05}}
	var row []float64
	for _, u := range units {
		row = append(row, u...)
	}
	p := make([]float64, 0, rows*len(row))
	for range rows {
		p = append(p, row...)
	}
	for _, dt := range floatDtypes {
		out := categoricalOnce(t, dt, tensor.Shape{rows, len(row)}, k, p, rand.NewPCG(7, uint64(len(dt.String()))))
		counts := make([]float64, len(row))
		for r := range rows {
			for u := range units {
				ones := 0
				for j := range k {
					v := out[r*len(row)+u*k+j]
					if v != 0 && v != 1 {
						t.Fatalf("%v: row %d unit %d: entry %v not in {0,1}", dt, r, u, v)
					}
					if v == 1 {
						ones++
						counts[u*k+j]++
					}
				}
				if ones != 1 {
					t.Fatalf("%v: row %d unit %d has %d ones, want exactly 1", dt, r, u, ones)
				}
			}
		}
		for i, pi := range row {
			freq := counts[i] / rows
			if pi == 0 || pi == 1 {
				if freq != pi {
					t.Errorf("%v: category %d of unit %d has probability %v but frequency %v", dt, i%k, i/k, pi, freq)
				}
				continue
			}
			if se := math.Sqrt(pi * (1 - pi) / rows); math.Abs(freq-pi) > 4*se {
				t.Errorf("%v: category %d of unit %d: frequency %v, want %v within 4·%.3g", dt, i%k, i/k, freq, pi, se)
			}
		}
	}
}

// The samples are exactly CategoricalIndex(group, rand.New(src).Float64()) group by group in
// row-major order, for float32 and float64 alike, consecutive runs continue the stream, and one
// seed gives the same samples in a fresh graph (B06).
func TestCategoricalStream(t *testing.T) {
	shape := tensor.Shape{2, 2, 6} // k = 3: two groups per row, eight in all
	const k = 3
	r := rand.New(rand.NewPCG(9, 9))
	p := make([]float64, shape.TotalSize())
	for lo := 0; lo < len(p); lo += k {
		Softmax64(p[lo:lo+k], []float64{2 * r.NormFloat64(), 2 * r.NormFloat64(), 2 * r.NormFloat64()})
	}
	ref := rand.New(rand.NewPCG(42, 1))
	want := func() []float64 {
		w := make([]float64, len(p))
		for lo := 0; lo < len(p); lo += k {
			w[lo+CategoricalIndex(p[lo:lo+k], ref.Float64())] = 1
		}
		return w
	}
	run1, run2 := want(), want()
	if equalFloats(run1, run2) {
		t.Fatal("reference runs coincide: pick another seed")
	}
	for _, dt := range floatDtypes {
		pv := p
		if dt == tensor.Float32 {
			// Round the probabilities to float32 first, so that both paths see the same values.
			pv = make([]float64, len(p))
			for i, v := range p {
				pv[i] = float64(float32(v))
			}
		}
		for rep := range 2 {
			g := G.NewGraph()
			pn := newInput(g, dt, shape, "p")
			y := G.Must(Categorical(pn, k, rand.NewPCG(42, 1)))
			m := newMachine(t, g, y)
			for i, w := range [][]float64{run1, run2} {
				m.mustRun(t, map[*G.Node]G.Value{pn: valueOf(dt, shape, pv)})
				if got := m.floats(t, y); !equalFloats(got, w) {
					t.Fatalf("%v graph %d run %d: %v, want %v", dt, rep, i+1, got, w)
				}
			}
		}
	}
}

// Construction errors: nil arguments, dtype, k and shape.
func TestCategoricalConstructionErrors(t *testing.T) {
	g := G.NewGraph()
	src := rand.NewPCG(1, 1)
	m := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 6), G.WithName("m"))
	ints := G.NewMatrix(g, tensor.Int, G.WithShape(2, 6), G.WithName("ints"))
	scalar := G.NewScalar(g, tensor.Float64, G.WithName("s"))
	for _, c := range []struct {
		name string
		p    *G.Node
		k    int
		src  rand.Source
		is   error
	}{
		{"nil p", nil, 3, src, nil},
		{"nil src", m, 3, nil, nil},
		{"Int dtype", ints, 3, src, ErrDtype},
		{"k = 0", m, 0, src, ErrShape},
		{"k = -2", m, -2, src, ErrShape},
		{"k does not divide 6", m, 4, src, ErrShape},
		{"scalar", scalar, 1, src, ErrShape},
	} {
		n, err := Categorical(c.p, c.k, c.src)
		if err == nil || n != nil {
			t.Errorf("%s: Categorical = %v, %v; want an error", c.name, n, err)
			continue
		}
		if c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("%s: %v does not wrap %v", c.name, err, c.is)
		}
	}
	if _, err := Categorical(m, 6, src); err != nil {
		t.Errorf("k = last dimension: %v", err)
	}
}

// Run-time domain errors: a bad entry is named with its index; a group whose sum is not 1 is
// named by its first entry with the sum as the value.
func TestCategoricalDomainErrors(t *testing.T) {
	shape := tensor.Shape{2, 4}
	for _, dt := range floatDtypes {
		for _, bad := range []float64{math.NaN(), -0.1, 1.5, math.Inf(1)} {
			p := []float64{0.5, 0.5, 0.25, 0.75, 0.5, 0.5, bad, 0.5}
			g := G.NewGraph()
			pn := newInput(g, dt, shape, "p")
			y := G.Must(Categorical(pn, 2, rand.NewPCG(1, 1)))
			err := newMachine(t, g, y).run(map[*G.Node]G.Value{pn: valueOf(dt, shape, p)})
			var de *DomainError
			if !errors.As(Transparent(err), &de) || de.Index != 6 || de.Input != "p" ||
				!(de.Value == float64(float32(bad)) || de.Value == bad || math.IsNaN(bad) && math.IsNaN(de.Value)) ||
				de.Coords[0] != 1 || de.Coords[1] != 2 {
				t.Errorf("%v p=%v: err = %v (%+v), want a *DomainError at index 6", dt, bad, err, de)
			}
		}
		for _, sum := range []float64{0.9, 1.1, 0} {
			p := []float64{0.5, 0.5, sum / 2, sum / 2, 1, 0, 0, 1}
			g := G.NewGraph()
			pn := newInput(g, dt, shape, "p")
			y := G.Must(Categorical(pn, 2, rand.NewPCG(1, 1)))
			err := newMachine(t, g, y).run(map[*G.Node]G.Value{pn: valueOf(dt, shape, p)})
			var de *DomainError
			if !errors.As(Transparent(err), &de) || de.Index != 2 || math.Abs(de.Value-sum) > 1e-7 ||
				!strings.Contains(de.Input, "sum") || !strings.Contains(err.Error(), "1 ± ") {
				t.Errorf("%v group sum %v: err = %v (%+v), want a sum error at index 2", dt, sum, err, de)
			}
		}
		// Within the tolerance: accepted (float32 softmax outputs sum to 1 only to rounding).
		eps := 1e-13
		if dt == tensor.Float32 {
			eps = 1e-7
		}
		p := []float64{0.5 + eps, 0.5, 0.25, 0.75, 0.5, 0.5 - eps, 1, 0}
		out := categoricalOnce(t, dt, shape, 2, p, rand.NewPCG(3, 3))
		if out[6] != 1 || out[7] != 0 {
			t.Errorf("%v: certain category not drawn: %v", dt, out)
		}
	}
}

// Grad treats the sample as a constant: d/dx Σ y⊙x = y and no gradient reaches the logits
// through the sample; two Categorical nodes on one input are distinct and draw independently.
func TestCategoricalGradAndDistinctNodes(t *testing.T) {
	g := G.NewGraph()
	shape := tensor.Shape{50, 3}
	p := newInput(g, tensor.Float64, shape, "p")
	x := newInput(g, tensor.Float64, shape, "x")
	src := rand.NewPCG(4, 4)
	y1, y2 := G.Must(Categorical(p, 3, src)), G.Must(Categorical(p, 3, src))
	if y1 == y2 || y1.ID() == y2.ID() {
		t.Fatal("two Categorical ops on the same input share a node")
	}
	cost := G.Must(G.Sum(G.Must(G.HadamardProd(y1, x))))
	grads, err := G.Grad(cost, x)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(cost, p); err == nil {
		t.Error("Grad wrt p through the sample only: no error")
	}
	m := newMachine(t, g, y1, y2, grads[0])
	pv := make([]float64, shape.TotalSize())
	for i := range pv {
		pv[i] = 1.0 / 3
	}
	m.mustRun(t, map[*G.Node]G.Value{p: valueOf(tensor.Float64, shape, pv), x: valueOf(tensor.Float64, shape, filled(150, 2))})
	if a, b := m.floats(t, y1), m.floats(t, y2); equalFloats(a, b) {
		t.Error("two Categorical nodes drew the same samples")
	}
	if !equalFloats(m.floats(t, grads[0]), m.floats(t, y1)) {
		t.Error("d cost/dx is not the sample")
	}
	op := &categoricalOp{k: 3}
	if d := op.DiffWRT(1); len(d) != 1 || d[0] {
		t.Errorf("DiffWRT(1) = %v", d)
	}
	if gr, err := op.SymDiff(G.Nodes{x}, x, x); err != nil || len(gr) != 1 || gr[0] != nil {
		t.Errorf("SymDiff = %v, %v", gr, err)
	}
	seen := map[uint32]uint64{}
	for id := uint64(1); id <= 100000; id++ {
		h := (&categoricalOp{k: 5, id: id}).Hashcode()
		if prev, ok := seen[h]; ok {
			t.Fatalf("ids %d and %d share hash code %x", prev, id, h)
		}
		seen[h] = id
	}
}

// UsePreallocDo reuses a fitting prealloc, never one aliasing p, and rejects a value whose last
// dimension k does not divide.
func TestCategoricalPrealloc(t *testing.T) {
	op := &categoricalOp{k: 2, rng: rand.New(rand.NewPCG(1, 1))}
	p := tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{0.5, 0.5, 0.5, 0.5}))
	pre := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(2, 2))
	if v, err := op.UsePreallocDo(pre, p); err != nil || v != G.Value(pre) {
		t.Errorf("fitting prealloc not used: %v", err)
	}
	if v, err := op.UsePreallocDo(p, p); err != nil || v == G.Value(p) {
		t.Errorf("prealloc aliasing p was used: %v", err)
	}
	odd := tensor.New(tensor.WithShape(1, 3), tensor.WithBacking([]float64{0.5, 0.5, 0}))
	if _, err := op.UsePreallocDo(nil, odd); !errors.Is(err, ErrShape) {
		t.Errorf("(1, 3) value with k = 2: err = %v, want ErrShape", err)
	}
}

// FuzzCategorical feeds arbitrary probabilities: the op never panics, and either returns an
// error or a one-hot sample whose 1 sits on a positive probability.
func FuzzCategorical(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0xe0, 0x3f, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f}, uint8(2))
	f.Add([]byte{1, 2, 3}, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, kb uint8) {
		k := int(kb%4) + 1
		n := len(data) / 8
		n -= n % k
		if n == 0 {
			return
		}
		p := make([]float64, n)
		for i := range p {
			p[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
		}
		op := &categoricalOp{k: k, rng: rand.New(rand.NewPCG(1, 2))}
		v, err := op.Do(tensor.New(tensor.WithShape(n), tensor.WithBacking(p)))
		if err != nil {
			return
		}
		out := v.(*tensor.Dense).Float64s()
		for lo := 0; lo < n; lo += k {
			ones := 0
			for j := lo; j < lo+k; j++ {
				if out[j] == 1 {
					ones++
					if !(p[j] > 0) {
						t.Fatalf("category %d of probability %v drawn", j, p[j])
					}
				}
			}
			if ones != 1 {
				t.Fatalf("group at %d has %d ones", lo, ones)
			}
		}
	})
}

// The Softmax op equals Softmax64 group by group (float32: computed in float64, rounded once),
// including groups of logits that overflow a naive exp.
func TestSoftmaxOpValues(t *testing.T) {
	shape := tensor.Shape{2, 6}
	x := []float64{0.5, -1, 2, 1000, 999, -1000, 0, 0, 0, -3, 40, 7}
	for _, dt := range floatDtypes {
		for _, k := range []int{2, 3, 6} {
			g := G.NewGraph()
			xn := newInput(g, dt, shape, "x")
			y := G.Must(Softmax(xn, k))
			m := newMachine(t, g, y)
			xv := valueOf(dt, shape, x)
			m.mustRun(t, map[*G.Node]G.Value{xn: xv})
			got := m.floats(t, y)
			in := floats64(t, xv)
			for lo := 0; lo < len(in); lo += k {
				want := make([]float64, k)
				Softmax64(want, in[lo:lo+k])
				for j := range want {
					w := want[j]
					if dt == tensor.Float32 {
						w = float64(float32(w))
					}
					if got[lo+j] != w {
						t.Fatalf("%v k=%d: Softmax = %v, want group %d = %v", dt, k, got, lo/k, want)
					}
				}
			}
		}
	}
}

// The gradient of Σ y⊙r through Softmax matches central finite differences (h = 1e-6) to 1e-8,
// and differentiating the gradient again is an error, not a silent zero.
func TestSoftmaxOpGradient(t *testing.T) {
	const k = 3
	shape := tensor.Shape{2, 6}
	r := rand.New(rand.NewPCG(3, 4))
	x, w := make([]float64, 12), make([]float64, 12)
	for i := range x {
		x[i], w[i] = 2*r.NormFloat64(), r.NormFloat64()
	}
	cost := func(x []float64) float64 {
		c, p := 0.0, make([]float64, k)
		for lo := 0; lo < len(x); lo += k {
			Softmax64(p, x[lo:lo+k])
			for j := range p {
				c += p[j] * w[lo+j]
			}
		}
		return c
	}
	g := G.NewGraph()
	xn := newInput(g, tensor.Float64, shape, "x")
	wn := newInput(g, tensor.Float64, shape, "w")
	c := G.Must(G.Sum(G.Must(G.HadamardProd(G.Must(Softmax(xn, k)), wn))))
	grads, err := G.Grad(c, xn)
	if err != nil {
		t.Fatal(err)
	}
	m := newMachine(t, g, grads[0])
	m.mustRun(t, map[*G.Node]G.Value{xn: valueOf(tensor.Float64, shape, x), wn: valueOf(tensor.Float64, shape, w)})
	got := m.floats(t, grads[0])
	for i := range x {
		xp, xm := append([]float64(nil), x...), append([]float64(nil), x...)
		xp[i] += 1e-6
		xm[i] -= 1e-6
		if fd := (cost(xp) - cost(xm)) / 2e-6; math.Abs(got[i]-fd) > 1e-8 {
			t.Errorf("∂C/∂x[%d] = %v, finite difference %v", i, got[i], fd)
		}
	}
	// Second derivative: refused.
	g2 := G.NewGraph()
	x2 := newInput(g2, tensor.Float64, shape, "x")
	w2 := newInput(g2, tensor.Float64, shape, "w")
	c2 := G.Must(G.Sum(G.Must(G.HadamardProd(G.Must(Softmax(x2, k)), w2))))
	d, err := G.Grad(c2, x2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(G.Must(G.Sum(G.Must(G.HadamardProd(d[0], w2)))), x2); err == nil || !strings.Contains(err.Error(), "second derivatives") {
		t.Errorf("second derivative through Softmax: %v, want an error", err)
	}
}

func TestSoftmaxOpErrors(t *testing.T) {
	g := G.NewGraph()
	m := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 6), G.WithName("m"))
	ints := G.NewMatrix(g, tensor.Int, G.WithShape(2, 6), G.WithName("ints"))
	scalar := G.NewScalar(g, tensor.Float64, G.WithName("s"))
	for _, c := range []struct {
		x *G.Node
		k int
	}{{nil, 2}, {ints, 2}, {m, 0}, {m, 4}, {scalar, 1}} {
		if n, err := Softmax(c.x, c.k); err == nil || n != nil {
			t.Errorf("Softmax(%v, %d) = %v, %v; want an error", c.x, c.k, n, err)
		}
	}
	if _, err := (softmaxOp{k: 4}).Do(tensor.New(tensor.WithShape(1, 6), tensor.Of(tensor.Float64))); !errors.Is(err, ErrShape) {
		t.Errorf("(1, 6) value with k = 4: %v", err)
	}
	if _, err := (softmaxGradOp{k: 2}).Do(tensor.New(tensor.WithShape(2), tensor.Of(tensor.Float64)), tensor.New(tensor.WithShape(2), tensor.Of(tensor.Float32))); !errors.Is(err, ErrShape) {
		t.Errorf("softmax gradient with mixed dtypes: %v", err)
	}
}
