package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/models"
	"github.com/ebm-go/ebm/optim"
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
		"eval":     func(c *config) { c.eval = "maybe" },
		"eval exact too large": func(c *config) {
			c.eval, c.hidden, c.binarize = "exact", 40, "threshold"
		},
		"eval grey images":    func(c *config) { c.eval = "exact" },
		"ais runs":            func(c *config) { c.eval, c.aisRuns, c.binarize = "ais", 1, "threshold" },
		"ais distributions":   func(c *config) { c.eval, c.aisRuns, c.aisDistributions, c.binarize = "ais", 10, 1, "threshold" },
		"reverse without ais": func(c *config) { c.eval, c.reverseRows, c.binarize = "exact", 5, "threshold" },
		"raise chains": func(c *config) {
			c.eval, c.aisRuns, c.reverseRows, c.raiseChains, c.binarize = "ais", 10, 5, 0, "threshold"
		},
		"load missing": func(c *config) { c.load = filepath.Join(t.TempDir(), "missing.rbm") },
	} {
		c := base
		mod(&c)
		var out bytes.Buffer
		if err := run(context.Background(), c, &out, &out); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestEvalRun trains a 784×12 RBM on 500 thresholded images with -eval exact,ais and reverse AIS,
// and checks the summary against models.RBM's own exact log Z and log-likelihood of the saved
// model; then -load evaluates the saved model again with AIS alone.
func TestEvalRun(t *testing.T) {
	dir := t.TempDir()
	c := config{epochs: 2, hidden: 12, k: 1, batch: 50, train: 500, evalRows: 200, sampleSteps: 3,
		jsonOut: true, vbias: true, vprob: true, lr: 0.1, momentum: 0.9, weightDecay: 2e-4, seed: 1,
		dtype: "float32", out: dir, binarize: "threshold",
		eval: "exact,ais", aisRuns: 10, aisDistributions: 300, reverseRows: 10, raiseChains: 2}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), c, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var s Summary
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, stdout.String())
	}
	if s.LogZMethod != "exact" || s.TestLogLikelihood == nil || s.LogZ == nil || s.LogZStdErr == nil || *s.LogZStdErr != 0 || s.AIS == nil || s.ReverseAIS == nil {
		t.Fatalf("likelihood fields missing: %s", stdout.String())
	}
	m, err := models.LoadRBM(filepath.Join(dir, "model.rbm"))
	if err != nil {
		t.Fatal(err)
	}
	logZ, err := m.ExactLogZ()
	if err != nil {
		t.Fatal(err)
	}
	mn, err := datasets.LoadMNIST("")
	if err != nil {
		t.Fatal(err)
	}
	test, err := mn.Test.Matrix(200, tensor.Float32)
	if err != nil {
		t.Fatal(err)
	}
	if test, err = datasets.Threshold(test, 0.5); err != nil {
		t.Fatal(err)
	}
	ll, err := m.LogLikelihood(test)
	if err != nil {
		t.Fatal(err)
	}
	mean := 0.0
	for _, v := range ll {
		mean += v / float64(len(ll))
	}
	if math.Abs(*s.LogZ-logZ) > 1e-9*math.Abs(logZ) || math.Abs(*s.TestLogLikelihood-mean) > 1e-6*math.Abs(mean) {
		t.Errorf("summary log Z %.6f, test log-likelihood %.6f; models.RBM gives %.6f, %.6f", *s.LogZ, *s.TestLogLikelihood, logZ, mean)
	}
	if mean > 0 || mean < -784*math.Ln2 {
		t.Errorf("test log-likelihood %.2f is outside [-784 ln 2, 0]", mean)
	}
	if math.Abs(s.AIS.LogZ-logZ) > 0.3 || s.AIS.Runs != 10 || s.AIS.Distributions != 300 || s.AIS.LogZLower == nil {
		t.Errorf("AIS %+v, exact log Z %.4f", *s.AIS, logZ)
	}
	if r := s.ReverseAIS; r.Rows != 10 || r.RunsPerRow != 2 || math.Abs(r.LogZ-logZ) > 1 || math.Abs(r.RAISELogLikelihood-r.AISLogLikelihoodSameRows) > 1 {
		t.Errorf("reverse AIS %+v, exact log Z %.4f", *r, logZ)
	}

	// Evaluate the saved model again, with AIS only.
	c.load, c.eval, c.reverseRows, c.out = filepath.Join(dir, "model.rbm"), "ais", 0, t.TempDir()
	stdout.Reset()
	if err := run(context.Background(), c, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var l Summary
	if err := json.Unmarshal(stdout.Bytes(), &l); err != nil {
		t.Fatal(err)
	}
	if l.LogZMethod != "ais" || l.LogZ == nil || *l.LogZ != s.AIS.LogZ || l.Epochs != 0 || l.Model != c.load || l.ReverseAIS != nil {
		t.Errorf("loaded model: %s", stdout.String())
	}
}

