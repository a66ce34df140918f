package models

import (
	"fmt"
	"strconv"
)

// Save writes the DBN to path atomically (temporary file in the same folder, synced, renamed over
// path) in the versioned, checksummed model format (see archive.go): kind "DBN", the layer count,
// and each layer's W, b, c named "layer<l>.W" etc., bottom first, so LoadDBN restores the order.
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
	return a.write(path)
}

// LoadDBN reads a DBN written by DBN.Save. A file that is not a model file, has another format
// version, holds another kind of model, or is truncated or corrupt gives an error, never a panic.
func LoadDBN(path string) (*DBN, error) {
	a, err := readArchive(path, "DBN")
	if err != nil {
		return nil, err
	}
	layers, err := strconv.Atoi(a.meta["layers"])
	if err != nil || layers < 1 || 3*layers != len(a.names) {
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
	return NewDBNFromLayers(ms)
}
