package finetune_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/finetune"
	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
	"github.com/ebm-go/ebm/pretrain"
)

func values(t *tensor.Dense) []float64 {
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

func dense(dt tensor.Dtype, v []float64, shape ...int) *tensor.Dense {
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

func same(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// randomDBN returns a DBN with weights N(0, scale²) and biases N(0, 1), so that every unit of the
// up-pass is far from 0.5 and from saturation.
func randomDBN(t *testing.T, sizes []int, dt tensor.Dtype, scale float64, seed uint64) *models.DBN {
	t.Helper()
	d, err := models.NewDBN(sizes, dt, rand.NewPCG(seed, 1))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 2))
	for _, m := range d.Layers {
		for _, p := range []struct {
			x *tensor.Dense
			s float64
		}{{m.W, scale}, {m.B, 1}, {m.C, 1}} {
			v := make([]float64, p.x.Shape().TotalSize())
			for i := range v {
				v[i] = p.s * r.NormFloat64()
			}
			copy(values(p.x), v)
			switch d := p.x.Data().(type) {
			case []float64:
				copy(d, v)
			case []float32:
				for i := range d {
					d[i] = float32(v[i])
				}
			}
		}
	}
	return d
}

// randomData returns (n, cols) values uniform in [0,1] and labels in [0, k).
func randomData(n, cols, k int, dt tensor.Dtype, seed uint64) (*tensor.Dense, []int) {
	r := rand.New(rand.NewPCG(seed, 3))
	v := make([]float64, n*cols)
	for i := range v {
		v[i] = r.Float64()
	}
	y := make([]int, n)
	for i := range y {
		y[i] = r.IntN(k)
	}
	return dense(dt, v, n, cols), y
}

func params(n *finetune.Network) [][]float64 {
	var out [][]float64
	for _, l := range append(append([]finetune.Layer(nil), n.Hidden...), n.Output) {
		out = append(out, values(l.W), values(l.C))
	}
	return out
}

func dbnParams(d *models.DBN) [][]float64 {
	var out [][]float64
	for _, m := range d.Layers {
		out = append(out, values(m.W), values(m.B), values(m.C))
	}
	return out
}

// TestForwardEqualsUpPass: before fine-tuning, the unrolled network's top hidden layer equals the
// DBN's up-pass bit for bit (1,100 rows: a full inference chunk and a remainder), in both dtypes.
func TestForwardEqualsUpPass(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		d := randomDBN(t, []int{20, 15, 12, 9}, dt, 0.5, 1)
		x, _ := randomData(1100, 20, 3, dt, 2)
		net, err := finetune.FromDBN(d, 4, rand.NewPCG(3, 3))
		if err != nil {
			t.Fatal(err)
		}
		want, err := d.Features(x)
		if err != nil {
			t.Fatal(err)
		}
		got, err := net.Features(x)
		if err != nil {
			t.Fatal(err)
		}
		if !same(values(got), values(want)) {
			t.Errorf("%v: network forward pass differs from the DBN up-pass", dt)
		}
		if !got.Dtype().Eq(dt) || got.Shape()[0] != 1100 || got.Shape()[1] != 9 {
			t.Errorf("%v: features %v %v", dt, got.Dtype(), got.Shape())
		}
		// Not vacuous: the features are far from constant.
		v := values(got)
		if v[0] == v[1] || v[0] == v[9] {
			t.Errorf("%v: degenerate features %v", dt, v[:10])
		}
	}
}

// refCost is the training cost computed directly in float64: mean over rows of
// -log softmax(d + h_L V)_y plus (λ/2) Σ ||W||².
func refCost(n *finetune.Network, x []float64, y []int, lambda float64) float64 {
	return refCostDropout(n, x, y, lambda, nil)
}

