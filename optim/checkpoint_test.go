package optim_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
)

// ckptData is 60 rows of 12 binary pixels drawn from a fixed source: 6 minibatches of 10.
func ckptData(dt tensor.Dtype) *tensor.Dense {
	r := rand.New(rand.NewPCG(11, 12))
	v := make([]float64, 60*12)
	for i := range v {
		// Correlated pixels, so the model has something to learn.
		if r.Float64() < 0.2+0.6*float64((i/12)%2) {
			v[i] = 1
		}
	}
	return dense(dt, []int{60, 12}, v)
}

// ckptSettings are the settings of every run in these tests; only the seeds of the sources
// differ between an original run and a resumed one (the checkpoint restores them).
func ckptSettings(est optim.CD, epochs int, seed uint64) optim.Settings {
	return optim.Settings{
		Estimator: est, Epochs: epochs, BatchSize: 10,
		LearningRate: optim.InverseDecay{Rate: 0.1, Decay: 0.3}, Momentum: optim.Switch{Before: 0.5, After: 0.9, Epoch: 2},
		WeightDecay: 1e-3, MonitorRows: 20,
		Shuffle: rand.NewPCG(seed, 1), Chains: rand.NewPCG(seed, 2), Monitor: rand.NewPCG(seed, 3),
	}
}

func ckptModel(t testing.TB, dt tensor.Dtype, seed uint64) *models.RBM {
	m, err := models.NewRBM(12, 5, dt, rand.NewPCG(seed, 99))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// paramBits returns W, B and C as IEEE bit patterns of their float64 values (exact for float32).
func paramBits(m *models.RBM) []uint64 {
	var out []uint64
	for _, p := range []*tensor.Dense{m.W, m.B, m.C} {
		for _, v := range floats(p) {
			out = append(out, math.Float64bits(v))
		}
	}
	return out
}

func sameBits(t *testing.T, what string, got, want []uint64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: entry %d is %v, want %v (bit for bit)", what, i, math.Float64frombits(got[i]), math.Float64frombits(want[i]))
		}
	}
}

// sameRecords compares epoch records except the wall time.
func sameRecords(t *testing.T, what string, got, want []optim.EpochRecord) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		g.Seconds, w.Seconds = 0, 0
		if g.Validation != nil || w.Validation != nil {
			t.Fatalf("%s: unexpected validation metrics", what)
		}
		if g != w {
			t.Errorf("%s: record %d is %+v, want %+v", what, i, g, w)
		}
	}
}

// cancellingSource is a PCG that cancels a context after a number of draws: a Ctrl-C in the
// middle of an epoch. The sampling ops draw the same stream from it as from the plain PCG.
type cancellingSource struct {
	*rand.PCG
	draws, at int
	cancel    func()
}

func (s *cancellingSource) Uint64() uint64 {
	if s.draws++; s.draws == s.at {
		s.cancel()
	}
	return s.PCG.Uint64()
}

