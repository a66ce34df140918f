package optim

import (
	"bytes"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Checkpoint file layout (all integers little-endian):
//
//	magic "EBMCKPT\n" | version uint32 | reserved uint32 | body length uint64 | SHA-256 of body | body
//
// The body holds, in order: the estimator name, dtype name, visible units, batch size and row
// count (checked against the trainer on load); completed epochs, next minibatch, whether the
// persistent chains are set, the epoch's running cost sum and clipped count, and its row order
// (only inside an epoch); each parameter's name, shape, values and velocity; the persistent
// chains; the states of the Shuffle, Chains and Monitor sources (MarshalBinary). Floats are
// stored as their IEEE bits, so a restored trainer continues bit for bit.
const (
	checkpointMagic   = "EBMCKPT\n"
	checkpointVersion = 1
	checkpointHeader  = 8 + 4 + 4 + 8 + sha256.Size
)

// Position returns where training stands: the number of completed epochs and the next
// minibatch of the current epoch (0 at an epoch boundary).
func (t *Trainer) Position() (epoch, minibatch int) { return t.epoch, t.pos }

// checkpointable reports whether a source's state can be saved and restored.
func checkpointable(name string, src rand.Source) error {
	if src == nil {
		return nil
	}
	_, m := src.(encoding.BinaryMarshaler)
	_, u := src.(encoding.BinaryUnmarshaler)
	if !m || !u {
		return fmt.Errorf("optim: checkpoints need Settings.%s to implement encoding.BinaryMarshaler and BinaryUnmarshaler (as *rand.PCG and *rand.ChaCha8 do); %T does not", name, src)
	}
	return nil
}

// WriteCheckpoint writes the trainer's full training state to w: parameters and their momentum
// velocities, the persistent chains (PCD), the position (completed epochs, next minibatch and,
// inside an epoch, its row order and running totals) and the states of the Shuffle, Chains and
// Monitor sources, in a versioned, checksummed format. A trainer built by NewTrainer with the
// same model shape, dtype and settings and given this state by ReadCheckpoint continues bit for
// bit as this one would. The sources must implement encoding.BinaryMarshaler.
func (t *Trainer) WriteCheckpoint(w io.Writer) error {
	body, err := t.checkpointBody()
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	head := make([]byte, 0, checkpointHeader)
	head = append(head, checkpointMagic...)
	head = binary.LittleEndian.AppendUint32(head, checkpointVersion)
	head = binary.LittleEndian.AppendUint32(head, 0)
	head = binary.LittleEndian.AppendUint64(head, uint64(len(body)))
	head = append(head, sum[:]...)
	if _, err := w.Write(head); err != nil {
		return errors.Wrap(err, "optim: writing checkpoint")
	}
	if _, err := w.Write(body); err != nil {
		return errors.Wrap(err, "optim: writing checkpoint")
	}
	return nil
}

// SaveCheckpoint writes the checkpoint (WriteCheckpoint) to a temporary file beside path, syncs
// it and renames it to path, so a crash mid-write leaves any previous checkpoint intact.
func (t *Trainer) SaveCheckpoint(path string) error {
	var buf bytes.Buffer
	if err := t.WriteCheckpoint(&buf); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return errors.Wrap(err, "optim: creating the checkpoint's temporary file")
	}
	tmp := f.Name()
	_, werr := f.Write(buf.Bytes())
	if werr == nil {
		werr = f.Chmod(0o644)
	}
	serr := f.Sync()
	cerr := f.Close()
	for _, e := range []error{werr, serr, cerr} {
		if e != nil {
			os.Remove(tmp)
			return errors.Wrapf(e, "optim: writing checkpoint %s", tmp)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return errors.Wrapf(err, "optim: renaming %s to %s", tmp, path)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync() // make the rename durable where the file system allows
		d.Close()
	}
	return nil
}

// LoadCheckpoint restores the state SaveCheckpoint wrote to path (see ReadCheckpoint).
func (t *Trainer) LoadCheckpoint(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return errors.Wrap(err, "optim: opening checkpoint")
	}
	defer f.Close()
	if err := t.ReadCheckpoint(f); err != nil {
		return errors.Wrapf(err, "%s", path)
	}
	return nil
}

