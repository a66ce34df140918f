package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebm-go/ebm/datasets"
)

// writeSplit writes u1.base and u1.test in the MovieLens 100K format, with ratings 1..5 drawn from
// a rank-2 model (score 3 + p_u·q_i plus Gaussian noise, rounded and clipped), 80% / 20%.
func writeSplit(t *testing.T, users, items int, density float64) string {
	t.Helper()
	r := rand.New(rand.NewPCG(7, 7))
	p := make([][2]float64, users)
	q := make([][2]float64, items)
	for u := range p {
		p[u] = [2]float64{r.NormFloat64(), r.NormFloat64()}
	}
	for i := range q {
		q[i] = [2]float64{r.NormFloat64(), r.NormFloat64()}
	}
	var base, test bytes.Buffer
	for u := range users {
		for i := range items {
			if r.Float64() >= density {
				continue
			}
			s := 3 + p[u][0]*q[i][0] + p[u][1]*q[i][1] + 0.4*r.NormFloat64()
			v := int(math.Max(1, math.Min(5, math.Round(s))))
			w := &base
			if r.Float64() < 0.2 {
				w = &test
			}
			fmt.Fprintf(w, "%d\t%d\t%d\t%d\n", u+1, i+1, v, 880000000+u*items+i)
		}
	}
	dir := t.TempDir()
	for name, b := range map[string]*bytes.Buffer{"u1.base": &base, "u1.test": &test} {
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// The example runs end to end on a generated split and both CF-RBMs beat the three baselines.
func TestRunGenerated(t *testing.T) {
	dir := writeSplit(t, 300, 60, 0.5)
	var out, log bytes.Buffer
	c := config{data: dir, split: "u1", cd: "1,3", model: "both", hidden: 20, epochs: 20, batch: 10, report: 10,
		lr: 0.05, momentum: 0.5, decay: 0.001, seed: 1, jsonOut: true}
	if err := run(context.Background(), c, &out, &log); err != nil {
		t.Fatal(err)
	}
	var s Summary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatalf("JSON summary: %v\n%s", err, out.String())
	}
	t.Logf("\n%s", log.String())
	if s.UserRBM == nil || s.ItemRBM == nil {
		t.Fatalf("summary lacks a model: %+v", s)
	}
	if s.Users != 300 || s.Items != 60 || s.EvalRatings == 0 || s.TrainRatings < 3*s.EvalRatings {
		t.Errorf("summary sizes: %+v", s)
	}
	best := math.Min(s.UserMeanRMSE, s.ItemMeanRMSE)
	for name, r := range map[string]*RBMResult{"user-based": s.UserRBM, "item-based": s.ItemRBM} {
		if !(r.RMSE < 0.8*best && r.ExactRMSE < 0.8*best) {
			t.Errorf("%s CF-RBM RMSE %.4f (exact %.4f), want well below the best baseline %.4f", name, r.RMSE, r.ExactRMSE, best)
		}
	}
	for _, want := range []string{"global mean", "user mean", "item mean", "mean-field prediction", "exact p(v_q|V)", "wall time"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

// Without the data set the error says where to get it; bad flags are errors, not panics.
func TestRunErrors(t *testing.T) {
	good := config{split: "u1", cd: "1", model: "both", hidden: 2, epochs: 1, batch: 1, lr: 0.1, seed: 1}
	var out bytes.Buffer
	for _, d := range []string{"", filepath.Join(t.TempDir(), "ml-100k")} {
		c := good
		c.data = d
		err := run(context.Background(), c, &out, &out)
		if !errors.Is(err, datasets.ErrNotFound) || !strings.Contains(err.Error(), "https://grouplens.org/datasets/movielens/100k/") {
			t.Errorf("data %q: %v, want ErrNotFound naming the download page", d, err)
		}
	}
	dir := writeSplit(t, 10, 5, 0.8)
	for _, mod := range []func(*config){
		func(c *config) { c.cd = "1,x" },
		func(c *config) { c.cd = "0" },
		func(c *config) { c.model = "both-ways" },
		func(c *config) { c.epochs = 0 },
		func(c *config) { c.holdout = 1.5 },
		func(c *config) { c.split = "u9" },
	} {
		c := good
		c.data = dir
		mod(&c)
		if err := run(context.Background(), c, &out, &out); err == nil {
			t.Errorf("config %+v: no error", c)
		}
	}
}
