package models

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/ops"
)

// CFRBM is the restricted Boltzmann machine for collaborative filtering of Salakhutdinov, Mnih &
// Hinton ("Restricted Boltzmann machines for collaborative filtering", ICML 2007). Every user is an
// RBM of its own whose visible units are the items (movies) that user rated, each a K-way softmax
// unit holding the rating 1..K; items the user did not rate are absent from that user's RBM (no
// imputation). All users' RBMs share the parameters:
//
//	W (items, K, nh)  W[i,k,j] couples rating k+1 of item i with hidden unit j
//	B (items, K)      visible biases: B[i,k] for rating k+1 of item i
//	C (nh)            hidden biases
//
// all Float64. With V the one-hot ratings of the items S a user rated (v_ik = 1 when item i got
// rating k+1) and binary hidden units h, the energy is
//
//	E(V,h) = -Σ_{i∈S} Σ_k B[i,k] v_ik - Σ_j C[j] h_j - Σ_{i∈S} Σ_k Σ_j W[i,k,j] v_ik h_j
//
// so that p(h_j = 1 | V) = σ(C[j] + Σ_{i∈S} W[i,r_i,j]) and p(v_i = k | h) = softmax_k(B[i,k] +
// Σ_j W[i,k,j] h_j) (the conditionals of the paper's equations 1 and 2; the paper's extra
// Σ_i log Z_i term in the energy changes neither of them), and the free energy is F(V) =
// -Σ_{i∈S} B[i,r_i] - Σ_j softplus(C[j] + Σ_{i∈S} W[i,r_i,j]).
//
// Ratings are passed as a (users, items) Float64 matrix (datasets.RatingMatrix builds one) whose
// entry (u, i) is user u's rating of item i, an integer in 1..K, or 0 where u did not rate i.
// Item indices are 0-based columns. CFLearner trains a CFRBM with optim.Fit; Predict and
// PredictExact give expected ratings. The implementation is plain Go over each user's rated
// items only, so a user costs O(ratings · K · nh) whatever the number of items.
type CFRBM struct {
	W, B, C *tensor.Dense
}

// NewCFRBM returns a CFRBM for items items rated 1..k with nh hidden units: W ~ N(0, WeightStd²)
// (0.01, as in the paper) drawn from src in row-major order, zero biases. See InitVisibleBiases.
func NewCFRBM(items, k, nh int, src rand.Source) (*CFRBM, error) {
	if items < 1 || k < 2 || nh < 1 {
		return nil, fmt.Errorf("models: CFRBM needs ≥ 1 item, ≥ 2 rating values and ≥ 1 hidden unit, got %d, %d, %d", items, k, nh)
	}
	if src == nil {
		return nil, errors.New("models: nil rand.Source for the initial weights")
	}
	rng := rand.New(src)
	w := make([]float64, items*k*nh)
	for i := range w {
		w[i] = WeightStd * rng.NormFloat64()
	}
	return &CFRBM{
		W: tensor.New(tensor.WithShape(items, k, nh), tensor.WithBacking(w)),
		B: tensor.New(tensor.WithShape(items, k), tensor.Of(tensor.Float64)),
		C: tensor.New(tensor.WithShape(nh), tensor.Of(tensor.Float64)),
	}, nil
}

// NumItems is the number of items (columns of the rating matrix).
func (m *CFRBM) NumItems() int { return m.W.Shape()[0] }

// NumRatings is K: ratings are 1..K.
func (m *CFRBM) NumRatings() int { return m.W.Shape()[1] }

// NumHidden is nh.
func (m *CFRBM) NumHidden() int { return m.W.Shape()[2] }

// Check reports whether the parameters are present, Float64, contiguous, of consistent shapes and
// finite.
func (m *CFRBM) Check() error {
	if err := m.checkShapes(); err != nil {
		return err
	}
	for _, p := range []struct {
		name string
		x    *tensor.Dense
	}{{"W", m.W}, {"B", m.B}, {"C", m.C}} {
		for i, v := range p.x.Float64s() {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("models: CFRBM %s[%d] (flat index) is %v: parameters must be finite", p.name, i, v)
			}
		}
	}
	return nil
}