// refCostDropout is refCost with dropout masks: masks[l] (rows × width of layer l's input,
// row-major; nil = none) multiplies the input of layer l (l = 0: x; l = L: the output layer's).
func refCostDropout(n *finetune.Network, x []float64, y []int, lambda float64, masks [][]float64) float64 {
	rows := len(y)
	cols := n.NumInputs()
	total := 0.0
	drop := func(l, r int, h []float64) []float64 {
		if l >= len(masks) || masks[l] == nil {
			return h
		}
		out := make([]float64, len(h))
		for i := range h {
			out[i] = h[i] * masks[l][r*len(h)+i]
		}
		return out
	}
	for r := 0; r < rows; r++ {
		h := x[r*cols : (r+1)*cols]
		for l, ly := range n.Hidden {
			h = affine(drop(l, r, h), values(ly.W), values(ly.C))
			for i := range h {
				h[i] = 1 / (1 + math.Exp(-h[i]))
			}
		}
		a := affine(drop(len(n.Hidden), r, h), values(n.Output.W), values(n.Output.C))
		m := math.Inf(-1)
		for _, v := range a {
			m = math.Max(m, v)
		}
		s := 0.0
		for _, v := range a {
			s += math.Exp(v - m)
		}
		total += m + math.Log(s) - a[y[r]]
	}
	cost := total / float64(rows)
	for _, l := range append(append([]finetune.Layer(nil), n.Hidden...), n.Output) {
		for _, w := range values(l.W) {
			cost += lambda / 2 * w * w
		}
	}
	return cost
}

func affine(h, w, c []float64) []float64 {
	out := append([]float64(nil), c...)
	for i, hv := range h {
		for j := range out {
			out[j] += hv * w[i*len(c)+j]
		}
	}
	return out
}

// TestGradientMatchesFiniteDifferences checks that one SGD step moves every parameter by exactly
// -ε·∇cost, with ∇ the central finite-difference gradient of the cost (cross-entropy plus weight
// decay) computed independently in float64: the gradient reaches the bottom layer.
func TestGradientMatchesFiniteDifferences(t *testing.T) {
	d := randomDBN(t, []int{4, 3, 3}, tensor.Float64, 1, 4)
	x, y := randomData(6, 4, 3, tensor.Float64, 5)
	net, err := finetune.FromDBN(d, 3, rand.NewPCG(6, 6))
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range values(net.Output.W) { // larger output weights than the default
		net.Output.W.Data().([]float64)[i] = v * 100
	}
	const lambda, eps = 0.03, 0.01
	before := net.Clone()
	xs := values(x)
	if _, err := finetune.Train(context.Background(), net, x, y, finetune.Settings{
		Epochs: 1, BatchSize: 6, LearningRate: optim.Constant(eps), WeightDecay: lambda,
		ValidationRows: -1, Shuffle: rand.NewPCG(7, 7),
	}); err != nil {
		t.Fatal(err)
	}
	probe := before.Clone()
	tensors := func(n *finetune.Network) []*tensor.Dense {
		var ts []*tensor.Dense
		for _, l := range append(append([]finetune.Layer(nil), n.Hidden...), n.Output) {
			ts = append(ts, l.W, l.C)
		}
		return ts
	}
	names := []string{"W1", "c1", "W2", "c2", "V", "d"}
	after, orig := tensors(net), tensors(before)
	for p, pt := range tensors(probe) {
		pv := pt.Data().([]float64)
		moved := false
		for i := range pv {
			keep := pv[i]
			const h = 1e-6
			pv[i] = keep + h
			up := refCost(probe, xs, y, lambda)
			pv[i] = keep - h
			down := refCost(probe, xs, y, lambda)
			pv[i] = keep
			fd := (up - down) / (2 * h)
			step := (orig[p].Data().([]float64)[i] - after[p].Data().([]float64)[i]) / eps
			if math.Abs(step-fd) > 1e-6*math.Max(1, math.Abs(fd)) {
				t.Errorf("%s[%d]: step/ε = %.10g, finite difference %.10g", names[p], i, step, fd)
			}
			moved = moved || step != 0
		}
		if !moved {
			t.Errorf("%s did not move", names[p])
		}
	}
}