// TestCheckpointResumeIsBitIdentical trains 4 epochs without a break, then 2 epochs + a
// checkpoint + 2 resumed epochs, then a run cancelled in the middle of its second epoch and
// resumed from the checkpoint saved on cancellation; the resumed runs start from a model and
// sources of other seeds, which the checkpoint overwrites. Parameters must equal bit for bit and
// the epoch records (cost, metrics) must agree, for CD-1 and PCD-1 (7 chains), float64 and
// float32.
func TestCheckpointResumeIsBitIdentical(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		for _, est := range []optim.CD{{K: 1}, {K: 1, Persistent: true, Chains: 7}} {
			t.Run(dt.String()+"/"+est.String(), func(t *testing.T) {
				ctx := context.Background()
				data := ckptData(dt)
				ref := ckptModel(t, dt, 1)
				refRecs, err := optim.Train(ctx, ref, data, ckptSettings(est, 4, 1))
				if err != nil {
					t.Fatal(err)
				}
				want := paramBits(ref)

				// 2 epochs, checkpoint, resume for the other 2.
				path := filepath.Join(t.TempDir(), "run.ckpt")
				first := ckptModel(t, dt, 1)
				s := ckptSettings(est, 2, 1)
				s.Checkpoint, s.CheckpointEvery = path, 2
				if _, err := optim.Train(ctx, first, data, s); err != nil {
					t.Fatal(err)
				}
				resumed := ckptModel(t, dt, 7)
				s = ckptSettings(est, 4, 7)
				s.Resume = path
				recs, err := optim.Train(ctx, resumed, data, s)
				if err != nil {
					t.Fatal(err)
				}
				sameBits(t, "2 + 2 epochs", paramBits(resumed), want)
				sameRecords(t, "epochs 3-4 after resuming", recs, refRecs[2:])

				// Cancelled in epoch 2: 6 minibatches per epoch, so 3/8 of the draws of 4 epochs
				// falls in the middle of the second.
				counter := &cancellingSource{PCG: rand.NewPCG(1, 2), at: -1}
				s = ckptSettings(est, 4, 1)
				s.Chains = counter
				if _, err := optim.Train(ctx, ckptModel(t, dt, 1), data, s); err != nil {
					t.Fatal(err)
				}
				cctx, cancel := context.WithCancel(ctx)
				defer cancel()
				stopAt := &cancellingSource{PCG: rand.NewPCG(1, 2), at: counter.draws * 3 / 8, cancel: cancel}
				s = ckptSettings(est, 4, 1)
				s.Chains, s.Checkpoint = stopAt, filepath.Join(t.TempDir(), "cancel.ckpt")
				recs, err = optim.Train(cctx, ckptModel(t, dt, 1), data, s)
				if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "epoch 2 at minibatch") ||
					strings.Contains(err.Error(), "minibatch 1;") || !strings.Contains(err.Error(), "checkpoint saved to "+s.Checkpoint) {
					t.Fatalf("cancelled run: error %v; want context.Canceled inside epoch 2 naming the checkpoint", err)
				}
				if len(recs) != 1 {
					t.Fatalf("cancelled run returned %d records, want 1", len(recs))
				}
				resumed = ckptModel(t, dt, 9)
				r := ckptSettings(est, 4, 9)
				r.Resume = s.Checkpoint
				recs, err = optim.Train(ctx, resumed, data, r)
				if err != nil {
					t.Fatal(err)
				}
				sameBits(t, "cancelled in epoch 2 and resumed", paramBits(resumed), want)
				sameRecords(t, "epochs 2-4 after resuming mid-epoch", recs, refRecs[1:])

				// A checkpoint at or past Settings.Epochs: nothing left to run.
				r.Resume, r.Epochs = path, 2
				if recs, err := optim.Train(ctx, ckptModel(t, dt, 9), data, r); err != nil || len(recs) != 0 {
					t.Errorf("resuming a finished run: %d records, error %v", len(recs), err)
				}
			})
		}
	}
}

