package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"testing"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/models"
)

// TestRunSmall runs the whole job on a few hundred images with a tiny DBM: it must finish, print a
// JSON summary with a finite lower bound below 0 and a test error better than chance, and save a
// DBM that loads back.
func TestRunSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	mn, err := datasets.LoadMNIST("")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	c := defaults()
	c.hidden, c.pretrainEpochs, c.dbmEpochs, c.finetuneEpochs = "20,12", 3, 2, 5
	c.train, c.validation, c.testRows, c.batch, c.chains = 600, 100, 200, 20, 20
	c.aisRuns, c.aisFine, c.lr, c.jsonOut, c.out = 10, false, 0.5, true, out
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), c, mn, &stdout, &stderr, nil); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var s Summary
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, stdout.String())
	}
	var raw map[string]any
	json.Unmarshal(stdout.Bytes(), &raw)
	for _, k := range []string{"test_error", "test_log_prob_lower_bound", "log_z", "total_seconds"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("JSON summary lacks %q", k)
		}
	}
	if !(s.TestError < 0.5) {
		t.Errorf("test error %v: no better than a poor guess", s.TestError)
	}
	if math.IsNaN(s.TestLogProbLowerBound) || math.IsInf(s.TestLogProbLowerBound, 0) || s.TestLogProbLowerBound >= 0 || s.TestLogProbLowerBound < -784*math.Log(2)-1 {
		t.Errorf("lower bound %v nats: want finite, negative, above the uniform model's -543", s.TestLogProbLowerBound)
	}
	if len(s.DBMTraining) != 2 || len(s.Pretraining) != 2 {
		t.Errorf("records: %d pretraining layers, %d joint epochs", len(s.Pretraining), len(s.DBMTraining))
	}
	d, err := models.LoadDBM(filepath.Join(out, "model.dbm"))
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Sizes(); len(got) != 3 || got[1] != 20 || got[2] != 12 {
		t.Errorf("saved DBM sizes %v", got)
	}
	t.Logf("test error %.3f, lower bound %.2f, log Z %.2f ± %.2f, %.1fs", s.TestError, s.TestLogProbLowerBound, s.LogZ, s.LogZStdErr, s.TotalSeconds)
}
