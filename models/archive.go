package models

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Model files (format version 2). Layout, all integers little-endian:
//
//	8 bytes  magic "EBMMODEL"
//	uint32   format version (2)
//	uint32   header length H, then H bytes: gob of archiveHeader (kind, dtype, metadata,
//	         tensor names and shapes)
//	uint32   body length B, uint32 CRC-32 (IEEE) of the body, then B bytes: gob of archiveBody
//	         (the tensors' values in header order, float64 or float32 by dtype)
//
// Readers check magic, version, lengths (against the file size), the checksum, and every
// tensor's size against its declared shape before building a model, so a truncated, corrupt or
// foreign file gives an error naming the problem, never a panic.
const (
	archiveMagic   = "EBMMODEL"
	archiveVersion = 2
	// maxArchiveBytes bounds what a header may make a reader allocate.
	maxArchiveBytes = 1 << 34
)

type archiveHeader struct {
	Kind    string
	Dtype   string
	Meta    map[string]string
	Names   []string
	Shapes  [][]int
	Version int
}

type archiveBody struct {
	F64 [][]float64
	F32 [][]float32
}

// archive is a model's parameters by name, with its kind, dtype and metadata.
type archive struct {
	kind    string
	dtype   tensor.Dtype
	meta    map[string]string
	names   []string
	tensors map[string]*tensor.Dense
}

func newArchive(kind string, dt tensor.Dtype) *archive {
	return &archive{kind: kind, dtype: dt, meta: map[string]string{}, tensors: map[string]*tensor.Dense{}}
}

func (a *archive) put(name string, t *tensor.Dense) {
	a.names = append(a.names, name)
	a.tensors[name] = t
}

// putFloats stores a float64 vector (e.g. standardisation statistics) whatever the model dtype.
func (a *archive) putFloats(name string, v []float64) {
	t := tensor.New(tensor.WithShape(len(v)), tensor.Of(a.dtype))
	setFloats(t, v)
	a.put(name, t)
}

// get returns the tensor called name, checking its shape.
func (a *archive) get(name string, shape ...int) (*tensor.Dense, error) {
	t, ok := a.tensors[name]
	if !ok {
		return nil, fmt.Errorf("model file has no tensor %q", name)
	}
	if shape != nil && !t.Shape().Eq(tensor.Shape(shape)) {
		return nil, fmt.Errorf("tensor %q has shape %v; want %v", name, t.Shape(), tensor.Shape(shape))
	}
	return t, nil
}

func (a *archive) write(path string) error {
	h := archiveHeader{Kind: a.kind, Dtype: a.dtype.String(), Meta: a.meta, Names: a.names, Version: archiveVersion}
	var body archiveBody
	for _, n := range a.names {
		t := a.tensors[n]
		if !t.Dtype().Eq(a.dtype) {
			return fmt.Errorf("models: tensor %s has dtype %v in a %v model", n, t.Dtype(), a.dtype)
		}
		h.Shapes = append(h.Shapes, t.Shape().Clone())
		switch d := t.Data().(type) {
		case []float64:
			body.F64 = append(body.F64, d)
		case []float32:
			body.F32 = append(body.F32, d)
		default:
			return fmt.Errorf("models: tensor %s has unsupported dtype %v", n, t.Dtype())
		}
	}
	var hb, bb bytes.Buffer
	if err := gob.NewEncoder(&hb).Encode(h); err != nil {
		return errors.Wrap(err, "models: encoding header")
	}
	if err := gob.NewEncoder(&bb).Encode(body); err != nil {
		return errors.Wrap(err, "models: encoding tensors")
	}
	var out bytes.Buffer
	out.WriteString(archiveMagic)
	binary.Write(&out, binary.LittleEndian, uint32(archiveVersion))
	binary.Write(&out, binary.LittleEndian, uint32(hb.Len()))
	out.Write(hb.Bytes())
	binary.Write(&out, binary.LittleEndian, uint32(bb.Len()))
	binary.Write(&out, binary.LittleEndian, crc32.ChecksumIEEE(bb.Bytes()))
	out.Write(bb.Bytes())
	return writeAtomic(path, out.Bytes())
}

// readArchive reads and verifies a model file; kind, when not empty, must match.
func readArchive(path, kind string) (*archive, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrap(err, "models: opening model file")
	}
	defer f.Close()
	a, err := decodeArchive(f)
	if err != nil {
		return nil, errors.Wrapf(err, "models: reading %s", path)
	}
	if kind != "" && a.kind != kind {
		return nil, fmt.Errorf("models: %s holds a %s, not a %s", path, a.kind, kind)
	}
	return a, nil
}

