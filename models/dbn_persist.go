package models

import (
	"fmt"
	"strconv"

	"github.com/ebm-go/ebm/datasets"
)

// Save writes the DBN to path atomically (temporary file in the same folder, synced, renamed over
// path) in the versioned, checksummed model format (see archive.go): kind "DBN", the layer count,
// and each Bernoulli layer's W, b, c named "layer<l>.W" etc., bottom first, so LoadDBN restores
// the order. A Gaussian bottom layer is stored besides them as "gaussian.W", "gaussian.b",
// "gaussian.c", "gaussian.logsigma" (plus its standardisation statistics, if set) with the meta
// entries gaussian = "true" and gaussian.learn_sigma; "layers" then counts the Bernoulli layers
// only, so a file of a DBN without a Gaussian layer is byte for byte what earlier versions wrote.
func (d *DBN) Save(path string) error {
	if err := d.Check(); err != nil {
		return err
	}
	a := newArchive("DBN", d.Dtype())
	a.meta["layers"] = strconv.Itoa(len(d.Layers))
	for l, m := range d.Layers {
		p := fmt.Sprintf("layer%d.", l)
		a.put(p+"W", m.W)
		a.put(p+"b", m.B)
		a.put(p+"c", m.C)
	}
	if g := d.Gaussian; g != nil {
		a.meta["gaussian"] = "true"
		a.meta["gaussian.learn_sigma"] = strconv.FormatBool(g.LearnSigma)
		a.put("gaussian.W", g.W)
		a.put("gaussian.b", g.B)
		a.put("gaussian.c", g.C)
		a.put("gaussian.logsigma", g.LogSigma)
		if s := g.Standardizer; s != nil {
			a.putFloats("gaussian.standardizer.mean", s.Mean)
			a.putFloats("gaussian.standardizer.std", s.Std)
		}
	}
	return a.write(path)
}

// LoadDBN reads a DBN written by DBN.Save (by this or an earlier version). A file that is not a
// model file, has another format version, holds another kind of model, or is truncated, corrupt
// or inconsistent (tensor count, shapes, layer sizes that do not chain) gives an error, never a
// panic.
func LoadDBN(path string) (*DBN, error) {
	a, err := readArchive(path, "DBN")
	if err != nil {
		return nil, err
	}
	gaussianTensors := 0
	switch a.meta["gaussian"] {
	case "":
	case "true":
		gaussianTensors = 4
		if _, ok := a.tensors["gaussian.standardizer.mean"]; ok {
			gaussianTensors = 6
		}
	default:
		return nil, fmt.Errorf("models: %s: bad gaussian entry %q", path, a.meta["gaussian"])
	}
	layers, err := strconv.Atoi(a.meta["layers"])
	if err != nil || layers < 1 || 3*layers+gaussianTensors != len(a.names) {
		return nil, fmt.Errorf("models: %s: bad layer count %q for %d tensors", path, a.meta["layers"], len(a.names))
	}
	ms := make([]*RBM, layers)
	for l := range ms {
		p := fmt.Sprintf("layer%d.", l)
		w, err := a.get(p + "W")
		if err != nil || w.Shape().Dims() != 2 {
			return nil, fmt.Errorf("models: %s: layer %d: bad weight matrix (%v)", path, l, err)
		}
		b, err := a.get(p+"b", w.Shape()[0])
		if err != nil {
			return nil, fmt.Errorf("models: %s: layer %d: %w", path, l, err)
		}
		c, err := a.get(p+"c", w.Shape()[1])
		if err != nil {
			return nil, fmt.Errorf("models: %s: layer %d: %w", path, l, err)
		}
		if ms[l], err = NewRBMFromParams(w, b, c); err != nil {
			return nil, fmt.Errorf("models: %s: layer %d: %w", path, l, err)
		}
	}
	d := &DBN{Layers: ms}
	if gaussianTensors > 0 {
		if d.Gaussian, err = gaussianFromArchive(a); err != nil {
			return nil, fmt.Errorf("models: %s: Gaussian layer: %w", path, err)
		}
	}
	if err := d.Check(); err != nil {
		return nil, fmt.Errorf("models: %s: %w", path, err)
	}
	return d, nil
}

// gaussianFromArchive reads the Gaussian bottom layer of a DBN archive.
func gaussianFromArchive(a *archive) (*GaussianRBM, error) {
	w, err := a.get("gaussian.W")
	if err != nil {
		return nil, err
	}
	if w.Shape().Dims() != 2 {
		return nil, fmt.Errorf("weight matrix has shape %v", w.Shape())
	}
	nv, nh := w.Shape()[0], w.Shape()[1]
	b, err := a.get("gaussian.b", nv)
	if err != nil {
		return nil, err
	}
	c, err := a.get("gaussian.c", nh)
	if err != nil {
		return nil, err
	}
	ls, err := a.get("gaussian.logsigma", nv)
	if err != nil {
		return nil, err
	}
	switch a.meta["gaussian.learn_sigma"] {
	case "true", "false":
	default:
		return nil, fmt.Errorf("bad learn_sigma entry %q", a.meta["gaussian.learn_sigma"])
	}
	g := &GaussianRBM{W: w, B: b, C: c, LogSigma: ls, LearnSigma: a.meta["gaussian.learn_sigma"] == "true", name: uniqueName("grbm")}
	if _, ok := a.tensors["gaussian.standardizer.mean"]; ok {
		mean, err := a.get("gaussian.standardizer.mean", nv)
		if err != nil {
			return nil, fmt.Errorf("bad standardisation statistics: %w", err)
		}
		std, err := a.get("gaussian.standardizer.std", nv)
		if err != nil {
			return nil, fmt.Errorf("bad standardisation statistics: %w", err)
		}
		g.Standardizer = &datasets.Standardizer{Mean: append([]float64(nil), floats(mean)...), Std: append([]float64(nil), floats(std)...)}
	}
	if err := g.Check(); err != nil {
		return nil, err
	}
	return g, nil
}
