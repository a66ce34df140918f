package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSmallVideo runs the example on a small bouncing-balls set and checks the summary: the
// CRBM predicts the next frame better than repeating the last one, and the strip and model are
// written. (The full default run, which also beats the linear AR baseline, is in the note.)
func TestSmallVideo(t *testing.T) {
	dir := t.TempDir()
	c := config{size: 8, balls: 1, trainSeqs: 30, testSeqs: 5, frames: 20, order: 2, hidden: 40, epochs: 15, batch: 20,
		predictSteps: 3, burn: 2, samples: 5, lr: 0.05, seed: 1, out: dir, jsonOut: true}
	var out, log bytes.Buffer
	if err := run(context.Background(), c, &out, &log); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	var s Summary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	if !(s.CRBMMSE < s.RepeatLastMSE) || math.IsNaN(s.LinearARMSE) {
		t.Errorf("summary %+v", s)
	}
	for _, f := range []string{"generated.png", "model.crbm"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

// TestCSVSeries runs the Gaussian path on a generated 3-column AR(2) series.
func TestCSVSeries(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("x,y,z\n")
	r := rand.New(rand.NewPCG(3, 4))
	x, y := 0.0, 0.0
	for i := 0; i < 600; i++ {
		x, y = 0.9*x-0.5*y+0.1*r.NormFloat64(), x
		fmt.Fprintf(&b, "%g,%g,%g\n", 10*x, y, x+y)
	}
	path := filepath.Join(dir, "s.csv")
	os.WriteFile(path, []byte(b.String()), 0o644)
	c := config{order: 2, hidden: 10, epochs: 10, batch: 20, predictSteps: 3, burn: 2, samples: 5, lr: 0.001, seed: 1, out: dir, csv: path, jsonOut: true}
	var out, log bytes.Buffer
	if err := run(context.Background(), c, &out, &log); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	var s Summary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	if s.Visible != 3 || s.TestRows == 0 || math.IsNaN(s.CRBMMSE) {
		t.Errorf("summary %+v", s)
	}
}
