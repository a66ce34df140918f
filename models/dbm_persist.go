package models

import (
	"fmt"
	"strconv"
)

// Save writes the DBM to path atomically (temporary file in the same folder, synced, renamed over
// path) in the versioned, checksummed model format (see archive.go): kind "DBM", the hidden-layer
// count L, weights "W<l>" (l = 0..L-1) and biases "b<l>" (l = 0..L), bottom first.
func (d *DBM) Save(path string) error {
	if err := d.Check(); err != nil {
		return err
	}
	a := newArchive("DBM", d.Dtype())
	a.meta["layers"] = strconv.Itoa(len(d.W))
	for l, w := range d.W {
		a.put(fmt.Sprintf("W%d", l), w)
	}
	for l, b := range d.B {
		a.put(fmt.Sprintf("b%d", l), b)
	}
	return a.write(path)
}

// LoadDBM reads a DBM written by DBM.Save. A file that is not a model file, has another format
// version, holds another kind of model, or is truncated or corrupt gives an error, never a panic.
func LoadDBM(path string) (*DBM, error) {
	a, err := readArchive(path, "DBM")
	if err != nil {
		return nil, err
	}
	layers, err := strconv.Atoi(a.meta["layers"])
	if err != nil || layers < 1 || 2*layers+1 != len(a.names) {
		return nil, fmt.Errorf("models: %s: bad layer count %q for %d tensors", path, a.meta["layers"], len(a.names))
	}
	d := &DBM{}
	for l := 0; l < layers; l++ {
		w, err := a.get(fmt.Sprintf("W%d", l))
		if err != nil || w.Shape().Dims() != 2 {
			return nil, fmt.Errorf("models: %s: layer %d: bad weight matrix (%v)", path, l, err)
		}
		d.W = append(d.W, w)
	}
	for l := 0; l <= layers; l++ {
		n := d.W[min(l, layers-1)].Shape()[0]
		if l == layers {
			n = d.W[layers-1].Shape()[1]
		}
		b, err := a.get(fmt.Sprintf("b%d", l), n)
		if err != nil {
			return nil, fmt.Errorf("models: %s: bias %d: %w", path, l, err)
		}
		d.B = append(d.B, b)
	}
	if err := d.Check(); err != nil {
		return nil, fmt.Errorf("models: %s: %w", path, err)
	}
	return d, nil
}