// ReadCheckpoint restores a state written by WriteCheckpoint into t, which NewTrainer must have
// built for a model of the same parameter shapes and dtype, with the same estimator, batch size
// and row count (checked), and the same schedules and weight decay (not checked). The model's
// parameters are overwritten in place. A truncated, corrupt or mismatched checkpoint gives an
// error and leaves t and the model unchanged (for sources other than *rand.PCG and
// *rand.ChaCha8, a state their UnmarshalBinary rejects is only found while restoring).
func (t *Trainer) ReadCheckpoint(r io.Reader) error {
	if t.vm == nil {
		return errors.New("optim: trainer is closed")
	}
	head := make([]byte, checkpointHeader)
	if n, err := io.ReadFull(r, head); err != nil {
		if n < len(checkpointMagic) || string(head[:len(checkpointMagic)]) != checkpointMagic {
			return fmt.Errorf("optim: not a training checkpoint (%d bytes; want the %q header)", n, checkpointMagic)
		}
		return fmt.Errorf("optim: checkpoint truncated in its %d-byte header (%d bytes)", checkpointHeader, n)
	}
	if string(head[:8]) != checkpointMagic {
		return fmt.Errorf("optim: not a training checkpoint (starts %q, want %q)", head[:8], checkpointMagic)
	}
	if v := binary.LittleEndian.Uint32(head[8:]); v != checkpointVersion {
		return fmt.Errorf("optim: checkpoint format version %d; this build reads version %d", v, checkpointVersion)
	}
	size := binary.LittleEndian.Uint64(head[16:])
	if size > 1<<40 {
		return fmt.Errorf("optim: corrupt checkpoint: body length %d", size)
	}
	// ReadAll grows with the bytes actually present, so a corrupt length cannot force a huge
	// allocation.
	body, err := io.ReadAll(io.LimitReader(r, int64(size)))
	if err != nil {
		return errors.Wrap(err, "optim: reading checkpoint")
	}
	if uint64(len(body)) != size {
		return fmt.Errorf("optim: checkpoint truncated: %d of %d body bytes", len(body), size)
	}
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], head[24:]) {
		return errors.New("optim: corrupt checkpoint: checksum mismatch")
	}
	st, err := t.decodeCheckpoint(body)
	if err != nil {
		return errors.Wrap(err, "optim: checkpoint")
	}
	return t.restore(st)
}

func (t *Trainer) sources() []struct {
	name string
	src  rand.Source
} {
	return []struct {
		name string
		src  rand.Source
	}{{"Shuffle", t.s.Shuffle}, {"Chains", t.s.Chains}, {"Monitor", t.monitor}}
}

func (t *Trainer) checkpointBody() ([]byte, error) {
	var e enc
	e.str(t.s.Estimator.String())
	e.str(t.m.Dtype().String())
	e.u64(uint64(t.m.NumVisible()))
	e.u64(uint64(t.batch))
	e.u64(uint64(t.n))
	e.u64(uint64(t.epoch))
	e.u64(uint64(t.pos))
	e.bool(t.chainSet)
	e.f64(t.costSum)
	e.u64(uint64(t.clipped))
	if t.pos == 0 {
		e.u64(0)
	} else {
		e.u64(uint64(len(t.perm)))
		for _, i := range t.perm {
			e.u64(uint64(i))
		}
	}
	e.u64(uint64(len(t.params)))
	for i, p := range t.params {
		e.str(p.Name())
		e.shape(t.values[i].Shape())
		e.floats(t.values[i])
		e.floats(t.vel[i])
	}
	e.bool(t.persist)
	if t.persist {
		e.shape(t.chainIn.Shape())
		e.floats(t.chainIn)
	}
	for _, s := range t.sources() {
		if s.src == nil {
			e.bytes(nil)
			continue
		}
		if err := checkpointable(s.name, s.src); err != nil {
			return nil, err
		}
		b, err := s.src.(encoding.BinaryMarshaler).MarshalBinary()
		if err != nil {
			return nil, errors.Wrapf(err, "optim: saving the state of Settings.%s", s.name)
		}
		e.bytes(b)
	}
	return e.b, nil
}

