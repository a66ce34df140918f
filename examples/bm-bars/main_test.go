package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"testing"
)

// TestRun runs the example with a short budget and checks its three parts: KL falls, completions
// are valid patterns, and annealing reaches the exhaustive maximum cut.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	c := config{epochs: 300, hidden: 4, report: 300, cutNodes: 14, cutRuns: 5, lr: 0.3, seed: 1}
	if err := run(context.Background(), c, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	kl := regexp.MustCompile(`epoch +(\d+) +KL\(data‖model\) ([0-9.]+)`).FindAllStringSubmatch(s, -1)
	if len(kl) != 2 {
		t.Fatalf("want KL at epochs 0 and 300:\n%s", s)
	}
	first, _ := strconv.ParseFloat(kl[0][2], 64)
	last, _ := strconv.ParseFloat(kl[1][2], 64)
	if last > first/3 {
		t.Errorf("KL %v → %v: want it to fall at least threefold", first, last)
	}
	if m := regexp.MustCompile(`valid bars-and-stripes patterns: (\d+) of 14`).FindStringSubmatch(s); m == nil || m[1] != "14" {
		t.Errorf("completions: %v\n%s", m, s)
	}
	m := regexp.MustCompile(`exhaustive maximum cut (\d+); annealing found (\d+)`).FindStringSubmatch(s)
	if m == nil || m[1] != m[2] {
		t.Errorf("max-cut: %v\n%s", m, s)
	}
}
