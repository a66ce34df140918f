package models

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// fileMagic starts every model file written by this package.
const fileMagic = "ebm-model"

// fileVersion is the format version; Load refuses other versions.
const fileVersion = 1

type fileHeader struct {
	Magic   string
	Version int
	Kind    string
	Dtype   string
	Shapes  [][]int
}

type rbmFile struct {
	W64, B64, C64 []float64
	W32, B32, C32 []float32
}

// Save writes the RBM to path atomically: the data go to a temporary file in the same folder that
// is synced and then renamed over path, so an existing model at path is never left half-written.
// The file holds a header (magic, version, kind, dtype, shapes) and the parameters (gob).
func (m *RBM) Save(path string) error {
	if err := m.Check(); err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := gob.NewEncoder(&buf)
	h := fileHeader{Magic: fileMagic, Version: fileVersion, Kind: "RBM", Dtype: m.Dtype().String(),
		Shapes: [][]int{m.W.Shape().Clone(), m.B.Shape().Clone(), m.C.Shape().Clone()}}
	var body rbmFile
	switch m.Dtype() {
	case tensor.Float64:
		body.W64, body.B64, body.C64 = m.W.Data().([]float64), m.B.Data().([]float64), m.C.Data().([]float64)
	default:
		body.W32, body.B32, body.C32 = m.W.Data().([]float32), m.B.Data().([]float32), m.C.Data().([]float32)
	}
	if err := enc.Encode(h); err != nil {
		return errors.Wrap(err, "models: encoding header")
	}
	if err := enc.Encode(body); err != nil {
		return errors.Wrap(err, "models: encoding parameters")
	}
	return writeAtomic(path, buf.Bytes())
}

// writeAtomic writes data to a temporary file beside path, syncs it and renames it to path.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return errors.Wrap(err, "models: creating temporary file")
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := firstErr(werr, serr, cerr); err != nil {
		os.Remove(tmp)
		return errors.Wrapf(err, "models: writing %s", tmp)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return errors.Wrapf(err, "models: renaming %s to %s", tmp, path)
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// LoadRBM reads an RBM written by Save. A file that is not a model file, has another format
// version, holds another kind of model, or is truncated or corrupt gives an error, never a panic.
func LoadRBM(path string) (*RBM, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrap(err, "models: opening model file")
	}
	defer f.Close()
	m, err := readRBM(f)
	if err != nil {
		return nil, errors.Wrapf(err, "models: reading %s", path)
	}
	return m, nil
}

func readRBM(r io.Reader) (m *RBM, err error) {
	defer func() {
		// gob can panic on adversarial input; report it as corruption.
		if p := recover(); p != nil {
			m, err = nil, fmt.Errorf("corrupt model file (%v)", p)
		}
	}()
	dec := gob.NewDecoder(r)
	var h fileHeader
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("not an ebm model file or corrupt header: %v", err)
	}
	if h.Magic != fileMagic {
		return nil, fmt.Errorf("not an ebm model file (magic %q)", h.Magic)
	}
	if h.Version != fileVersion {
		return nil, fmt.Errorf("model file format version %d; this library reads version %d", h.Version, fileVersion)
	}
	if h.Kind != "RBM" {
		return nil, fmt.Errorf("file holds a %s, not an RBM", h.Kind)
	}
	if len(h.Shapes) != 3 || len(h.Shapes[0]) != 2 || len(h.Shapes[1]) != 1 || len(h.Shapes[2]) != 1 {
		return nil, fmt.Errorf("corrupt header: shapes %v", h.Shapes)
	}
	nv, nh := h.Shapes[0][0], h.Shapes[0][1]
	if nv < 1 || nh < 1 || h.Shapes[1][0] != nv || h.Shapes[2][0] != nh {
		return nil, fmt.Errorf("corrupt header: shapes %v", h.Shapes)
	}
	var body rbmFile
	if err := dec.Decode(&body); err != nil {
		return nil, fmt.Errorf("truncated or corrupt parameters: %v", err)
	}
	var w, b, c *tensor.Dense
	switch h.Dtype {
	case tensor.Float64.String():
		if len(body.W64) != nv*nh || len(body.B64) != nv || len(body.C64) != nh {
			return nil, fmt.Errorf("parameter sizes do not match the header's %d×%d", nv, nh)
		}
		w = tensor.New(tensor.WithShape(nv, nh), tensor.WithBacking(body.W64))
		b = tensor.New(tensor.WithShape(nv), tensor.WithBacking(body.B64))
		c = tensor.New(tensor.WithShape(nh), tensor.WithBacking(body.C64))
	case tensor.Float32.String():
		if len(body.W32) != nv*nh || len(body.B32) != nv || len(body.C32) != nh {
			return nil, fmt.Errorf("parameter sizes do not match the header's %d×%d", nv, nh)
		}
		w = tensor.New(tensor.WithShape(nv, nh), tensor.WithBacking(body.W32))
		b = tensor.New(tensor.WithShape(nv), tensor.WithBacking(body.B32))
		c = tensor.New(tensor.WithShape(nh), tensor.WithBacking(body.C32))
	default:
		return nil, fmt.Errorf("unsupported dtype %q", h.Dtype)
	}
	return NewRBMFromParams(w, b, c)
}
