package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/models"
)

var (
	mnistOnce sync.Once
	mnist     *datasets.MNIST
	mnistErr  error
)

// data loads MNIST once for all tests.
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
	c.hidden, c.pretrainEpochs, c.finetuneEpochs = "16,12", 5, 5
	c.train, c.validation, c.testRows, c.sampleSteps, c.batch = 600, 100, 200, 3, 20
	c.lr, c.jsonOut, c.out = 1, true, out
	return c
}

func readSummary(t *testing.T, out []byte) Summary {
	t.Helper()
	var s Summary
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, out)
	}
	var raw map[string]any
	json.Unmarshal(out, &raw)
	for _, k := range []string{"test_error", "val_error", "pretrain_seconds", "finetune_seconds"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("JSON summary lacks %q", k)
		}
	}
	return s
}

func decodePNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() < 28 || b.Dy() < 28 {
		t.Errorf("%s is %v", path, b)
	}
}

// TestSmallRun runs the example end to end on 600 MNIST images with a 784-16-12 DBN, then a
// fine-tuning run from the saved DBN and the baseline with -refit, checking the JSON summaries,
// the PNG mosaics and the saved model.
func TestSmallRun(t *testing.T) {
	dir := t.TempDir()
	c := small(dir)
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), c, data(t), &stdout, &stderr, nil); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	s := readSummary(t, stdout.Bytes())
	if len(s.Sizes) != 4 || s.Sizes[0] != 784 || s.Sizes[1] != 16 || s.Sizes[2] != 12 || s.Sizes[3] != 10 {
		t.Errorf("sizes %v", s.Sizes)
	}
	if s.TrainRows != 500 || s.ValidRows != 100 || s.TestRows != 200 || len(s.Pretraining) != 2 || s.FinetuneEpochs != 5 || s.Baseline {
		t.Errorf("summary %+v", s)
	}
	// Ten classes: chance is 90% error; five epochs on 500 images do far better (≈ 33%).
	if !(s.TestError < 0.6) || !(s.ValError < 0.6) || !(s.PretrainSeconds > 0) || !(s.FinetuneSeconds > 0) {
		t.Errorf("test error %v, validation error %v, seconds %v / %v", s.TestError, s.ValError, s.PretrainSeconds, s.FinetuneSeconds)
	}
	for _, name := range []string{"filters.png", "finetuned-filters.png", "samples.png"} {
		decodePNG(t, filepath.Join(dir, name))
	}
	d, err := models.LoadDBN(filepath.Join(dir, "model.dbn"))
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Sizes(); len(got) != 3 || got[2] != 12 {
		t.Errorf("saved DBN sizes %v", got)
	}

	// Fine-tuning the saved DBN with the same seeds reproduces the run's result exactly.
	c2 := small(t.TempDir())
	c2.load = filepath.Join(dir, "model.dbn")
	stdout.Reset()
	if err := run(context.Background(), c2, data(t), &stdout, &stderr, nil); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if s2 := readSummary(t, stdout.Bytes()); s2.TestError != s.TestError || s2.ValError != s.ValError || len(s2.Pretraining) != 0 {
		t.Errorf("fine-tuning the saved DBN: test error %v, validation %v; the run gave %v, %v", s2.TestError, s2.ValError, s.TestError, s.ValError)
	}

	c3 := small(t.TempDir())
	c3.baseline, c3.refit = true, true
	stdout.Reset()
	if err := run(context.Background(), c3, data(t), &stdout, &stderr, nil); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	s3 := readSummary(t, stdout.Bytes())
	if !s3.Baseline || s3.PretrainSeconds != 0 || len(s3.Pretraining) != 0 || s3.Samples != "" || !(s3.TestError < 0.9) {
		t.Errorf("baseline summary %+v", s3)
	}
	if s3.RefitTestError == nil || !(*s3.RefitTestError < 0.9) || !(s3.RefitSeconds > 0) {
		t.Errorf("refit: test error %v, %v s", s3.RefitTestError, s3.RefitSeconds)
	}
	decodePNG(t, filepath.Join(c3.out, "filters.png"))
}

// TestBadFlags checks that bad flag values give errors naming them.
func TestBadFlags(t *testing.T) {
	for name, tc := range map[string]struct {
		mod  func(*config)
		want string
	}{
		"dtype":      {func(c *config) { c.dtype = "int8" }, "-dtype"},
		"hidden":     {func(c *config) { c.hidden = "500,x" }, "-hidden"},
		"zero":       {func(c *config) { c.hidden = "500,0" }, "-hidden"},
		"solver":     {func(c *config) { c.solver = "lbfgs" }, "-solver"},
		"epochs":     {func(c *config) { c.finetuneEpochs = 0 }, "epoch"},
		"validation": {func(c *config) { c.validation = 600 }, "-validation"},
		"dbn":        {func(c *config) { c.load = filepath.Join(t.TempDir(), "missing.dbn") }, "missing.dbn"},
		"both":       {func(c *config) { c.load, c.baseline = "x.dbn", true }, "-baseline and -dbn"},
	} {
		c := small(t.TempDir())
		tc.mod(&c)
		var out bytes.Buffer
		if err := run(context.Background(), c, data(t), &out, &out, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v; want one containing %q", name, err, tc.want)
		}
	}
}

// TestGaussianRun: -gaussian pretrains a DBN with a Gaussian–Bernoulli bottom layer on
// standardised pixels, fine-tunes far below chance, writes its PNGs and a model file that holds
// the Gaussian layer and its standardiser; fine-tuning that file again reproduces the result, and
// loading it without -gaussian is an error that names the flag.
func TestGaussianRun(t *testing.T) {
	dir := t.TempDir()
	c := small(dir)
	c.gaussian = true
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), c, data(t), &stdout, &stderr, nil); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	s := readSummary(t, stdout.Bytes())
	if !s.Gaussian || len(s.Pretraining) != 2 || !(s.TestError < 0.6) {
		t.Errorf("summary: gaussian %v, %d pretraining records, test error %v", s.Gaussian, len(s.Pretraining), s.TestError)
	}
	for _, name := range []string{"filters.png", "finetuned-filters.png", "samples.png"} {
		decodePNG(t, filepath.Join(dir, name))
	}
	d, err := models.LoadDBN(filepath.Join(dir, "model.dbn"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Gaussian == nil || d.Gaussian.Standardizer == nil || len(d.Layers) != 1 {
		t.Fatalf("saved DBN: Gaussian %v, layers %d", d.Gaussian, len(d.Layers))
	}
	c2 := small(t.TempDir())
	c2.gaussian, c2.load = true, filepath.Join(dir, "model.dbn")
	stdout.Reset()
	if err := run(context.Background(), c2, data(t), &stdout, &stderr, nil); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if s2 := readSummary(t, stdout.Bytes()); s2.TestError != s.TestError || s2.ValError != s.ValError {
		t.Errorf("fine-tuning the saved Gaussian DBN: test error %v, validation %v; the run gave %v, %v", s2.TestError, s2.ValError, s.TestError, s.ValError)
	}
	c3 := small(t.TempDir())
	c3.load = filepath.Join(dir, "model.dbn")
	if err := run(context.Background(), c3, data(t), &stdout, &stderr, nil); err == nil || !strings.Contains(err.Error(), "-gaussian=true") {
		t.Errorf("loading a Gaussian DBN without -gaussian: %v", err)
	}
}