// checkShapes is Check without the scan for non-finite values (cheap enough for every call).
func (m *CFRBM) checkShapes() error {
	if m == nil || m.W == nil || m.B == nil || m.C == nil {
		return errors.New("models: CFRBM needs W, B and C")
	}
	for _, p := range []struct {
		name string
		x    *tensor.Dense
	}{{"W", m.W}, {"B", m.B}, {"C", m.C}} {
		if !p.x.Dtype().Eq(tensor.Float64) {
			return fmt.Errorf("models: CFRBM %s has dtype %v; want Float64", p.name, p.x.Dtype())
		}
		if !p.x.IsNativelyAccessible() || p.x.RequiresIterator() || len(p.x.Float64s()) != p.x.Shape().TotalSize() {
			return fmt.Errorf("models: CFRBM %s must be a contiguous tensor (not a view)", p.name)
		}
	}
	ws, bs, cs := m.W.Shape(), m.B.Shape(), m.C.Shape()
	if ws.Dims() != 3 || ws[0] < 1 || ws[1] < 2 || ws[2] < 1 {
		return fmt.Errorf("models: CFRBM W must be (items, K, nh) with K ≥ 2, has shape %v", ws)
	}
	if bs.Dims() != 2 || bs[0] != ws[0] || bs[1] != ws[1] {
		return fmt.Errorf("models: CFRBM B must be (%d, %d), has shape %v", ws[0], ws[1], bs)
	}
	if cs.Dims() != 1 || cs[0] != ws[2] {
		return fmt.Errorf("models: CFRBM C must be (%d), has shape %v", ws[2], cs)
	}
	return nil
}

// CheckRatings verifies that x is a non-empty (users, items) Float64 matrix whose entries are 0
// (not rated) or integer ratings 1..K. The error names the first bad row, column and value.
func (m *CFRBM) CheckRatings(x *tensor.Dense) error {
	if err := m.checkShapes(); err != nil {
		return err
	}
	if err := datasets.CheckMatrix("ratings", x, m.NumItems(), tensor.Float64); err != nil {
		return errors.Wrap(err, "models")
	}
	k, items := float64(m.NumRatings()), m.NumItems()
	for n, v := range x.Float64s() {
		if v != 0 && !(v >= 1 && v <= k && v == math.Trunc(v)) {
			return fmt.Errorf("models: ratings row %d column %d is %v: want 0 (not rated) or an integer rating in 1..%v",
				n/items, n%items, v, k)
		}
	}
	return nil
}

// InitVisibleBiases sets B[i,k] to the log of the smoothed frequency of rating k+1 among item i's
// ratings in x, (n_ik + g_k) / (n_i + 1), where g_k is rating k+1's frequency over all of x: the
// softmax analogue of log(p/(1-p)) (Hinton 2010, §8), with one pseudo-rating drawn from the
// overall distribution so that unrated items and unseen rating values get finite biases. Errors as
// CheckRatings, or if x holds no rating at all.
func (m *CFRBM) InitVisibleBiases(x *tensor.Dense) error {
	if err := m.CheckRatings(x); err != nil {
		return err
	}
	items, k := m.NumItems(), m.NumRatings()
	counts := make([]float64, items*k)
	global := make([]float64, k)
	total := 0.0
	for n, v := range x.Float64s() {
		if v != 0 {
			counts[(n%items)*k+int(v)-1]++
			global[int(v)-1]++
			total++
		}
	}
	if total == 0 {
		return errors.New("models: InitVisibleBiases: the rating matrix holds no rating")
	}
	b := m.B.Float64s()
	for i := range items {
		ni := 0.0
		for r := range k {
			ni += counts[i*k+r]
		}
		for r := range k {
			b[i*k+r] = math.Log((counts[i*k+r] + global[r]/total) / (ni + 1))
		}
	}
	return nil
}

