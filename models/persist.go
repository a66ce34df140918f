package models

import (
	"fmt"
	"strconv"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
)

// Save writes the RBM to path atomically (temporary file, fsync, rename: a crash mid-save leaves
// the previous file intact) in the versioned, checksummed model format (see archive.go).
func (m *RBM) Save(path string) error {
	if err := m.Check(); err != nil {
		return err
	}
	a := newArchive("RBM", m.Dtype())
	a.put("W", m.W)
	a.put("b", m.B)
	a.put("c", m.C)
	return a.write(path)
}

// LoadRBM reads an RBM written by RBM.Save. A file that is not a model file, has another format
// version, holds another kind of model, is truncated or corrupt gives an error, never a panic.
func LoadRBM(path string) (*RBM, error) {
	a, err := readArchive(path, "RBM")
	if err != nil {
		return nil, err
	}
	w, err := a.get("W")
	if err != nil || w.Shape().Dims() != 2 {
		return nil, fmt.Errorf("models: %s: bad weight matrix (%v)", path, err)
	}
	nv, nh := w.Shape()[0], w.Shape()[1]
	b, err := a.get("b", nv)
	if err != nil {
		return nil, fmt.Errorf("models: %s: %w", path, err)
	}
	c, err := a.get("c", nh)
	if err != nil {
		return nil, fmt.Errorf("models: %s: %w", path, err)
	}
	return NewRBMFromParams(w, b, c)
}

// Restore loads the RBM saved at path into m, replacing its parameters' values; the file must
// hold an RBM of m's shape and dtype, otherwise the error says what the file holds.
func (m *RBM) Restore(path string) error {
	got, err := LoadRBM(path)
	if err != nil {
		return err
	}
	if !got.Dtype().Eq(m.Dtype()) || got.NumVisible() != m.NumVisible() || got.NumHidden() != m.NumHidden() {
		return fmt.Errorf("models: %s holds a %d×%d %v RBM; this model is %d×%d %v", path,
			got.NumVisible(), got.NumHidden(), got.Dtype(), m.NumVisible(), m.NumHidden(), m.Dtype())
	}
	m.W, m.B, m.C = got.W, got.B, got.C
	return nil
}

// Save writes the Gaussian–Bernoulli RBM (σ, whether σ is learned, and the standardisation
// statistics if set) to path atomically.
func (m *GaussianRBM) Save(path string) error {
	if err := m.Check(); err != nil {
		return err
	}
	a := newArchive("GaussianRBM", m.Dtype())
	a.put("W", m.W)
	a.put("b", m.B)
	a.put("c", m.C)
	a.put("logsigma", m.LogSigma)
	a.meta["learn_sigma"] = strconv.FormatBool(m.LearnSigma)
	if m.Standardizer != nil {
		a.putFloats("standardizer.mean", m.Standardizer.Mean)
		a.putFloats("standardizer.std", m.Standardizer.Std)
	}
	return a.write(path)
}

// LoadGaussianRBM reads a model written by GaussianRBM.Save.
func LoadGaussianRBM(path string) (*GaussianRBM, error) {
	a, err := readArchive(path, "GaussianRBM")
	if err != nil {
		return nil, err
	}
	r, err := rbmFromArchive(a)
	if err != nil {
		return nil, fmt.Errorf("models: %s: %w", path, err)
	}
	ls, err := a.get("logsigma", r.NumVisible())
	if err != nil {
		return nil, fmt.Errorf("models: %s: %w", path, err)
	}
	m := &GaussianRBM{W: r.W, B: r.B, C: r.C, LogSigma: ls, LearnSigma: a.meta["learn_sigma"] == "true", name: uniqueName("grbm")}
	if mean, ok := a.tensors["standardizer.mean"]; ok {
		std, err := a.get("standardizer.std", r.NumVisible())
		if err != nil || !mean.Shape().Eq(tensor.Shape{r.NumVisible()}) {
			return nil, fmt.Errorf("models: %s: bad standardisation statistics", path)
		}
		m.Standardizer = &datasets.Standardizer{Mean: floats(mean), Std: floats(std)}
		if m.Dtype().Eq(tensor.Float64) {
			m.Standardizer.Mean = append([]float64(nil), m.Standardizer.Mean...)
			m.Standardizer.Std = append([]float64(nil), m.Standardizer.Std...)
		}
	}
	return m, m.Check()
}