// TestInterruptAndResume cancels training after the first of 3 epochs (a Ctrl-C), checks the
// interrupted error and the checkpoint, resumes with -resume and compares the saved model with
// an uninterrupted run's, bit for bit, for PCD-1 (parameters, velocities, chains and sources all
// matter) on 300 images. (optim's TestCheckpointResumeIsBitIdentical covers CD-1, float64 and
// stops inside an epoch.)
func TestInterruptAndResume(t *testing.T) {
	for _, pcd := range []bool{true} {
		base := config{epochs: 3, hidden: 16, k: 1, batch: 50, train: 300, evalRows: 50, sampleSteps: 2,
			jsonOut: true, vbias: true, vprob: true, pcd: pcd, lr: 0.1, momentum: 0.9, weightDecay: 2e-4, seed: 1,
			dtype: "float32", binarize: "none"}
		var out bytes.Buffer

		whole := base
		whole.out = t.TempDir()
		if err := run(context.Background(), whole, &out, &out); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}

		cut := base
		cut.out = t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		cut.onEpoch = func(r optim.EpochRecord) {
			if r.Epoch == 1 {
				cancel()
			}
		}
		err := run(ctx, cut, &out, &out)
		cancel()
		var in *interrupted
		ckpt := filepath.Join(cut.out, "checkpoint.ckpt")
		if !errors.As(err, &in) || !errors.Is(err, context.Canceled) || in.path != ckpt || !strings.Contains(err.Error(), "epoch 2 at minibatch 1") {
			t.Fatalf("pcd=%v: cancelled run: %v; want an interrupted error naming %s", pcd, err, ckpt)
		}
		if _, err := os.Stat(filepath.Join(cut.out, "model.rbm")); err == nil {
			t.Error("an interrupted run saved model.rbm")
		}
		if cmd := resumeCommand([]string{"rbm-mnist", "-epochs", "3", "-resume", "old.ckpt", "-pcd"}, ckpt); cmd != "go run ./examples/rbm-mnist -epochs 3 -pcd -resume "+ckpt {
			t.Errorf("resume command %q", cmd)
		}

		resumed := cut
		resumed.onEpoch, resumed.resume, resumed.seed = nil, ckpt, 99 // the checkpoint restores the model and sources
		out.Reset()
		if err := run(context.Background(), resumed, &out, &out); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		a, err := models.LoadRBM(filepath.Join(whole.out, "model.rbm"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := models.LoadRBM(filepath.Join(resumed.out, "model.rbm"))
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range [][2]*tensor.Dense{{a.W, b.W}, {a.B, b.B}, {a.C, b.C}} {
			x, y := p[0].Data().([]float32), p[1].Data().([]float32)
			for j := range x {
				if math.Float32bits(x[j]) != math.Float32bits(y[j]) {
					t.Fatalf("pcd=%v: parameter %d entry %d: resumed %v, uninterrupted %v", pcd, i, j, y[j], x[j])
				}
			}
		}
	}
}