// TestB17PCDTrainerCheckpoint is case B17's "round-trip a PCD trainer": a PCD-1 trainer saved
// after one epoch and loaded into a fresh trainer (another model seed, other source seeds) has
// the same parameters, persistent chains, position and Chains/Shuffle source states, and the two
// continue identically. Loading into a trainer of another dtype, shape or estimator, and
// truncated, flipped, wrong-version and garbage files give errors and change nothing.
func TestB17PCDTrainerCheckpoint(t *testing.T) {
	ctx := context.Background()
	data := ckptData(tensor.Float64)
	est := optim.CD{K: 1, Persistent: true, Chains: 7}
	m := ckptModel(t, tensor.Float64, 1)
	s := ckptSettings(est, 2, 1)
	tr, err := optim.NewTrainer(m, 60, s)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if _, err := tr.Epochs(ctx, data, 1); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "pcd.ckpt")
	if err := tr.SaveCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	m2 := ckptModel(t, tensor.Float64, 5)
	s2 := ckptSettings(est, 2, 5)
	tr2, err := optim.NewTrainer(m2, 60, s2)
	if err != nil {
		t.Fatal(err)
	}
	defer tr2.Close()
	if err := tr2.LoadCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	sameBits(t, "parameters after load", paramBits(m2), paramBits(m))
	sameBits(t, "persistent chains after load", bitsOf(tr2.Chains()), bitsOf(tr.Chains()))
	if e, b := tr2.Position(); e != 1 || b != 0 {
		t.Errorf("position after load: epoch %d minibatch %d, want 1, 0", e, b)
	}
	for name, src := range map[string][2]*rand.PCG{"Chains": {s.Chains.(*rand.PCG), s2.Chains.(*rand.PCG)}, "Shuffle": {s.Shuffle.(*rand.PCG), s2.Shuffle.(*rand.PCG)}} {
		a, _ := src[0].MarshalBinary()
		b, _ := src[1].MarshalBinary()
		if !bytes.Equal(a, b) {
			t.Errorf("%s source state not restored", name)
		}
	}
	if _, err := tr.Epochs(ctx, data, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := tr2.Epochs(ctx, data, 1); err != nil {
		t.Fatal(err)
	}
	sameBits(t, "parameters one epoch later", paramBits(m2), paramBits(m))
	sameBits(t, "chains one epoch later", bitsOf(tr2.Chains()), bitsOf(tr.Chains()))

	// Mismatched trainers.
	for name, c := range map[string]struct {
		dt     tensor.Dtype
		hidden int
		est    optim.CD
		want   string
	}{
		"float32":  {tensor.Float32, 5, est, "float64"},
		"shape":    {tensor.Float64, 6, est, "parameter 0"},
		"CD":       {tensor.Float64, 5, optim.CD{K: 1}, "PCD-1"},
		"chains":   {tensor.Float64, 5, optim.CD{K: 1, Persistent: true, Chains: 3}, "chains"},
		"PCD-2":    {tensor.Float64, 5, optim.CD{K: 2, Persistent: true, Chains: 7}, "PCD-1"},
		"only CD1": {tensor.Float64, 5, optim.CD{K: 1, VisibleProbabilities: true}, "PCD-1"},
	} {
		mm, err := models.NewRBM(12, c.hidden, c.dt, rand.NewPCG(3, 3))
		if err != nil {
			t.Fatal(err)
		}
		tm, err := optim.NewTrainer(mm, 60, ckptSettings(c.est, 2, 3))
		if err != nil {
			t.Fatal(err)
		}
		before := paramBits(mm)
		err = tm.LoadCheckpoint(path)
		tm.Close()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v; want one mentioning %q", name, err, c.want)
		}
		sameBits(t, name+": parameters after a failed load", paramBits(mm), before)
	}
	tm, err := optim.NewTrainer(ckptModel(t, tensor.Float64, 3), 70, ckptSettings(est, 2, 3))
	if err != nil {
		t.Fatal(err)
	}
	if err := tm.LoadCheckpoint(path); err == nil || !strings.Contains(err.Error(), "60 training rows") {
		t.Errorf("70-row trainer: error %v", err)
	}
	tm.Close()

	// Bad files.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)-9] ^= 0x10
	version := append([]byte(nil), raw...)
	version[8] = 9
	junk := make([]byte, 10<<10)
	r := rand.New(rand.NewPCG(5, 6))
	for i := range junk {
		junk[i] = byte(r.Uint32())
	}
	before := paramBits(m2)
	chainsBefore := bitsOf(tr2.Chains())
	for name, c := range map[string]struct {
		b    []byte
		want string
	}{
		"half":        {raw[:len(raw)/2], "truncated"},
		"header only": {raw[:20], "truncated"},
		"no body":     {raw[:56], "truncated"},
		"flipped":     {flipped, "checksum"},
		"version":     {version, "version 9"},
		"garbage":     {junk, "not a training checkpoint"},
		"empty":       {nil, "not a training checkpoint"},
		"model file":  {append([]byte("EBMMODEL\x02\x00\x00\x00"), junk...), "not a training checkpoint"},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		if err := os.WriteFile(p, c.b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := tr2.LoadCheckpoint(p); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v; want one mentioning %q", name, err, c.want)
		}
	}
	sameBits(t, "parameters after failed loads", paramBits(m2), before)
	sameBits(t, "chains after failed loads", bitsOf(tr2.Chains()), chainsBefore)
	if err := tr2.LoadCheckpoint(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file: no error")
	}
}

func bitsOf(x *tensor.Dense) []uint64 {
	var out []uint64
	for _, v := range floats(x) {
		out = append(out, math.Float64bits(v))
	}
	return out
}

// opaqueSource is a Source whose state cannot be saved.
type opaqueSource struct{ rand.Source }

