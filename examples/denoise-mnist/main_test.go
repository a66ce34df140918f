package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/models"
)

var (
	mnistOnce sync.Once
	mnist     *datasets.MNIST
	mnistErr  error
)

func data(t *testing.T) *datasets.MNIST {
	t.Helper()
	mnistOnce.Do(func() { mnist, mnistErr = datasets.LoadMNIST("") })
	if mnistErr != nil {
		t.Fatal(mnistErr)
	}
	return mnist
}

func small(out string) config {
	c := defaults()
	c.hidden, c.epochs, c.train, c.testRows, c.batch = 64, 3, 600, 200, 20
	c.rates, c.blocks, c.steps, c.show = "0,0.2,0.5", "10", 5, 4
	c.out, c.jsonOut = out, true
	return c
}

// TestSmallRun trains a 784×64 RBM on 600 images, corrupts 200 test images and checks the
// summary's real values: at rate 0 nothing is corrupted (corrupted and clamped errors are 0) and
// the one-step blind reconstruction error is the model's plain reconstruction error; at the
// other rates and for the block the clamped reconstruction is closer to the clean digits than the
// corrupted input; the PNGs decode with 4 rows of tiles; the saved model loads and gives the same
// figures with -model.
func TestSmallRun(t *testing.T) {
	dir := t.TempDir()
	c := small(dir)
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), c, data(t), &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var s Summary
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	if len(s.Results) != 4 || s.TestRows != 200 || s.Hidden != 64 || !s.Trained {
		t.Fatalf("summary %+v", s)
	}
	r0 := s.Results[0]
	if r0.Unknown != 0 || r0.Corrupted != 0 || r0.Clamped != 0 || r0.MeanFill != 0 {
		t.Errorf("rate 0: %+v; want no unknown pixels and zero corrupted, mean-fill and clamped errors", r0)
	}
	if math.Abs(r0.Blind-s.ReconError) > 1e-9*s.ReconError || !(s.ReconError > 0) {
		t.Errorf("rate 0: blind error %v; the plain reconstruction error is %v", r0.Blind, s.ReconError)
	}
	for _, r := range s.Results[1:] {
		if !(r.Unknown > 0) || !(r.Clamped < r.Corrupted) || !r.ClampedBetter {
			t.Errorf("%s %g/%d: unknown %v, clamped %v, corrupted %v", r.Corruption, r.Rate, r.Block, r.Unknown, r.Clamped, r.Corrupted)
		}
		if math.Abs(r.ClampedPerPixel*784-r.Clamped) > 1e-9*r.Clamped {
			t.Errorf("per-pixel error %v is not %v/784", r.ClampedPerPixel, r.Clamped)
		}
	}
	// Salt and pepper at rate 0.5 replaces about half the pixels.
	if u := s.Results[2].Unknown; math.Abs(u-392) > 10 {
		t.Errorf("rate 0.5: %v unknown pixels per image; want ≈ 392", u)
	}
	if u := s.Results[3].Unknown; u != 100 {
		t.Errorf("10×10 block: %v unknown pixels per image; want 100", u)
	}
	if !s.AllClampedBetter {
		t.Error("all_clamped_better is false")
	}
	for _, r := range s.Results {
		f, err := os.Open(r.PNG)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", r.PNG, err)
		}
		if b := img.Bounds(); b.Dx() != 2*(4*29+1) || b.Dy() != 2*(4*29+1) {
			t.Errorf("%s is %v; want 4×4 tiles enlarged twice", r.PNG, b)
		}
	}

	c2 := small(t.TempDir())
	c2.model = s.Model
	stdout.Reset()
	if err := run(context.Background(), c2, data(t), &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var s2 Summary
	if err := json.Unmarshal(stdout.Bytes(), &s2); err != nil {
		t.Fatal(err)
	}
	if s2.Trained || s2.ReconError != s.ReconError || s2.Results[1].Clamped != s.Results[1].Clamped {
		t.Errorf("-model: recon %v clamped %v; the run gave %v %v", s2.ReconError, s2.Results[1].Clamped, s.ReconError, s.Results[1].Clamped)
	}
}

// TestRestore checks Restore on a random RBM: the known pixels stay exactly at their values, an
// all-known mask returns the input, and one blind step is the model's Reconstruct.
func TestRestore(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		m, err := models.NewRBM(784, 20, dt, rand.NewPCG(3, 4))
		if err != nil {
			t.Fatal(err)
		}
		// Larger weights than the initial 0.01 so that the reconstruction differs from the biases.
		w := m.W.Data()
		r := rand.New(rand.NewPCG(5, 6))
		switch w := w.(type) {
		case []float32:
			for i := range w {
				w[i] = float32(r.NormFloat64())
			}
		case []float64:
			for i := range w {
				w[i] = r.NormFloat64()
			}
		}
		test, err := data(t).Test.Matrix(30, dt)
		if err != nil {
			t.Fatal(err)
		}
		clean := floats(test)
		noisy, mask := saltAndPepper(clean, 0.3, r)
		out, err := Restore(m, noisy, mask, 4)
		if err != nil {
			t.Fatal(err)
		}
		changed := 0
		for i := range out {
			if mask[i] == 1 && out[i] != noisy[i] {
				t.Fatalf("%v: clamped pixel %d is %v; the known value is %v", dt, i, out[i], noisy[i])
			}
			if mask[i] == 0 && out[i] != noisy[i] {
				changed++
			}
		}
		if changed == 0 {
			t.Errorf("%v: no unknown pixel changed", dt)
		}
		ones := make([]float64, len(mask))
		for i := range ones {
			ones[i] = 1
		}
		same, err := Restore(m, clean, ones, 2)
		if err != nil {
			t.Fatal(err)
		}
		for i := range same {
			if same[i] != clean[i] {
				t.Fatalf("%v: all-known mask changed pixel %d: %v → %v", dt, i, clean[i], same[i])
			}
		}
		blind, err := Restore(m, clean, nil, 1)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := m.Reconstruct(test)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range floats(rec) {
			if blind[i] != v {
				t.Fatalf("%v: blind step pixel %d = %v; Reconstruct gives %v", dt, i, blind[i], v)
			}
		}
	}
	m, _ := models.NewRBM(784, 5, tensor.Float64, rand.NewPCG(1, 1))
	if _, err := Restore(m, make([]float64, 700), nil, 1); err == nil || !strings.Contains(err.Error(), "784") {
		t.Errorf("short input: %v", err)
	}
	if _, err := Restore(m, make([]float64, 784), make([]float64, 3), 1); err == nil || !strings.Contains(err.Error(), "mask") {
		t.Errorf("short mask: %v", err)
	}
}

// TestBadFlags checks that bad flag values give errors naming them.
func TestBadFlags(t *testing.T) {
	for name, tc := range map[string]struct {
		mod  func(*config)
		want string
	}{
		"dtype": {func(c *config) { c.dtype = "int8" }, "-dtype"},
		"rate":  {func(c *config) { c.rates = "0.1,1.5" }, "-rates"},
		"block": {func(c *config) { c.blocks = "30" }, "-blocks"},
		"none":  {func(c *config) { c.rates, c.blocks = "", "" }, "nothing to corrupt"},
		"steps": {func(c *config) { c.steps = 0 }, "-steps"},
		"model": {func(c *config) { c.model = filepath.Join(t.TempDir(), "missing.rbm") }, "missing.rbm"},
	} {
		c := small(t.TempDir())
		tc.mod(&c)
		var out bytes.Buffer
		if err := run(context.Background(), c, data(t), &out, &out); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v; want one containing %q", name, err, tc.want)
		}
	}
}
