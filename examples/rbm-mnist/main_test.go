package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// TestSmallRun runs the example end to end on 500 MNIST images with a 784×16 RBM and checks the
// JSON summary, the PNG mosaics and the saved model.
func TestSmallRun(t *testing.T) {
	dir := t.TempDir()
	c := config{epochs: 2, hidden: 16, k: 1, batch: 50, train: 500, evalRows: 200, sampleSteps: 3,
		jsonOut: true, vbias: true, vprob: true, lr: 0.1, momentum: 0.9, weightDecay: 2e-4, seed: 1,
		dtype: "float32", out: dir, binarize: "none"}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), c, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var s Summary
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, stdout.String())
	}
	if s.Epochs != 2 || len(s.History) != 2 || s.TrainImages != 500 || s.EvalRows != 200 {
		t.Errorf("summary %+v", s)
	}
	if !(s.SecondsPerEpoch > 0) || !(s.TestPseudoLikelihood < 0) || !(s.TestReconCrossEntropy > 0) {
		t.Errorf("metrics: seconds/epoch %v, PL %v, recon CE %v", s.SecondsPerEpoch, s.TestPseudoLikelihood, s.TestReconCrossEntropy)
	}
	// 784 bits at ln 2 each is the pseudo-likelihood of a model that knows nothing.
	if s.TestPseudoLikelihood < -784*0.6931 {
		t.Errorf("test pseudo-likelihood %v is no better than chance (%v)", s.TestPseudoLikelihood, -784*0.6931)
	}
	for _, name := range []string{"filters.png", "samples.png"} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b := img.Bounds(); b.Dx() < 28 || b.Dy() < 28 {
			t.Errorf("%s is %v", name, b)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "model.rbm")); err != nil {
		t.Error(err)
	}
}

// TestBadFlags checks that bad flag values give errors.
func TestBadFlags(t *testing.T) {
	base := config{epochs: 1, hidden: 4, k: 1, batch: 10, train: 20, evalRows: 10, sampleSteps: 1, lr: 0.1, seed: 1, dtype: "float32", binarize: "none", out: t.TempDir()}
	for name, mod := range map[string]func(*config){
		"dtype":    func(c *config) { c.dtype = "int8" },
		"binarize": func(c *config) { c.binarize = "maybe" },
		"hidden":   func(c *config) { c.hidden = 0 },
		"epochs":   func(c *config) { c.epochs = 0 },
		"data":     func(c *config) { c.data = filepath.Join(t.TempDir(), "missing") },
	} {
		c := base
		mod(&c)
		var out bytes.Buffer
		if err := run(context.Background(), c, &out, &out); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