func rbmFromArchive(a *archive) (*RBM, error) {
	w, err := a.get("W")
	if err != nil {
		return nil, err
	}
	if w.Shape().Dims() != 2 {
		return nil, fmt.Errorf("weight matrix has shape %v", w.Shape())
	}
	b, err := a.get("b", w.Shape()[0])
	if err != nil {
		return nil, err
	}
	c, err := a.get("c", w.Shape()[1])
	if err != nil {
		return nil, err
	}
	return NewRBMFromParams(w, b, c)
}

// Save writes the Boltzmann machine (couplings, biases, connectivity mask, visible count) to
// path atomically.
func (m *BM) Save(path string) error {
	if err := m.check(); err != nil {
		return err
	}
	a := newArchive("BM", tensor.Float64)
	n := m.Size()
	mask := make([]float64, n*n)
	for k, keep := range m.mask {
		if keep {
			mask[k] = 1
		}
	}
	a.put("U", m.U)
	a.put("b", m.B)
	a.put("mask", tensor.New(tensor.WithShape(n, n), tensor.WithBacking(mask)))
	a.meta["visible"] = strconv.Itoa(m.nv)
	return a.write(path)
}

// LoadBM reads a model written by BM.Save.
func LoadBM(path string) (*BM, error) {
	a, err := readArchive(path, "BM")
	if err != nil {
		return nil, err
	}
	u, err := a.get("U")
	if err != nil || u.Shape().Dims() != 2 || u.Shape()[0] != u.Shape()[1] || !u.Dtype().Eq(tensor.Float64) {
		return nil, fmt.Errorf("models: %s: bad coupling matrix", path)
	}
	n := u.Shape()[0]
	b, err := a.get("b", n)
	if err != nil {
		return nil, fmt.Errorf("models: %s: %w", path, err)
	}
	mk, err := a.get("mask", n, n)
	if err != nil {
		return nil, fmt.Errorf("models: %s: %w", path, err)
	}
	nv, err := strconv.Atoi(a.meta["visible"])
	if err != nil || nv < 1 || nv > n {
		return nil, fmt.Errorf("models: %s: bad visible count %q", path, a.meta["visible"])
	}
	m := &BM{U: u, B: b, nv: nv, mask: make([]bool, n*n), name: uniqueName("bm")}
	md := mk.Data().([]float64)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			m.mask[i*n+j] = md[i*n+j] != 0
		}
	}
	return m, m.check()
}

// Save writes the conditional RBM (all weights, order, unit type, σ) to path atomically.
func (m *CRBM) Save(path string) error {
	if err := m.Check(); err != nil {
		return err
	}
	a := newArchive("CRBM", m.Dtype())
	for _, p := range []struct {
		n string
		t *tensor.Dense
	}{{"W", m.W}, {"b", m.B}, {"c", m.C}, {"UV", m.UV}, {"UH", m.UH}} {
		a.put(p.n, p.t)
	}
	if m.LogSigma != nil {
		a.put("logsigma", m.LogSigma)
	}
	a.meta["order"] = strconv.Itoa(m.Order)
	a.meta["learn_sigma"] = strconv.FormatBool(m.LearnSigma)
	return a.write(path)
}

// LoadCRBM reads a model written by CRBM.Save.
func LoadCRBM(path string) (*CRBM, error) {
	a, err := readArchive(path, "CRBM")
	if err != nil {
		return nil, err
	}
	r, err := rbmFromArchive(a)
	if err != nil {
		return nil, fmt.Errorf("models: %s: %w", path, err)
	}
	order, err := strconv.Atoi(a.meta["order"])
	if err != nil || order < 1 {
		return nil, fmt.Errorf("models: %s: bad order %q", path, a.meta["order"])
	}
	nv, nh := r.NumVisible(), r.NumHidden()
	uv, err := a.get("UV", order*nv, nv)
	if err != nil {
		return nil, fmt.Errorf("models: %s: %w", path, err)
	}
	uh, err := a.get("UH", order*nv, nh)
	if err != nil {
		return nil, fmt.Errorf("models: %s: %w", path, err)
	}
	m := &CRBM{W: r.W, B: r.B, C: r.C, UV: uv, UH: uh, Order: order, LearnSigma: a.meta["learn_sigma"] == "true", name: uniqueName("crbm")}
	if _, ok := a.tensors["logsigma"]; ok {
		if m.LogSigma, err = a.get("logsigma", nv); err != nil {
			return nil, fmt.Errorf("models: %s: %w", path, err)
		}
	}
	return m, m.Check()
}