// ckptState is a decoded checkpoint, checked against the trainer but not yet applied.
type ckptState struct {
	epoch, pos, clipped int
	chainSet            bool
	costSum             float64
	perm                []int
	values, vel         [][]byte
	chains              []byte
	sources             [][]byte
}

func (t *Trainer) decodeCheckpoint(body []byte) (*ckptState, error) {
	d := &dec{b: body}
	var st ckptState
	dt := t.m.Dtype()
	if est := d.str(); d.err == nil && est != t.s.Estimator.String() {
		return nil, fmt.Errorf("saved by a %s trainer; this trainer runs %s", est, t.s.Estimator)
	}
	if dts := d.str(); d.err == nil && dts != dt.String() {
		return nil, fmt.Errorf("holds %s parameters; the model is %s", dts, dt)
	}
	nv, batch, n := d.int(), d.int(), d.int()
	if d.err == nil && (nv != t.m.NumVisible() || batch != t.batch || n != t.n) {
		return nil, fmt.Errorf("saved for %d visible units, batch size %d and %d training rows; this trainer has %d, %d and %d",
			nv, batch, n, t.m.NumVisible(), t.batch, t.n)
	}
	st.epoch, st.pos = d.int(), d.int()
	st.chainSet = d.bool()
	st.costSum = d.f64()
	st.clipped = d.int()
	np := d.int()
	if d.err == nil {
		if (np != 0) != (st.pos != 0) || np != 0 && np != n {
			return nil, fmt.Errorf("corrupt position: minibatch %d with a row order of %d rows (want %d)", st.pos, np, n)
		}
		if st.pos > 0 && st.pos >= n/batch {
			return nil, fmt.Errorf("corrupt position: minibatch %d of %d", st.pos, n/batch)
		}
	}
	if np > 0 {
		if d.need(np, 8) {
			st.perm = make([]int, np)
			seen := make([]bool, np)
			for i := range st.perm {
				v := d.int()
				if v >= np || seen[v] {
					return nil, fmt.Errorf("corrupt row order: entry %d is %d", i, v)
				}
				seen[v] = true
				st.perm[i] = v
			}
		}
	}
	if k := d.int(); d.err == nil && k != len(t.params) {
		return nil, fmt.Errorf("holds %d parameters; the model has %d", k, len(t.params))
	}
	size := int(dt.Size())
	for i, p := range t.params {
		name := d.str()
		shape := d.shape()
		if d.err != nil {
			break
		}
		// Node names carry a per-graph prefix ("rbm3.W"); the part after the last dot names
		// the parameter.
		if baseName(name) != baseName(p.Name()) || !shape.Eq(t.values[i].Shape()) {
			return nil, fmt.Errorf("parameter %d is %s %v; the model's is %s %v", i, name, shape, p.Name(), t.values[i].Shape())
		}
		st.values = append(st.values, d.raw(t.values[i].Shape().TotalSize()*size))
		st.vel = append(st.vel, d.raw(t.values[i].Shape().TotalSize()*size))
	}
	if persist := d.bool(); d.err == nil && persist != t.persist {
		return nil, fmt.Errorf("persistent chains saved: %v; this trainer has them: %v", persist, t.persist)
	}
	if t.persist {
		if shape := d.shape(); d.err == nil && !shape.Eq(t.chainIn.Shape()) {
			return nil, fmt.Errorf("persistent chains %v; this trainer has %v", shape, t.chainIn.Shape())
		}
		st.chains = d.raw(t.chainIn.Shape().TotalSize() * size)
	}
	for _, s := range t.sources() {
		b := d.bytes()
		if d.err != nil {
			break
		}
		if (s.src == nil) != (len(b) == 0) {
			return nil, fmt.Errorf("Settings.%s: saved state of %d bytes, trainer source %T", s.name, len(b), s.src)
		}
		if s.src != nil {
			if err := checkpointable(s.name, s.src); err != nil {
				return nil, err
			}
			if err := tryUnmarshal(s.src, b); err != nil {
				return nil, errors.Wrapf(err, "restoring Settings.%s (%T)", s.name, s.src)
			}
		}
		st.sources = append(st.sources, b)
	}
	if d.err != nil {
		return nil, d.err
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("corrupt: %d bytes after the end", len(d.b))
	}
	return &st, nil
}

func baseName(s string) string { return s[strings.LastIndex(s, ".")+1:] }