func decodeArchive(r io.Reader) (a *archive, err error) {
	defer func() {
		// gob can panic on adversarial input; report it as corruption.
		if p := recover(); p != nil {
			a, err = nil, fmt.Errorf("corrupt model file (%v)", p)
		}
	}()
	var pre [16]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, fmt.Errorf("not an ebm model file: too short (%v)", err)
	}
	if string(pre[:8]) != archiveMagic {
		return nil, fmt.Errorf("not an ebm model file (magic %q)", pre[:8])
	}
	if v := binary.LittleEndian.Uint32(pre[8:12]); v != archiveVersion {
		return nil, fmt.Errorf("model file format version %d; this library reads version %d", v, archiveVersion)
	}
	hlen := binary.LittleEndian.Uint32(pre[12:16])
	if hlen > 1<<24 {
		return nil, fmt.Errorf("corrupt header length %d", hlen)
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(r, hb); err != nil {
		return nil, fmt.Errorf("truncated header: %v", err)
	}
	var h archiveHeader
	if err := gob.NewDecoder(bytes.NewReader(hb)).Decode(&h); err != nil {
		return nil, fmt.Errorf("corrupt header: %v", err)
	}
	var dt tensor.Dtype
	switch h.Dtype {
	case tensor.Float64.String():
		dt = tensor.Float64
	case tensor.Float32.String():
		dt = tensor.Float32
	default:
		return nil, fmt.Errorf("unsupported dtype %q", h.Dtype)
	}
	if len(h.Names) != len(h.Shapes) {
		return nil, fmt.Errorf("corrupt header: %d names for %d shapes", len(h.Names), len(h.Shapes))
	}
	var declared int64
	for i, s := range h.Shapes {
		n := int64(1)
		for _, d := range s {
			if d < 1 || n > maxArchiveBytes/int64(d) {
				return nil, fmt.Errorf("corrupt header: tensor %q has shape %v", h.Names[i], s)
			}
			n *= int64(d)
		}
		declared += n
	}
	if declared*int64(dt.Size()) > maxArchiveBytes {
		return nil, fmt.Errorf("header declares %d values, more than this library reads", declared)
	}
	var post [8]byte
	if _, err := io.ReadFull(r, post[:]); err != nil {
		return nil, fmt.Errorf("truncated file: no body (%v)", err)
	}
	blen, sum := binary.LittleEndian.Uint32(post[:4]), binary.LittleEndian.Uint32(post[4:])
	var bb bytes.Buffer
	if n, err := io.CopyN(&bb, r, int64(blen)); err != nil {
		return nil, fmt.Errorf("truncated file: body has %d of %d bytes", n, blen)
	}
	if crc32.ChecksumIEEE(bb.Bytes()) != sum {
		return nil, errors.New("corrupt file: checksum mismatch")
	}
	var body archiveBody
	if err := gob.NewDecoder(&bb).Decode(&body); err != nil {
		return nil, fmt.Errorf("corrupt tensors: %v", err)
	}
	a = &archive{kind: h.Kind, dtype: dt, meta: h.Meta, names: h.Names, tensors: map[string]*tensor.Dense{}}
	if a.meta == nil {
		a.meta = map[string]string{}
	}
	count := len(body.F64)
	if dt.Eq(tensor.Float32) {
		count = len(body.F32)
	}
	if count != len(h.Names) || (len(body.F64) > 0 && len(body.F32) > 0) {
		return nil, fmt.Errorf("file holds %d tensors of dtype %v; its header declares %d", count, dt, len(h.Names))
	}
	for i, name := range h.Names {
		size := tensor.Shape(h.Shapes[i]).TotalSize()
		var t *tensor.Dense
		if dt.Eq(tensor.Float64) {
			if len(body.F64[i]) != size {
				return nil, fmt.Errorf("tensor %q has %d values; its shape %v needs %d", name, len(body.F64[i]), h.Shapes[i], size)
			}
			for j, v := range body.F64[i] {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return nil, fmt.Errorf("tensor %q entry %d is %v (non-finite)", name, j, v)
				}
			}
			t = tensor.New(tensor.WithShape(h.Shapes[i]...), tensor.WithBacking(body.F64[i]))
		} else {
			if len(body.F32[i]) != size {
				return nil, fmt.Errorf("tensor %q has %d values; its shape %v needs %d", name, len(body.F32[i]), h.Shapes[i], size)
			}
			t = tensor.New(tensor.WithShape(h.Shapes[i]...), tensor.WithBacking(body.F32[i]))
		}
		if _, dup := a.tensors[name]; dup {
			return nil, fmt.Errorf("tensor %q appears twice", name)
		}
		a.tensors[name] = t
	}
	return a, nil
}

// writeAtomic writes data to a temporary file beside path, syncs it and renames it to path, so a
// crash mid-write leaves any previous file at path intact.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return errors.Wrap(err, "models: creating temporary file")
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	for _, e := range []error{werr, serr, cerr} {
		if e != nil {
			os.Remove(tmp)
			return errors.Wrapf(e, "models: writing %s", tmp)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return errors.Wrapf(err, "models: renaming %s to %s", tmp, path)
	}
	return nil
}
