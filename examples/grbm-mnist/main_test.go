package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