// TestDropoutGradient checks one SGD step with dropout (input 0.25, hidden 0.5) against central
// finite differences of the cost with the same masks, rebuilt independently from the documented
// draw order (one uniform per entry, input mask first, then each hidden layer's, row-major; an
// entry is dropped when its uniform is < p, kept ones are 1/(1-p)): the gradient flows through
// the kept units only, and the weights out of a unit dropped in every row do not move.
func TestDropoutGradient(t *testing.T) {
	d := randomDBN(t, []int{4, 5, 5}, tensor.Float64, 1, 4)
	x, y := randomData(3, 4, 3, tensor.Float64, 5)
	net, err := finetune.FromDBN(d, 3, rand.NewPCG(6, 6))
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range values(net.Output.W) {
		net.Output.W.Data().([]float64)[i] = v * 100
	}
	const eps, pIn, pHid = 0.01, 0.25, 0.5
	before := net.Clone()
	if _, err := finetune.Train(context.Background(), net, x, y, finetune.Settings{
		Epochs: 1, BatchSize: 3, LearningRate: optim.Constant(eps), ValidationRows: -1,
		Shuffle: rand.NewPCG(7, 7), Dropout: finetune.Dropout{Input: pIn, Hidden: pHid, Source: rand.NewPCG(8, 8)},
	}); err != nil {
		t.Fatal(err)
	}
	// The minibatch is the 3 rows in the shuffled order; rebuild it and the masks.
	perm := rand.New(rand.NewPCG(7, 7)).Perm(3)
	xs, ys := make([]float64, 0, 12), make([]int, 0, 3)
	for _, r := range perm {
		xs, ys = append(xs, values(x)[r*4:(r+1)*4]...), append(ys, y[r])
	}
	u := rand.New(rand.NewPCG(8, 8))
	var masks [][]float64
	dropped := 0
	for l, w := range []int{4, 5, 5} {
		p := pHid
		if l == 0 {
			p = pIn
		}
		m := make([]float64, 3*w)
		for i := range m {
			if u.Float64() >= p {
				m[i] = 1 / (1 - p)
			} else {
				dropped++
			}
		}
		masks = append(masks, m)
	}
	if dropped == 0 {
		t.Fatal("no unit dropped: pick another seed")
	}
	tensors := func(n *finetune.Network) []*tensor.Dense {
		var ts []*tensor.Dense
		for _, l := range append(append([]finetune.Layer(nil), n.Hidden...), n.Output) {
			ts = append(ts, l.W, l.C)
		}
		return ts
	}
	names := []string{"W1", "c1", "W2", "c2", "V", "d"}
	probe := before.Clone()
	after, orig := tensors(net), tensors(before)
	frozen := 0
	for p, pt := range tensors(probe) {
		pv := pt.Data().([]float64)
		for i := range pv {
			keep := pv[i]
			const h = 1e-6
			pv[i] = keep + h
			up := refCostDropout(probe, xs, ys, 0, masks)
			pv[i] = keep - h
			down := refCostDropout(probe, xs, ys, 0, masks)
			pv[i] = keep
			fd := (up - down) / (2 * h)
			step := (orig[p].Data().([]float64)[i] - after[p].Data().([]float64)[i]) / eps
			if math.Abs(step-fd) > 1e-6*math.Max(1, math.Abs(fd)) {
				t.Errorf("%s[%d]: step/ε = %.10g, finite difference with the masks %.10g", names[p], i, step, fd)
			}
			if fd == 0 && step == 0 {
				frozen++
			}
		}
	}
	if frozen == 0 {
		t.Error("no weight was frozen by a unit dropped in every row; the test does not exercise the masks")
	}
	// Evaluation ignores dropout: the network's logits are the plain forward pass.
	if _, err := net.Evaluate(x, y); err != nil {
		t.Fatal(err)
	}
}

