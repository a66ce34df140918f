// Package npy reads and writes single tensors in NumPy's .npy format (version 1.0), so weights
// trained here load in Python with numpy.load and arrays prepared in Python load here.
//
// Supported: little-endian float64 ('<f8') and float32 ('<f4'), C order, any number of
// dimensions (a 0-d array is read as shape ()). Anything else — another dtype, Fortran order, a
// big-endian descriptor, a truncated or malformed file — is an error naming the problem, never a
// panic. Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
package npy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"gorgonia.org/tensor"
)

const magic = "\x93NUMPY"

// maxElements bounds the size a header may declare (2^31 values).
const maxElements = 1 << 31

// Write writes t (Float32 or Float64, contiguous) to w in .npy format 1.0.
func Write(w io.Writer, t *tensor.Dense) error {
	if t == nil {
		return fmt.Errorf("npy: nil tensor")
	}
	var descr string
	switch t.Dtype() {
	case tensor.Float64:
		descr = "<f8"
	case tensor.Float32:
		descr = "<f4"
	default:
		return fmt.Errorf("npy: dtype %v is not supported (Float32 or Float64)", t.Dtype())
	}
	shape := t.Shape()
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	if t.IsScalar() {
		tuple = ""
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, tuple)
	// Pad so that magic(6) + version(2) + length(2) + header + '\n' is a multiple of 64.
	total := 10 + len(header) + 1
	header += strings.Repeat(" ", (64-total%64)%64) + "\n"
	if len(header) > math.MaxUint16 {
		return fmt.Errorf("npy: header too long")
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(magic)
	bw.Write([]byte{1, 0})
	binary.Write(bw, binary.LittleEndian, uint16(len(header)))
	bw.WriteString(header)
	switch d := t.Data().(type) {
	case []float64:
		for _, v := range d {
			binary.Write(bw, binary.LittleEndian, math.Float64bits(v))
		}
	case []float32:
		for _, v := range d {
			binary.Write(bw, binary.LittleEndian, math.Float32bits(v))
		}
	case float64:
		binary.Write(bw, binary.LittleEndian, math.Float64bits(d))
	case float32:
		binary.Write(bw, binary.LittleEndian, math.Float32bits(d))
	}
	return bw.Flush()
}

var (
	descrRe   = regexp.MustCompile(`'descr'\s*:\s*'([^']*)'`)
	fortranRe = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	shapeRe   = regexp.MustCompile(`'shape'\s*:\s*\(([^)]*)\)`)
)

// Read reads one .npy array from r.
func Read(r io.Reader) (*tensor.Dense, error) {
	var pre [10]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, fmt.Errorf("npy: file too short for a header: %w", err)
	}
	if string(pre[:6]) != magic {
		return nil, fmt.Errorf("npy: not a .npy file (magic % x)", pre[:6])
	}
	major := pre[6]
	var hlen int
	switch major {
	case 1:
		hlen = int(binary.LittleEndian.Uint16(pre[8:10]))
	case 2, 3:
		var rest [2]byte
		if _, err := io.ReadFull(r, rest[:]); err != nil {
			return nil, fmt.Errorf("npy: truncated header length: %w", err)
		}
		hlen = int(binary.LittleEndian.Uint32(append(append([]byte{}, pre[8:10]...), rest[:]...)))
		if hlen > 1<<20 {
			return nil, fmt.Errorf("npy: header length %d is implausible", hlen)
		}
	default:
		return nil, fmt.Errorf("npy: format version %d.%d is not supported", pre[6], pre[7])
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(r, hb); err != nil {
		return nil, fmt.Errorf("npy: truncated header (%d bytes declared): %w", hlen, err)
	}
	h := string(hb)
	dm, fm, sm := descrRe.FindStringSubmatch(h), fortranRe.FindStringSubmatch(h), shapeRe.FindStringSubmatch(h)
	if dm == nil || fm == nil || sm == nil {
		return nil, fmt.Errorf("npy: malformed header %q", strings.TrimSpace(h))
	}
	if fm[1] == "True" {
		return nil, fmt.Errorf("npy: Fortran-order arrays are not supported; save with numpy.ascontiguousarray")
	}
	var shape []int
	n := 1
	for _, f := range strings.Split(sm[1], ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		d, err := strconv.Atoi(f)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("npy: bad dimension %q in shape (%s)", f, sm[1])
		}
		if d > 0 && n > maxElements/d {
			return nil, fmt.Errorf("npy: shape (%s) has more than %d elements", sm[1], maxElements)
		}
		shape = append(shape, d)
		n *= d
	}
	var size int
	switch dm[1] {
	case "<f8":
		size = 8
	case "<f4":
		size = 4
	default:
		return nil, fmt.Errorf("npy: dtype %q is not supported (little-endian float64 '<f8' or float32 '<f4')", dm[1])
	}
	// Read in chunks so that a header claiming a huge array cannot force a huge allocation
	// before the data prove to be there.
	var buf bytes.Buffer
	if _, err := io.CopyN(&buf, r, int64(n*size)); err != nil {
		return nil, fmt.Errorf("npy: truncated data: header declares %d values (%d bytes), file holds %d bytes", n, n*size, buf.Len())
	}
	raw := buf.Bytes()
	var backing any
	if size == 8 {
		v := make([]float64, n)
		for i := range v {
			v[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
		}
		backing = v
	} else {
		v := make([]float32, n)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		backing = v
	}
	if len(shape) == 0 {
		if size == 8 {
			return tensor.New(tensor.FromScalar(backing.([]float64)[0])), nil
		}
		return tensor.New(tensor.FromScalar(backing.([]float32)[0])), nil
	}
	if n == 0 {
		return nil, fmt.Errorf("npy: empty arrays (shape (%s)) are not supported", sm[1])
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(backing)), nil
}

// WriteFile writes t to path atomically (temporary file in the same folder, synced, renamed).
func WriteFile(path string, t *tensor.Dense) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	tmp := f.Name()
	err = Write(f, t)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("npy: writing %s: %w", path, err)
	}
	return nil
}

// ReadFile reads the .npy file at path.
func ReadFile(path string) (*tensor.Dense, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	defer f.Close()
	t, err := Read(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}