// tryUnmarshal checks that b restores a source of src's type on a scratch value, for the
// standard library's sources, so that a bad state is found before anything changes. Other
// types are checked when restored.
func tryUnmarshal(src rand.Source, b []byte) error {
	switch src.(type) {
	case *rand.PCG:
		return new(rand.PCG).UnmarshalBinary(b)
	case *rand.ChaCha8:
		return new(rand.ChaCha8).UnmarshalBinary(b)
	}
	return nil
}

// restore applies a checked state.
func (t *Trainer) restore(st *ckptState) error {
	for i, s := range t.sources() {
		if s.src == nil {
			continue
		}
		if err := s.src.(encoding.BinaryUnmarshaler).UnmarshalBinary(st.sources[i]); err != nil {
			return errors.Wrapf(err, "optim: restoring Settings.%s", s.name)
		}
	}
	for i := range t.params {
		setRaw(t.values[i], st.values[i])
		setRaw(t.vel[i], st.vel[i])
	}
	if t.persist {
		setRaw(t.chainIn, st.chains)
	}
	t.epoch, t.pos, t.perm, t.chainSet, t.costSum, t.clipped = st.epoch, st.pos, st.perm, st.chainSet, st.costSum, st.clipped
	return nil
}

// setRaw copies little-endian IEEE values into x (sizes were checked).
func setRaw(x *tensor.Dense, b []byte) {
	switch d := x.Data().(type) {
	case []float64:
		for i := range d {
			d[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
	case []float32:
		for i := range d {
			d[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	}
}

// enc appends checkpoint fields.
type enc struct{ b []byte }

func (e *enc) u64(v uint64)  { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *enc) f64(v float64) { e.u64(math.Float64bits(v)) }
func (e *enc) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}
func (e *enc) bytes(b []byte) { e.u64(uint64(len(b))); e.b = append(e.b, b...) }
func (e *enc) str(s string)   { e.bytes([]byte(s)) }
func (e *enc) shape(s tensor.Shape) {
	e.u64(uint64(len(s)))
	for _, d := range s {
		e.u64(uint64(d))
	}
}
func (e *enc) floats(x *tensor.Dense) {
	switch d := x.Data().(type) {
	case []float64:
		for _, v := range d {
			e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(v))
		}
	case []float32:
		for _, v := range d {
			e.b = binary.LittleEndian.AppendUint32(e.b, math.Float32bits(v))
		}
	}
}

// dec reads checkpoint fields with bounds checks: the first shortfall sets err and every later
// read returns zero values.
type dec struct {
	b   []byte
	err error
}

func (d *dec) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.err = fmt.Errorf("corrupt or truncated: field of %d bytes with %d left", n, len(d.b))
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

// need reports whether count items of size bytes remain.
func (d *dec) need(count, size int) bool {
	if d.err == nil && (count < 0 || count > len(d.b)/size) {
		d.err = fmt.Errorf("corrupt or truncated: %d items of %d bytes with %d bytes left", count, size, len(d.b))
	}
	return d.err == nil
}

func (d *dec) u64() uint64 {
	b := d.take(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

func (d *dec) int() int {
	v := d.u64()
	if v > math.MaxInt32 {
		if d.err == nil {
			d.err = fmt.Errorf("corrupt: count %d out of range", v)
		}
		return 0
	}
	return int(v)
}

func (d *dec) f64() float64 { return math.Float64frombits(d.u64()) }

func (d *dec) bool() bool {
	b := d.take(1)
	if b == nil {
		return false
	}
	if b[0] > 1 && d.err == nil {
		d.err = fmt.Errorf("corrupt: flag byte %d", b[0])
	}
	return b[0] == 1
}

func (d *dec) bytes() []byte {
	n := d.int()
	return d.take(n)
}

func (d *dec) str() string { return string(d.bytes()) }

func (d *dec) shape() tensor.Shape {
	n := d.int()
	if n > 8 {
		if d.err == nil {
			d.err = fmt.Errorf("corrupt: %d dimensions", n)
		}
		return nil
	}
	s := make(tensor.Shape, n)
	for i := range s {
		s[i] = d.int()
	}
	return s
}

func (d *dec) raw(n int) []byte { return d.take(n) }