// TestDropoutSettings: bad probabilities and a missing mask source are refused; the same seeds
// give bit-identical runs and another dropout seed a different one.
func TestDropoutSettings(t *testing.T) {
	d := randomDBN(t, []int{10, 8, 6}, tensor.Float32, 0.5, 14)
	x, y := randomData(100, 10, 3, tensor.Float32, 15)
	for _, c := range []struct {
		drop finetune.Dropout
		want string
	}{
		{finetune.Dropout{Input: 1, Source: rand.NewPCG(1, 1)}, "Dropout.Input = 1"},
		{finetune.Dropout{Hidden: -0.1, Source: rand.NewPCG(1, 1)}, "Dropout.Hidden = -0.1"},
		{finetune.Dropout{Hidden: math.NaN(), Source: rand.NewPCG(1, 1)}, "Dropout.Hidden = NaN"},
		{finetune.Dropout{Hidden: 0.5}, "Dropout.Source"},
	} {
		net, _ := finetune.FromDBN(d, 3, rand.NewPCG(1, 1))
		_, err := finetune.Train(context.Background(), net, x, y, finetune.Settings{Epochs: 1, Shuffle: rand.NewPCG(1, 2), Dropout: c.drop})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one containing %q", c.drop, err, c.want)
		}
	}
	run := func(seed uint64) [][]float64 {
		net, _ := finetune.FromDBN(d, 3, rand.NewPCG(1, 1))
		if _, err := finetune.Train(context.Background(), net, x, y, finetune.Settings{
			Epochs: 2, BatchSize: 10, LearningRate: optim.Constant(0.3), Momentum: optim.Constant(0.9), Shuffle: rand.NewPCG(1, 2),
			Dropout: finetune.Dropout{Input: 0.2, Hidden: 0.5, Source: rand.NewPCG(seed, 3)},
		}); err != nil {
			t.Fatal(err)
		}
		return params(net)
	}
	a, b, c := run(1), run(1), run(2)
	for i := range a {
		if !same(a[i], b[i]) {
			t.Errorf("parameter %d differs between identical dropout runs", i)
		}
	}
	if same(a[0], c[0]) {
		t.Error("another dropout seed gave the same bottom weights")
	}
}