// userRatings appends to items and ratings (0-based rating index) the rated items of row, and
// returns an error naming the column of a value that is not 0 or an integer 1..k.
func userRatings(row []float64, k int, items []int32, ratings []int8) ([]int32, []int8, error) {
	for i, v := range row {
		if v == 0 {
			continue
		}
		if !(v >= 1 && v <= float64(k) && v == math.Trunc(v)) {
			return items, ratings, fmt.Errorf("column %d is %v: want 0 (not rated) or an integer rating in 1..%d", i, v, k)
		}
		items = append(items, int32(i))
		ratings = append(ratings, int8(v-1))
	}
	return items, ratings, nil
}

// hiddenInput sets a = C + Σ_n W[items[n], ratings[n], :].
func (m *CFRBM) hiddenInput(a []float64, items []int32, ratings []int8) {
	k, nh := m.NumRatings(), m.NumHidden()
	w := m.W.Float64s()
	copy(a, m.C.Float64s())
	for n, i := range items {
		row := w[(int(i)*k+int(ratings[n]))*nh:][:nh]
		for j, x := range row {
			a[j] += x
		}
	}
}

// visibleLogits sets out[k] = B[item,k] + Σ_j W[item,k,j] h[j] for k = 0..K-1.
func (m *CFRBM) visibleLogits(out []float64, item int, h []float64) {
	k, nh := m.NumRatings(), m.NumHidden()
	w, b := m.W.Float64s(), m.B.Float64s()
	for r := range k {
		row := w[(item*k+r)*nh:][:nh]
		s := b[item*k+r]
		for j, x := range row {
			s += x * h[j]
		}
		out[r] = s
	}
}

// checkRatingMatrix checks x's shape and dtype (entries are checked as they are read).
func (m *CFRBM) checkRatingMatrix(x *tensor.Dense) error {
	if err := m.checkShapes(); err != nil {
		return err
	}
	if err := datasets.CheckMatrix("ratings", x, m.NumItems(), tensor.Float64); err != nil {
		return errors.Wrap(err, "models")
	}
	return nil
}

// HiddenProbs returns p(h_j = 1 | V_u) = σ(C[j] + Σ_{i rated by u} W[i, r_ui, j]) for every user
// (row) u of x, a (users, nh) Float64 matrix: the features of each user. Errors as CheckRatings.
func (m *CFRBM) HiddenProbs(x *tensor.Dense) (*tensor.Dense, error) {
	if err := m.checkRatingMatrix(x); err != nil {
		return nil, err
	}
	users, items, nh := x.Shape()[0], m.NumItems(), m.NumHidden()
	out := make([]float64, users*nh)
	var its []int32
	var rs []int8
	var err error
	for u := range users {
		if its, rs, err = userRatings(x.Float64s()[u*items:(u+1)*items], m.NumRatings(), its[:0], rs[:0]); err != nil {
			return nil, fmt.Errorf("models: ratings row %d %v", u, err)
		}
		a := out[u*nh : (u+1)*nh]
		m.hiddenInput(a, its, rs)
		for j, v := range a {
			a[j] = ops.Sigmoid64(v)
		}
	}
	return tensor.New(tensor.WithShape(users, nh), tensor.WithBacking(out)), nil
}

// FreeEnergy returns F(V_u) = -Σ_{i rated by u} B[i, r_ui] - Σ_j softplus(C[j] + Σ_i W[i, r_ui, j])
// for every user (row) u of x, in nats: the free energy of user u's RBM at its ratings. Errors as
// CheckRatings.
func (m *CFRBM) FreeEnergy(x *tensor.Dense) ([]float64, error) {
	if err := m.checkRatingMatrix(x); err != nil {
		return nil, err
	}
	users, items, k, nh := x.Shape()[0], m.NumItems(), m.NumRatings(), m.NumHidden()
	b := m.B.Float64s()
	out := make([]float64, users)
	a := make([]float64, nh)
	var its []int32
	var rs []int8
	var err error
	for u := range users {
		if its, rs, err = userRatings(x.Float64s()[u*items:(u+1)*items], k, its[:0], rs[:0]); err != nil {
			return nil, fmt.Errorf("models: ratings row %d %v", u, err)
		}
		m.hiddenInput(a, its, rs)
		f := 0.0
		for n, i := range its {
			f -= b[int(i)*k+int(rs[n])]
		}
		for _, v := range a {
			f -= ops.Softplus64(v)
		}
		out[u] = f
	}
	return out, nil
}