// TestCheckpointSettings checks the checkpoint settings' errors, the periodic checkpoint and the
// atomic replacement (no temporary file left behind).
func TestCheckpointSettings(t *testing.T) {
	data := ckptData(tensor.Float64)
	dir := t.TempDir()
	for name, mod := range map[string]func(*optim.Settings){
		"opaque chains": func(s *optim.Settings) {
			s.Chains = opaqueSource{rand.NewPCG(1, 1)}
			s.Checkpoint = filepath.Join(dir, "x")
		},
		"opaque resume": func(s *optim.Settings) {
			s.Shuffle = opaqueSource{rand.NewPCG(1, 1)}
			s.Resume = filepath.Join(dir, "x")
		},
		"opaque monitor": func(s *optim.Settings) {
			s.Monitor = opaqueSource{rand.NewPCG(1, 1)}
			s.Checkpoint = filepath.Join(dir, "x")
		},
		"every no file":  func(s *optim.Settings) { s.CheckpointEvery = 2 },
		"every < 0":      func(s *optim.Settings) { s.CheckpointEvery = -1; s.Checkpoint = filepath.Join(dir, "x") },
		"missing resume": func(s *optim.Settings) { s.Resume = filepath.Join(dir, "missing") },
		"bad folder":     func(s *optim.Settings) { s.Checkpoint, s.CheckpointEvery = filepath.Join(dir, "no", "such", "x"), 1 },
	} {
		s := ckptSettings(optim.CD{}, 2, 1)
		mod(&s)
		_, err := optim.Train(context.Background(), ckptModel(t, tensor.Float64, 1), data, s)
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if strings.HasPrefix(name, "opaque") && !strings.Contains(err.Error(), "BinaryMarshaler") {
			t.Errorf("%s: error %v should say the source must implement encoding.BinaryMarshaler", name, err)
		}
	}
	s := ckptSettings(optim.CD{}, 5, 1)
	s.Checkpoint, s.CheckpointEvery = filepath.Join(dir, "every2.ckpt"), 2
	saved := 0
	s.OnEpoch = func(r optim.EpochRecord) error {
		if _, err := os.Stat(s.Checkpoint); err == nil && r.Epoch >= 2 {
			saved++
		}
		return nil
	}
	if _, err := optim.Train(context.Background(), ckptModel(t, tensor.Float64, 1), data, s); err != nil {
		t.Fatal(err)
	}
	tr, err := optim.NewTrainer(ckptModel(t, tensor.Float64, 2), 60, ckptSettings(optim.CD{}, 5, 2))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if err := tr.LoadCheckpoint(s.Checkpoint); err != nil {
		t.Fatal(err)
	}
	if e, b := tr.Position(); e != 4 || b != 0 || saved != 4 {
		t.Errorf("checkpoint every 2 of 5 epochs: holds epoch %d minibatch %d (want 4, 0); file present after %d epochs (want 4)", e, b, saved)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// FuzzReadCheckpoint feeds arbitrary checkpoint bodies, with a valid header and checksum so that
// the decoder itself is exercised, and arbitrary whole files: never a panic, and a body that
// loads must leave finite-length state the trainer can write again.
func FuzzReadCheckpoint(f *testing.F) {
	data := ckptData(tensor.Float64)
	est := optim.CD{K: 1, Persistent: true, Chains: 7}
	m := ckptModel(f, tensor.Float64, 1)
	tr, err := optim.NewTrainer(m, 60, ckptSettings(est, 2, 1))
	if err != nil {
		f.Fatal(err)
	}
	defer tr.Close()
	if _, err := tr.Epochs(context.Background(), data, 1); err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tr.WriteCheckpoint(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes()[56:], false)
	f.Add(buf.Bytes(), true)
	f.Fuzz(func(t *testing.T, b []byte, whole bool) {
		file := b
		if !whole {
			sum := sha256.Sum256(b)
			file = binary.LittleEndian.AppendUint32([]byte("EBMCKPT\n"), 1)
			file = binary.LittleEndian.AppendUint32(file, 0)
			file = binary.LittleEndian.AppendUint64(file, uint64(len(b)))
			file = append(file, sum[:]...)
			file = append(file, b...)
		}
		if err := tr.ReadCheckpoint(bytes.NewReader(file)); err == nil {
			if err := tr.WriteCheckpoint(&bytes.Buffer{}); err != nil {
				t.Fatalf("loaded, but cannot write back: %v", err)
			}
		}
	})
}
