package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebm-go/ebm/optim"
)

// TestMNIST runs the example on 500 images and checks that the reconstructions beat predicting
// the mean and that the pictures are written.
func TestMNIST(t *testing.T) {
	dir := t.TempDir()
	c := config{epochs: 2, hidden: 32, batch: 50, train: 500, k: 1, lr: 0.005, minStd: 0.1, seed: 1, out: dir, jsonOut: true}
	var out, log bytes.Buffer
	if err := run(context.Background(), c, &out, &log); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	var s Summary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	if !(s.TestReconMSE < s.BaselineMSE) {
		t.Errorf("reconstruction MSE %v is not below the mean predictor's %v", s.TestReconMSE, s.BaselineMSE)
	}
	for _, f := range []string{"filters.png", "reconstructions.png", "samples.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

// TestCSV runs the example on a generated CSV of two noisy clusters in 5 columns on very
// different scales, with σ learned.
func TestCSV(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "data.csv")
	var b strings.Builder
	b.WriteString("a,b,c,d,e\n")
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 500; i++ {
		s := float64(2*(i%2) - 1)
		fmt.Fprintf(&b, "%g,%g,%g,%g,%g\n", 1000*s+100*r.NormFloat64(), s+0.1*r.NormFloat64(), -s+0.1*r.NormFloat64(), 0.01*s+0.001*r.NormFloat64(), r.NormFloat64())
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	c := config{epochs: 20, hidden: 4, batch: 20, k: 1, lr: 0.01, learnSigma: true, seed: 1, csv: path, out: dir, jsonOut: true}
	var out, log bytes.Buffer
	if err := run(context.Background(), c, &out, &log); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	var s Summary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	if s.Rows != 400 || s.Columns != 5 || !(s.TestReconMSE < s.BaselineMSE) {
		t.Errorf("summary %+v", s)
	}
}

// TestInterruptAndResume trains a GB-RBM with learned σ on a generated CSV, cancels after the
// second of 4 epochs (a Ctrl-C), resumes from the checkpoint and checks that the summary (test
// reconstruction error, mean σ) equals an uninterrupted run's exactly.
func TestInterruptAndResume(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "data.csv")
	var b strings.Builder
	b.WriteString("a,b,c\n")
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 300; i++ {
		s := float64(2*(i%2) - 1)
		fmt.Fprintf(&b, "%g,%g,%g\n", 10*s+r.NormFloat64(), s+0.1*r.NormFloat64(), r.NormFloat64())
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	base := config{epochs: 4, hidden: 3, batch: 20, k: 1, lr: 0.01, learnSigma: true, seed: 1, csv: path, jsonOut: true}
	summary := func(c config) Summary {
		var out, log bytes.Buffer
		if err := run(context.Background(), c, &out, &log); err != nil {
			t.Fatalf("%v\n%s", err, log.String())
		}
		var s Summary
		if err := json.Unmarshal(out.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	whole := base
	whole.out = t.TempDir()
	want := summary(whole)

	cut := base
	cut.out = t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cut.onEpoch = func(r optim.EpochRecord) {
		if r.Epoch == 2 {
			cancel()
		}
	}
	var out bytes.Buffer
	err := run(ctx, cut, &out, &out)
	var in *interrupted
	ckpt := filepath.Join(cut.out, "checkpoint.ckpt")
	if !errors.As(err, &in) || !errors.Is(err, context.Canceled) || in.path != ckpt {
		t.Fatalf("cancelled run: %v; want an interrupted error naming %s", err, ckpt)
	}
	resumed := cut
	resumed.onEpoch, resumed.resume, resumed.seed = nil, ckpt, 99 // the checkpoint restores the model and sources
	got := summary(resumed)
	if got.TestReconMSE != want.TestReconMSE || got.MeanSigma != want.MeanSigma {
		t.Errorf("resumed: recon MSE %v, mean σ %v; uninterrupted %v, %v", got.TestReconMSE, got.MeanSigma, want.TestReconMSE, want.MeanSigma)
	}
	if cmd := resumeCommand([]string{"grbm-mnist", "-resume=x", "-epochs", "4"}, ckpt); cmd != "go run ./examples/grbm-mnist -epochs 4 -resume "+ckpt {
		t.Errorf("resume command %q", cmd)
	}
}
