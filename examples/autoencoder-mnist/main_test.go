package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
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

// TestPCA checks the PCA baseline on 800 training images: with all 784 components the test
// images are reconstructed exactly; with k components the mean squared error on the training
// images is the sum of the discarded variances (stat.PC's, times (N-1)/N), and it falls as k grows.
func TestPCA(t *testing.T) {
	train, err := data(t).Train.Matrix(800, tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	test, err := data(t).Test.Matrix(200, tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	full, err := fitPCA(train, 784)
	if err != nil {
		t.Fatal(err)
	}
	if e := full.squaredError(floats(test)); !(e < 1e-20*784) {
		t.Errorf("PCA with all 784 components: squared error %v per image; want 0", e)
	}
	vars := full.vars
	prev := math.Inf(1)
	for _, k := range []int{1, 2, 10, 30, 100} {
		p, err := full.withK(k)
		if err != nil {
			t.Fatal(err)
		}
		rest := 0.0
		for _, v := range vars[k:] {
			rest += v
		}
		want := rest * 799 / 800
		got := p.squaredError(floats(train))
		if math.Abs(got-want) > 1e-9*want {
			t.Errorf("PCA-%d: training squared error %v; the discarded variance gives %v", k, got, want)
		}
		te := p.squaredError(floats(test))
		if !(te < prev) {
			t.Errorf("PCA-%d: test error %v not below %v", k, te, prev)
		}
		prev = te
	}
	if _, err := fitPCA(tensor.New(tensor.WithShape(5, 784), tensor.WithBacking(make([]float64, 5*784))), 30); err == nil {
		t.Error("30 components of 5 images gave no error")
	}
}

func small(out string) config {
	c := defaults()
	c.sizes, c.pretrainEpochs, c.finetuneEpochs, c.batch, c.finetuneBatch = "64,32,4", 3, 5, 20, 20
	c.train, c.testRows, c.codeLR, c.lr = 600, 300, 0.01, 0.003
	c.out, c.jsonOut = out, true
	return c
}

func summary(t *testing.T, b []byte) Summary {
	t.Helper()
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	return s
}

// TestSmallRun runs the example end to end on 600 training and 300 test images with a
// 784-64-32-4 autoencoder: fine-tuning lowers the test error below the pretrained stack's, the
// PCA-4 figure equals fitPCA's, beats_pca says which is lower, the PNGs decode, and fine-tuning the
// saved stack again with -pretrained reproduces the run.
func TestSmallRun(t *testing.T) {
	dir := t.TempDir()
	c := small(dir)
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), c, data(t), &stdout, &stderr, nil); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	s := summary(t, stdout.Bytes())
	if len(s.Sizes) != 4 || s.CodeSize != 4 || s.TrainRows != 600 || s.TestRows != 300 || len(s.Pretraining) != 3 || len(s.Finetuning) != 5 {
		t.Fatalf("summary %+v", s)
	}
	if !(s.AutoencoderError < s.PretrainedError) || !(s.AutoencoderError > 0) {
		t.Errorf("test error %v after fine-tuning, %v before", s.AutoencoderError, s.PretrainedError)
	}
	if math.Abs(s.AutoencoderPerPix*784-s.AutoencoderError) > 1e-9*s.AutoencoderError {
		t.Errorf("per-pixel error %v is not %v/784", s.AutoencoderPerPix, s.AutoencoderError)
	}
	train, _ := data(t).Train.Matrix(600, tensor.Float64)
	test, _ := data(t).Test.Matrix(300, tensor.Float64)
	p, err := fitPCA(train, 4)
	if err != nil {
		t.Fatal(err)
	}
	// The example fits PCA on the float32 images (k/255 rounded to float32): equal to ~1e-8.
	if want := p.squaredError(floats(test)); math.Abs(s.PCAError-want) > 1e-6*want || s.PCARows != 600 {
		t.Errorf("PCA-4 error %v on %d rows; fitPCA gives %v", s.PCAError, s.PCARows, want)
	}
	if s.BeatsPCA != (s.AutoencoderError < s.PCAError) {
		t.Errorf("beats_pca %v for %v vs %v", s.BeatsPCA, s.AutoencoderError, s.PCAError)
	}
	for _, f := range []string{s.Reconstructions, s.Codes, s.PCAScatter} {
		r, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(r)
		r.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if b := img.Bounds(); b.Dx() < 100 {
			t.Errorf("%s is %v", f, b)
		}
	}
	c2 := small(t.TempDir())
	c2.pretrained = dir
	stdout.Reset()
	if err := run(context.Background(), c2, data(t), &stdout, &stderr, nil); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if s2 := summary(t, stdout.Bytes()); s2.PretrainedError != s.PretrainedError || s2.AutoencoderError != s.AutoencoderError || len(s2.Pretraining) != 0 {
		t.Errorf("-pretrained: errors %v, %v; the run gave %v, %v", s2.PretrainedError, s2.AutoencoderError, s.PretrainedError, s.AutoencoderError)
	}
}

// TestBadFlags checks that bad flag values give errors naming them.
func TestBadFlags(t *testing.T) {
	for name, tc := range map[string]struct {
		mod  func(*config)
		want string
	}{
		"dtype":      {func(c *config) { c.dtype = "int8" }, "-dtype"},
		"sizes":      {func(c *config) { c.sizes = "64,x" }, "-sizes"},
		"solver":     {func(c *config) { c.solver = "cg" }, "-solver"},
		"validation": {func(c *config) { c.validation = 600 }, "-validation"},
		"pretrained": {func(c *config) { c.pretrained = filepath.Join(t.TempDir(), "none") }, "model.dbn"},
		"epochs":     {func(c *config) { c.pretrainEpochs = 0 }, "-pretrain-epochs"},
	} {
		c := small(t.TempDir())
		tc.mod(&c)
		var out bytes.Buffer
		if err := run(context.Background(), c, data(t), &out, &out, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v; want one containing %q", name, err, tc.want)
		}
	}
}