// TestLearningRateZero: fine-tuning with learning rate 0 (momentum and weight decay on, several
// epochs) changes no parameter, and the network still reproduces the DBN's up-pass.
func TestLearningRateZero(t *testing.T) {
	d := randomDBN(t, []int{10, 8, 6}, tensor.Float32, 0.5, 7)
	x, y := randomData(120, 10, 3, tensor.Float32, 8)
	net, err := finetune.FromDBN(d, 3, rand.NewPCG(9, 9))
	if err != nil {
		t.Fatal(err)
	}
	before := params(net)
	res, err := finetune.Train(context.Background(), net, x, y, finetune.Settings{
		Epochs: 3, BatchSize: 10, LearningRate: optim.Constant(0), Momentum: optim.Constant(0.9),
		WeightDecay: 1e-3, Shuffle: rand.NewPCG(1, 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range params(net) {
		if !same(p, before[i]) {
			t.Errorf("parameter %d changed with learning rate 0", i)
		}
	}
	if len(res.Epochs) != 3 || res.TrainRows != 100 || res.ValidationRows != 20 {
		t.Errorf("result %+v", res)
	}
	f1, _ := d.Features(x)
	f2, _ := net.Features(x)
	if !same(values(f1), values(f2)) {
		t.Error("after learning rate 0 the network no longer reproduces the up-pass")
	}
}

// TestDBNUntouched: fine-tuning with a positive learning rate changes every layer of the network
// (the bottom one included) but none of the DBN's tensors.
func TestDBNUntouched(t *testing.T) {
	d := randomDBN(t, []int{10, 8, 6}, tensor.Float64, 0.5, 10)
	orig := dbnParams(d)
	x, y := randomData(100, 10, 3, tensor.Float64, 11)
	net, err := finetune.FromDBN(d, 3, rand.NewPCG(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := finetune.Train(context.Background(), net, x, y, finetune.Settings{
		Epochs: 2, BatchSize: 10, LearningRate: optim.Constant(0.5), Momentum: optim.Constant(0.5),
		WeightDecay: 1e-3, Shuffle: rand.NewPCG(2, 2),
	}); err != nil {
		t.Fatal(err)
	}
	for i, p := range dbnParams(d) {
		if !same(p, orig[i]) {
			t.Errorf("DBN tensor %d changed by fine-tuning", i)
		}
	}
	for l, ly := range net.Hidden {
		if same(values(ly.W), orig[3*l]) || same(values(ly.C), orig[3*l+2]) {
			t.Errorf("hidden layer %d did not change", l)
		}
	}
}

// TestStableCrossEntropy: logits of ±1000 give a finite, exact cost (log-softmax, not
// log(softmax)), in the training graph and in Evaluate, in both dtypes.
func TestStableCrossEntropy(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		// One hidden unit saturated at 1 (c = 50), output weights ±1000: logits [1000, -1000, 0].
		net := &finetune.Network{
			Hidden: []finetune.Layer{{W: dense(dt, []float64{0, 0}, 2, 1), C: dense(dt, []float64{50}, 1)}},
			Output: finetune.Layer{W: dense(dt, []float64{1000, -1000, 0}, 1, 3), C: dense(dt, []float64{0, 0, 0}, 3)},
		}
		x := dense(dt, []float64{0, 1, 1, 0, 1, 1}, 3, 2)
		y := []int{0, 1, 2} // -log p: 0, 2000, 1000
		ev, err := net.Evaluate(x, y)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(ev.CrossEntropy-1000) > 1e-9 || math.Abs(ev.Error-2.0/3) > 1e-12 || ev.Rows != 3 {
			t.Errorf("%v: evaluation %+v; want cross-entropy 1000, error 2/3", dt, ev)
		}
		var costs []float64
		_, err = finetune.Train(context.Background(), net, x, y, finetune.Settings{
			Epochs: 1, BatchSize: 3, LearningRate: optim.Constant(0), ValidationRows: -1, Shuffle: rand.NewPCG(1, 1),
			OnEpoch: func(r finetune.EpochRecord) error {
				costs = append(costs, r.Cost, r.CrossEntropy, r.TrainError)
				return nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(costs[0]-1000) > 1e-3 || math.Abs(costs[1]-1000) > 1e-3 || math.Abs(costs[2]-2.0/3) > 1e-12 {
			t.Errorf("%v: training cost %v, cross-entropy %v, error %v; want 1000, 1000, 2/3", dt, costs[0], costs[1], costs[2])
		}
		p, err := net.Probabilities(x)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []float64{1, 0, 0} {
			if math.Abs(p[i]-want) > 1e-12 {
				t.Errorf("%v: p[%d] = %v", dt, i, p[i])
			}
		}
	}
}

// TestToyStackEndToEnd pretrains a 3-visible DBN [3, 8, 8] on all eight binary patterns and
// fine-tunes it to classify them by their number of ones (four classes): zero error on every
// pattern.
func TestToyStackEndToEnd(t *testing.T) {
	var v []float64
	var y []int
	for rep := 0; rep < 8; rep++ {
		for s := 0; s < 8; s++ {
			v = append(v, float64(s>>2&1), float64(s>>1&1), float64(s&1))
			y = append(y, s>>2&1+s>>1&1+s&1)
		}
	}
	x := dense(tensor.Float64, v, 64, 3)
	d, err := models.NewDBN([]int{3, 8, 8}, tensor.Float64, rand.NewPCG(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	layer := func(seed uint64) pretrain.Layer {
		return pretrain.Layer{Settings: optim.Settings{Epochs: 20, BatchSize: 8, LearningRate: optim.Constant(0.1),
			Shuffle: rand.NewPCG(seed, 1), Chains: rand.NewPCG(seed, 2), MonitorRows: -1}}
	}
	if _, err := pretrain.Train(context.Background(), d, x, pretrain.Settings{Layers: []pretrain.Layer{layer(2), layer(3)}}); err != nil {
		t.Fatal(err)
	}
	net, err := finetune.FromDBN(d, 4, rand.NewPCG(4, 4))
	if err != nil {
		t.Fatal(err)
	}
	first, err := net.Evaluate(x, y)
	if err != nil {
		t.Fatal(err)
	}
	res, err := finetune.Train(context.Background(), net, x, y, finetune.Settings{
		Epochs: 200, BatchSize: 8, LearningRate: optim.Constant(0.5), Momentum: optim.Constant(0.9),
		Validation: x, ValidationLabels: y, Shuffle: rand.NewPCG(5, 5),
	})
	if err != nil {
		t.Fatal(err)
	}
	last, err := net.Evaluate(x, y)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("count of ones: error %.3f → %.3f, cross-entropy %.3f → %.3f after %d epochs (best %d)", first.Error, last.Error, first.CrossEntropy, last.CrossEntropy, len(res.Epochs), res.BestEpoch)
	if last.Error != 0 || !(last.CrossEntropy < 0.1) {
		t.Errorf("count of ones not learnt: error %v, cross-entropy %v", last.Error, last.CrossEntropy)
	}
	if *res.Validation != last {
		t.Errorf("result's validation %+v differs from a fresh evaluation %+v", *res.Validation, last)
	}
	pred, err := net.Predict(dense(tensor.Float64, []float64{1, 1, 1, 0, 1, 1}, 2, 3))
	if err != nil {
		t.Fatal(err)
	}
	if pred[0] != 3 || pred[1] != 2 {
		t.Errorf("predictions %v for 111, 011; want [3 2]", pred)
	}
}

// TestEarlyStopping checks the default validation split (the last ⌊N/6⌋ rows), that the network
// ends with its best epoch's parameters, and Patience.
func TestEarlyStopping(t *testing.T) {
	d := randomDBN(t, []int{10, 8}, tensor.Float64, 0.5, 12)
	x, y := randomData(60, 10, 2, tensor.Float64, 13)
	net, _ := finetune.FromDBN(d, 2, rand.NewPCG(1, 1))
	var snaps [][][]float64
	res, err := finetune.Train(context.Background(), net, x, y, finetune.Settings{
		Epochs: 8, BatchSize: 5, LearningRate: optim.Constant(2), Shuffle: rand.NewPCG(2, 2),
		OnEpoch: func(finetune.EpochRecord) error { snaps = append(snaps, params(net)); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.TrainRows != 50 || res.ValidationRows != 10 {
		t.Fatalf("split %d/%d; want 50/10", res.TrainRows, res.ValidationRows)
	}
	bestErr, bestCE, best := 2.0, 0.0, 0
	for i, r := range res.Epochs {
		v := r.Validation
		if v.Error < bestErr || (v.Error == bestErr && v.CrossEntropy < bestCE) {
			bestErr, bestCE, best = v.Error, v.CrossEntropy, i+1
		}
		if r.Best != (best == i+1) {
			t.Errorf("epoch %d: Best = %v", i+1, r.Best)
		}
	}
	if res.BestEpoch != best {
		t.Errorf("best epoch %d; want %d", res.BestEpoch, best)
	}
	for i, p := range params(net) {
		if !same(p, snaps[best-1][i]) {
			t.Errorf("parameter %d is not that of the best epoch %d", i, best)
		}
	}
	ev, _ := net.Evaluate(tensor.New(tensor.WithShape(10, 10), tensor.WithBacking(values(x)[500:])), y[50:])
	if ev != *res.Validation {
		t.Errorf("validation of the final network %+v; result says %+v", ev, *res.Validation)
	}

	// With learning rate 0 nothing improves after epoch 1: Patience 2 stops after epoch 3.
	res, err = finetune.Train(context.Background(), net, x, y, finetune.Settings{
		Epochs: 10, BatchSize: 5, LearningRate: optim.Constant(0), Patience: 2, Shuffle: rand.NewPCG(2, 2),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.StoppedEarly || len(res.Epochs) != 3 || res.BestEpoch != 1 {
		t.Errorf("patience: stopped early %v after %d epochs, best %d; want true, 3, 1", res.StoppedEarly, len(res.Epochs), res.BestEpoch)
	}
}

// TestReproducible: the same seeds give bit-identical networks; another shuffle seed does not.
func TestReproducible(t *testing.T) {
	run := func(seed uint64) [][]float64 {
		d := randomDBN(t, []int{10, 8, 6}, tensor.Float32, 0.5, 14)
		x, y := randomData(100, 10, 3, tensor.Float32, 15)
		net, _ := finetune.FromDBN(d, 3, rand.NewPCG(1, 1))
		if _, err := finetune.Train(context.Background(), net, x, y, finetune.Settings{
			Epochs: 2, BatchSize: 10, LearningRate: optim.Constant(0.3), Momentum: optim.Constant(0.9), Shuffle: rand.NewPCG(seed, 2),
		}); err != nil {
			t.Fatal(err)
		}
		return params(net)
	}
	a, b, c := run(1), run(1), run(2)
	for i := range a {
		if !same(a[i], b[i]) {
			t.Errorf("parameter %d differs between identical runs", i)
		}
	}
	if same(a[0], c[0]) {
		t.Error("another shuffle seed gave the same bottom weights")
	}
}

// TestAdamStep checks the Adam solver against its formula: the first step moves each parameter by
// -η·g/(|g| + ε), with g the gradient measured by a plain SGD step.
func TestAdamStep(t *testing.T) {
	d := randomDBN(t, []int{5, 4}, tensor.Float64, 1, 16)
	x, y := randomData(8, 5, 3, tensor.Float64, 17)
	settings := func(s finetune.Solver, lr float64) finetune.Settings {
		return finetune.Settings{Epochs: 1, BatchSize: 8, LearningRate: optim.Constant(lr), Solver: s, ValidationRows: -1, Shuffle: rand.NewPCG(1, 1)}
	}
	sgd, _ := finetune.FromDBN(d, 3, rand.NewPCG(2, 2))
	adam := sgd.Clone()
	orig := params(sgd)
	if _, err := finetune.Train(context.Background(), sgd, x, y, settings(finetune.SGD{}, 1)); err != nil {
		t.Fatal(err)
	}
	const eta = 0.01
	if _, err := finetune.Train(context.Background(), adam, x, y, settings(finetune.Adam{}, eta)); err != nil {
		t.Fatal(err)
	}
	gs, as := params(sgd), params(adam)
	for p := range orig {
		for i := range orig[p] {
			g := orig[p][i] - gs[p][i]
			want := orig[p][i] - eta*g/(math.Abs(g)+1e-8)
			if math.Abs(as[p][i]-want) > 1e-9 {
				t.Errorf("param %d[%d]: Adam gave %v, want %v (g = %v)", p, i, as[p][i], want, g)
			}
		}
	}
}

// TestNewRandom checks the baseline initialisation: uniform within ±4√(6/(n_in+n_out)), seeded,
// zero biases, output weights N(0, 0.01²).
func TestNewRandom(t *testing.T) {
	net, err := finetune.NewRandom([]int{30, 20, 10}, 4, tensor.Float64, rand.NewPCG(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if s := net.Sizes(); len(s) != 4 || s[0] != 30 || s[1] != 20 || s[2] != 10 || s[3] != 4 {
		t.Errorf("sizes %v", s)
	}
	for l, ly := range net.Hidden {
		r := 4 * math.Sqrt(6/float64(ly.W.Shape()[0]+ly.W.Shape()[1]))
		maxAbs := 0.0
		for _, w := range values(ly.W) {
			maxAbs = math.Max(maxAbs, math.Abs(w))
		}
		if maxAbs > r || maxAbs < 0.9*r {
			t.Errorf("layer %d: max |W| %v; want close to and below %v", l, maxAbs, r)
		}
		if !same(values(ly.C), make([]float64, ly.C.Shape()[0])) {
			t.Errorf("layer %d: non-zero biases", l)
		}
	}
	sd := 0.0
	for _, w := range values(net.Output.W) {
		sd += w * w
	}
	if sd = math.Sqrt(sd / 40); sd > 0.02 || sd < 0.005 {
		t.Errorf("output weights sd %v; want ≈ 0.01", sd)
	}
	again, _ := finetune.NewRandom([]int{30, 20, 10}, 4, tensor.Float64, rand.NewPCG(1, 1))
	if !same(values(again.Hidden[1].W), values(net.Hidden[1].W)) {
		t.Error("same seed, different weights")
	}
	for _, bad := range [][]int{{30}, {30, 0}} {
		if _, err := finetune.NewRandom(bad, 4, tensor.Float64, rand.NewPCG(1, 1)); err == nil {
			t.Errorf("sizes %v: no error", bad)
		}
	}
	if _, err := finetune.NewRandom([]int{3, 2}, 1, tensor.Float64, rand.NewPCG(1, 1)); err == nil {
		t.Error("one class: no error")
	}
}

// TestB15Finetune: a [2,1,1] stack (hidden layers of width 1) fine-tunes with 1-row minibatches,
// and bad inputs give clear errors, never panics.
func TestB15Finetune(t *testing.T) {
	d, _ := models.NewDBN([]int{2, 1, 1}, tensor.Float64, rand.NewPCG(1, 1))
	net, err := finetune.FromDBN(d, 2, rand.NewPCG(2, 2))
	if err != nil {
		t.Fatal(err)
	}
	x := dense(tensor.Float64, []float64{1, 1, 0, 0, 1, 0, 0, 1}, 4, 2)
	y := []int{1, 0, 1, 0}
	if _, err := finetune.Train(context.Background(), net, x, y, finetune.Settings{Epochs: 2, BatchSize: 1, ValidationRows: 1, Shuffle: rand.NewPCG(1, 1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := net.Evaluate(dense(tensor.Float64, []float64{1, 1}, 1, 2), []int{1}); err != nil {
		t.Fatal(err)
	}
	ok := finetune.Settings{Epochs: 1, Shuffle: rand.NewPCG(1, 1)}
	cases := []struct {
		name string
		x    *tensor.Dense
		y    []int
		s    finetune.Settings
		want string
	}{
		{"width", dense(tensor.Float64, make([]float64, 20), 4, 5), y, ok, "model has 2 visible units, training data has 5 columns"},
		{"empty", tensor.New(tensor.WithShape(0, 2), tensor.Of(tensor.Float64)), nil, ok, "empty"},
		{"NaN", dense(tensor.Float64, []float64{0, 0, math.NaN(), 0, 0, 0, 0, 0}, 4, 2), y, ok, "row 1 column 0 is NaN"},
		{"dtype", dense(tensor.Float32, make([]float64, 8), 4, 2), y, ok, "dtype"},
		{"label range", x, []int{0, 1, 2, 0}, ok, "labels[2] = 2, outside [0, 2)"},
		{"label count", x, []int{0, 1}, ok, "2 labels for 4 rows"},
		{"epochs", x, y, finetune.Settings{Shuffle: rand.NewPCG(1, 1)}, "Epochs"},
		{"shuffle", x, y, finetune.Settings{Epochs: 1}, "Shuffle"},
		{"split", x, y, finetune.Settings{Epochs: 1, ValidationRows: 4, Shuffle: rand.NewPCG(1, 1)}, "leaves no training data"},
		{"validation labels", x, y, finetune.Settings{Epochs: 1, Validation: x, ValidationLabels: []int{0}, Shuffle: rand.NewPCG(1, 1)}, "1 validation labels for 4 rows"},
		{"decay", x, y, finetune.Settings{Epochs: 1, WeightDecay: -1, Shuffle: rand.NewPCG(1, 1)}, "WeightDecay"},
	}
	for _, tc := range cases {
		if _, err := finetune.Train(context.Background(), net, tc.x, tc.y, tc.s); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v; want one containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := finetune.FromDBN(d, 1, rand.NewPCG(1, 1)); err == nil {
		t.Error("one class: no error")
	}
	if _, err := finetune.FromDBN(nil, 2, rand.NewPCG(1, 1)); err == nil {
		t.Error("nil DBN: no error")
	}
	bad := net.Clone()
	bad.Output.W = dense(tensor.Float64, []float64{1, 2, 3}, 1, 3)
	if _, err := bad.Evaluate(x, y); err == nil || !strings.Contains(err.Error(), "output layer C must have shape (3)") {
		t.Errorf("inconsistent output layer: error %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := finetune.Train(ctx, net, x, y, ok); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: error %v", err)
	}
}