// VisibleProbs returns p(v_item = k+1 | h) = softmax_k(B[item,k] + Σ_j W[item,k,j] h_j), k =
// 0..K-1, for a hidden vector h (nh): binary states, or probabilities for a mean-field pass.
func (m *CFRBM) VisibleProbs(h []float64, item int) ([]float64, error) {
	if err := m.checkShapes(); err != nil {
		return nil, err
	}
	if len(h) != m.NumHidden() {
		return nil, fmt.Errorf("models: VisibleProbs: h has %d entries, the model %d hidden units", len(h), m.NumHidden())
	}
	if item < 0 || item >= m.NumItems() {
		return nil, fmt.Errorf("models: VisibleProbs: item %d, want 0..%d", item, m.NumItems()-1)
	}
	p := make([]float64, m.NumRatings())
	m.visibleLogits(p, item, h)
	ops.Softmax64(p, p)
	return p, nil
}

// RatingProbs returns the predicted distribution of user's rating of item, k = 0..K-1 for ratings
// 1..K, given the user's ratings in row user of x (the user's own rating of item, if x has one, is
// left out). With exact false it is the paper's one-step mean-field approximation: p̂ = p(h=1|V),
// then softmax_k(B[item,k] + Σ_j W[item,k,j] p̂_j). With exact true it is the exact predictive
// distribution of the paper's equation 9, marginalising the hidden units:
//
//	p(v_item = k+1 | V) ∝ exp(B[item,k]) Π_j (1 + exp(C[j] + Σ_{i rated} W[i,r_i,j] + W[item,k,j])).
//
// Errors: bad user or item index, or a bad entry in the user's row.
func (m *CFRBM) RatingProbs(x *tensor.Dense, user, item int, exact bool) ([]float64, error) {
	p, err := m.predict(x, []int{user}, []int{item}, exact, true)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Predict returns the expected rating Σ_k (k+1) p_k of each query (users[q], items[q]) under the
// one-step mean-field distribution of RatingProbs (one up-down pass: p(h|observed ratings), then
// the softmax over the query item's K ratings), given the users' ratings in x. The query item's own
// rating in x, if any, is left out. users and items are row and column indices of x, of equal
// length. Errors as RatingProbs.
func (m *CFRBM) Predict(x *tensor.Dense, users, items []int) ([]float64, error) {
	return m.predict(x, users, items, false, false)
}

// PredictExact is Predict with the exact predictive distribution (RatingProbs with exact true):
// about as fast, one softplus per hidden unit and rating value.
func (m *CFRBM) PredictExact(x *tensor.Dense, users, items []int) ([]float64, error) {
	return m.predict(x, users, items, true, false)
}

// predict computes, for each query, the distribution (dist true: the distributions of all queries
// concatenated) or the expected rating.
func (m *CFRBM) predict(x *tensor.Dense, users, items []int, exact, dist bool) ([]float64, error) {
	if err := m.checkRatingMatrix(x); err != nil {
		return nil, err
	}
	if len(users) != len(items) {
		return nil, fmt.Errorf("models: %d users but %d items in the queries", len(users), len(items))
	}
	nu, ni, k, nh := x.Shape()[0], m.NumItems(), m.NumRatings(), m.NumHidden()
	w := m.W.Float64s()
	xs := x.Float64s()
	var out []float64
	if dist {
		out = make([]float64, 0, len(users)*k)
	} else {
		out = make([]float64, 0, len(users))
	}
	a := map[int][]float64{} // C + Σ W over each queried user's ratings
	ai := make([]float64, nh)
	p := make([]float64, k)
	var its []int32
	var rs []int8
	var err error
	for q, u := range users {
		i := items[q]
		if u < 0 || u >= nu {
			return nil, fmt.Errorf("models: query %d: user %d, want a row of the rating matrix 0..%d", q, u, nu-1)
		}
		if i < 0 || i >= ni {
			return nil, fmt.Errorf("models: query %d: item %d, want a column 0..%d", q, i, ni-1)
		}
		au, ok := a[u]
		if !ok {
			if its, rs, err = userRatings(xs[u*ni:(u+1)*ni], k, its[:0], rs[:0]); err != nil {
				return nil, fmt.Errorf("models: ratings row %d %v", u, err)
			}
			au = make([]float64, nh)
			m.hiddenInput(au, its, rs)
			a[u] = au
		}
		copy(ai, au)
		if r := xs[u*ni+i]; r != 0 { // leave the query's own rating out
			row := w[(i*k+int(r)-1)*nh:][:nh]
			for j, v := range row {
				ai[j] -= v
			}
		}
		if exact {
			b := m.B.Float64s()
			for r := range k {
				row := w[(i*k+r)*nh:][:nh]
				s := b[i*k+r]
				for j, v := range row {
					s += ops.Softplus64(ai[j] + v)
				}
				p[r] = s
			}
		} else {
			for j, v := range ai {
				ai[j] = ops.Sigmoid64(v)
			}
			m.visibleLogits(p, i, ai)
		}
		ops.Softmax64(p, p)
		if dist {
			out = append(out, p...)
			continue
		}
		e := 0.0
		for r, pr := range p {
			e += float64(r+1) * pr
		}
		out = append(out, e)
	}
	return out, nil
}

// CFLearner estimates the contrastive-divergence gradient of a CFRBM for optim.Fit (it satisfies
// optim.GradientModel): the data are the (users, items) rating matrix, each row one user's RBM,
// and Fit's minibatches are sets of users. For each user, with S the items the user rated, CD-T
// (Hinton 2002; Salakhutdinov, Mnih & Hinton 2007, §2.2) runs T steps of block Gibbs sampling on
// S from V_0 = the user's ratings, h_{t-1} ~ p(h|V_{t-1}) then V_t ~ p(V|h_{t-1}) (softmax units
// sampled with ops.CategoricalIndex on ops.Softmax64, the kernels of ops.Categorical; hidden units
// 1 when u < p), and takes p(h|V_T). The gradient of the mean negative log-likelihood is estimated
// as
//
//	∂/∂W[i,k,j] = -(⟨v_ik p(h_j|V)⟩_data - ⟨v_ik p(h_j|V_T)⟩_T)
//	∂/∂B[i,k]   = -(⟨v_ik⟩_data - ⟨v_ik⟩_T)
//	∂/∂C[j]     = -(⟨p(h_j|V)⟩_data - ⟨p(h_j|V_T)⟩_T)
//
// averaged over the minibatch's users; items a user did not rate contribute nothing for that user.
//
// T is the number of Gibbs steps; 0 means 1. The paper starts with T = 1 and raises it as learning
// proceeds (e.g. 3, 5, 9): set T between epochs from optim.Settings.OnEpoch. On Netflix the paper
// used a learning rate of 0.01/batch-size on the gradient summed over a minibatch (0.01 on this
// mean), momentum 0.9 and weight decay 0.001 (examples/cf-movielens keeps the rate and the decay
// but uses momentum 0.5, which overfits MovieLens 100K later). optim.Fit applies its WeightDecay to
// W only: Params exposes B as a vector, and optim decays parameters of two or more dimensions.
//
// Every random number comes from the Source Fit passes (Settings.Chains): one Float64 per hidden
// unit sampled and per softmax unit sampled, users in minibatch order, so the same seeds give
// bit-identical parameters. The gradient tensors returned belong to the learner and are
// overwritten by the next call; treat them as read-only (optim.Fit's zeroing them after use is
// fine).
type CFLearner struct {
	Model *CFRBM
	T     int
	// VisibleProbabilities makes the last step of the chain use the softmax probabilities
	// P_T = p(V|h) instead of a sample V_T: the negative statistics become P_T,ik p(h_j|P_T), with
	// p(h_j|P) = σ(C[j] + Σ_i Σ_k P_ik W[i,k,j]) (Hinton 2010, §3: less sampling noise).
	VisibleProbabilities bool

	bVec        *tensor.Dense // B viewed as (items·K)
	gw, gb, gc  *tensor.Dense
	its         []int32
	rs, vs      []int8
	a, ph, p, l []float64
	pv          []float64 // (rated items, K) probabilities of the last step
	on          []int32
	touched     []bool  // items with non-zero gradient rows
	dirty       []int32 // the touched items, in order
}

// NumVisible is the number of items (0 without a model).
func (l *CFLearner) NumVisible() int {
	if l.Model == nil || l.Model.W == nil || l.Model.W.Shape().Dims() != 3 {
		return 0
	}
	return l.Model.NumItems()
}

// Dtype is Float64.
func (l *CFLearner) Dtype() tensor.Dtype { return tensor.Float64 }

// Params returns W (items, K, nh), B viewed as a vector (items·K) sharing B's memory, and C (nh).
func (l *CFLearner) Params() []*tensor.Dense {
	m := l.Model
	if m.checkShapes() != nil {
		return nil // Fit reports the model's error from CheckData first
	}
	if l.bVec == nil || &l.bVec.Float64s()[0] != &m.B.Float64s()[0] {
		l.bVec = tensor.New(tensor.WithShape(m.B.Shape().TotalSize()), tensor.WithBacking(m.B.Float64s()))
	}
	return []*tensor.Dense{m.W, l.bVec, m.C}
}

// CheckData verifies the rating matrix (CFRBM.CheckRatings).
func (l *CFLearner) CheckData(x *tensor.Dense) error {
	if l.Model == nil {
		return errors.New("models: CFLearner has no model")
	}
	return l.Model.CheckRatings(x)
}

// Gradient returns the CD-T estimates of the gradients of W, B (as a vector) and C for the users
// (rows) of batch, drawing from src.
func (l *CFLearner) Gradient(batch *tensor.Dense, src rand.Source) ([]*tensor.Dense, error) {
	m := l.Model
	if m == nil {
		return nil, errors.New("models: CFLearner has no model")
	}
	if err := m.checkRatingMatrix(batch); err != nil {
		return nil, err
	}
	if src == nil {
		return nil, errors.New("models: CFLearner: nil rand.Source")
	}
	steps := l.T
	if steps == 0 {
		steps = 1
	}
	if steps < 0 {
		return nil, fmt.Errorf("models: CFLearner: T = %d Gibbs steps; want ≥ 1 (0 means 1)", steps)
	}
	items, k, nh := m.NumItems(), m.NumRatings(), m.NumHidden()
	if l.gw == nil || !l.gw.Shape().Eq(m.W.Shape()) || !l.gc.Shape().Eq(m.C.Shape()) {
		l.gw = tensor.New(tensor.WithShape(items, k, nh), tensor.Of(tensor.Float64))
		l.gb = tensor.New(tensor.WithShape(items*k), tensor.Of(tensor.Float64))
		l.gc = tensor.New(tensor.WithShape(nh), tensor.Of(tensor.Float64))
		l.a, l.ph = make([]float64, nh), make([]float64, nh)
		l.p, l.l = make([]float64, k), make([]float64, k)
	}
	gw, gb, gc := l.gw.Float64s(), l.gb.Float64s(), l.gc.Float64s()
	// Only the rows of items rated in the previous call can be non-zero: clearing those instead of
	// all of W's gradient keeps a small minibatch's cost proportional to its ratings.
	if len(l.touched) != items {
		l.touched = make([]bool, items)
		l.dirty = l.dirty[:0]
		clear(gw)
		clear(gb)
	}
	for _, i := range l.dirty {
		clear(gw[int(i)*k*nh : (int(i)+1)*k*nh])
		clear(gb[int(i)*k : (int(i)+1)*k])
		l.touched[i] = false
	}
	l.dirty = l.dirty[:0]
	clear(gc)
	inv := 1 / float64(batch.Shape()[0])
	w, b := m.W.Float64s(), m.B.Float64s()
	rng := rand.New(src)
	users := batch.Shape()[0]
	xs := batch.Float64s()
	var err error
	for u := range users {
		if l.its, l.rs, err = userRatings(xs[u*items:(u+1)*items], k, l.its[:0], l.rs[:0]); err != nil {
			return nil, fmt.Errorf("models: batch row %d %v", u, err)
		}
		if len(l.its) == 0 {
			continue // no visible units: the data and model terms cancel exactly
		}
		// Positive phase: p(h|V) at the data.
		m.hiddenInput(l.a, l.its, l.rs)
		for j, v := range l.a {
			l.ph[j] = ops.Sigmoid64(v)
		}
		for _, i := range l.its {
			if !l.touched[i] {
				l.touched[i] = true
				l.dirty = append(l.dirty, i)
			}
		}
		l.accumulate(gw, gb, gc, l.rs, -inv)
		// Negative phase: T steps h ~ p(h|V) → V ~ p(V|h), then p(h|V_T).
		l.vs = append(l.vs[:0], l.rs...)
		if l.VisibleProbabilities {
			l.pv = append(l.pv[:0], make([]float64, len(l.its)*k)...)
		}
		for step := range steps {
			last := l.VisibleProbabilities && step == steps-1
			l.on = l.on[:0]
			for j, pj := range l.ph {
				if rng.Float64() < pj {
					l.on = append(l.on, int32(j))
				}
			}
			for n, i := range l.its {
				base := int(i) * k
				for r := range k {
					row := w[(base+r)*nh:][:nh]
					s := b[base+r]
					for _, j := range l.on {
						s += row[j]
					}
					l.l[r] = s
				}
				if last {
					ops.Softmax64(l.pv[n*k:(n+1)*k], l.l)
					continue
				}
				ops.Softmax64(l.p, l.l)
				l.vs[n] = int8(ops.CategoricalIndex(l.p, rng.Float64()))
			}
			if last {
				l.meanHiddenInput(l.a)
			} else {
				m.hiddenInput(l.a, l.its, l.vs)
			}
			for j, v := range l.a {
				l.ph[j] = ops.Sigmoid64(v)
			}
		}
		if l.VisibleProbabilities {
			l.accumulateProbs(gw, gb, gc, inv)
		} else {
			l.accumulate(gw, gb, gc, l.vs, inv)
		}
	}
	return []*tensor.Dense{l.gw, l.gb, l.gc}, nil
}

// accumulate adds scale·v_ik p(h|V) to gw, scale·v_ik to gb and scale·p(h|V) to gc for the
// user's items l.its with (0-based) ratings rs and hidden probabilities l.ph.
func (l *CFLearner) accumulate(gw, gb, gc []float64, rs []int8, scale float64) {
	k, nh := l.Model.NumRatings(), l.Model.NumHidden()
	for n, i := range l.its {
		at := int(i)*k + int(rs[n])
		gb[at] += scale
		row := gw[at*nh:][:nh]
		for j, p := range l.ph {
			row[j] += scale * p
		}
	}
	for j, p := range l.ph {
		gc[j] += scale * p
	}
}

// meanHiddenInput sets a = C + Σ_n Σ_k l.pv[n,k] W[l.its[n], k, :].
func (l *CFLearner) meanHiddenInput(a []float64) {
	m := l.Model
	k, nh := m.NumRatings(), m.NumHidden()
	w := m.W.Float64s()
	copy(a, m.C.Float64s())
	for n, i := range l.its {
		for r, p := range l.pv[n*k : (n+1)*k] {
			row := w[(int(i)*k+r)*nh:][:nh]
			for j, x := range row {
				a[j] += p * x
			}
		}
	}
}

// accumulateProbs adds the negative statistics of the mean-field last step: l.pv[n,k] p(h|P) to
// gw, l.pv[n,k] to gb and p(h|P) to gc.
func (l *CFLearner) accumulateProbs(gw, gb, gc []float64, scale float64) {
	k, nh := l.Model.NumRatings(), l.Model.NumHidden()
	for n, i := range l.its {
		for r, p := range l.pv[n*k : (n+1)*k] {
			at := int(i)*k + r
			sp := scale * p
			gb[at] += sp
			row := gw[at*nh:][:nh]
			for j, h := range l.ph {
				row[j] += sp * h
			}
		}
	}
	for j, p := range l.ph {
		gc[j] += scale * p
	}
}
