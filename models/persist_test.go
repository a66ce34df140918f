package models_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ebm-go/ebm/datasets"
	"github.com/ebm-go/ebm/models"
)

// TestB17Persistence is case B17: round trips keep values bit for bit; loading into a model of
// another shape or dtype, truncated files, flipped bytes and random bytes give errors.
func TestB17Persistence(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p3x2.model")
	m := p3x2(t, tensor.Float64)
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	fresh, err := models.NewRBM(3, 2, tensor.Float64, rand.NewPCG(9, 9))
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.Restore(path); err != nil {
		t.Fatal(err)
	}
	v := dense(tensor.Float64, []int{1, 3}, []float64{1, 0, 1})
	h1, _ := m.HiddenProbs(v)
	h2, _ := fresh.HiddenProbs(v)
	near(t, "hidden probabilities after load", floats(h2), floats(h1), 0)
	f, _ := fresh.FreeEnergy(v)
	near(t, "F(101)", floats(f), []float64{-2.067224}, 1e-6)

	wrongShape, _ := models.NewRBM(4, 2, tensor.Float64, rand.NewPCG(1, 1))
	if err := wrongShape.Restore(path); err == nil || !strings.Contains(err.Error(), "3×2") {
		t.Errorf("load into a 4×2 model: %v", err)
	}
	p32 := filepath.Join(dir, "f32.model")
	if err := p3x2(t, tensor.Float32).Save(p32); err != nil {
		t.Fatal(err)
	}
	if err := fresh.Restore(p32); err == nil || !strings.Contains(err.Error(), "float32") {
		t.Errorf("float32 file into a float64 model: %v", err)
	}
	raw, _ := os.ReadFile(path)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)-5] ^= 0x40
	junk := make([]byte, 10<<10)
	r := rand.New(rand.NewPCG(5, 6))
	for i := range junk {
		junk[i] = byte(r.Uint32())
	}
	for name, b := range map[string][]byte{
		"half": raw[:len(raw)/2], "header only": raw[:20], "flipped": flipped, "garbage": junk, "empty": nil,
		"garbage after magic": append([]byte("EBMMODEL\x02\x00\x00\x00"), junk...),
	} {
		if _, err := models.LoadRBM(write(name, b)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := models.LoadGaussianRBM(path); err == nil || !strings.Contains(err.Error(), "not a GaussianRBM") {
		t.Errorf("RBM file loaded as a GaussianRBM: %v", err)
	}
}

// TestModelRoundTrips saves and loads a GB-RBM (σ, learn flag and standardisation kept), a BM
// (mask kept) and a Gaussian CRBM.
func TestModelRoundTrips(t *testing.T) {
	dir := t.TempDir()
	g := grbm(t, tensor.Float32, 2, 1, []float64{1, 1}, []float64{0.5, -1}, []float64{0.2}, []float64{0.5, 2})
	g.LearnSigma = true
	g.Standardizer = &datasets.Standardizer{Mean: []float64{1, 2}, Std: []float64{3, 4}}
	if err := g.Save(filepath.Join(dir, "g")); err != nil {
		t.Fatal(err)
	}
	g2, err := models.LoadGaussianRBM(filepath.Join(dir, "g"))
	if err != nil {
		t.Fatal(err)
	}
	near(t, "σ", g2.Sigma(), g.Sigma(), 0)
	if !g2.LearnSigma || g2.Standardizer == nil || g2.Standardizer.Std[1] != 4 || !g2.Dtype().Eq(tensor.Float32) {
		t.Errorf("loaded GB-RBM %+v", g2)
	}

	bm := randomBM(t, 3, 2, 1, 4)
	if err := bm.SetMask(models.BipartiteMask(3, 2)); err != nil {
		t.Fatal(err)
	}
	if err := bm.Save(filepath.Join(dir, "bm")); err != nil {
		t.Fatal(err)
	}
	bm2, err := models.LoadBM(filepath.Join(dir, "bm"))
	if err != nil {
		t.Fatal(err)
	}
	near(t, "couplings", bm2.Couplings(), bm.Couplings(), 0)
	if bm2.NumVisible() != 3 {
		t.Errorf("visible count %d", bm2.NumVisible())
	}

	c, err := models.NewCRBM(3, 4, 2, true, tensor.Float64, rand.NewPCG(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Save(filepath.Join(dir, "c")); err != nil {
		t.Fatal(err)
	}
	c2, err := models.LoadCRBM(filepath.Join(dir, "c"))
	if err != nil {
		t.Fatal(err)
	}
	near(t, "UV", floats(c2.UV), floats(c.UV), 0)
	if c2.Order != 2 || !c2.Gaussian() {
		t.Errorf("loaded CRBM order %d gaussian %v", c2.Order, c2.Gaussian())
	}
}

// TestSaveKeepsPreviousFileOnFailure simulates a save that fails after writing its data (the
// final rename cannot replace a non-empty folder) and checks that no temporary file is left and
// the previous model still loads.
func TestSaveKeepsPreviousFileOnFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.model")
	m := p3x2(t, tensor.Float64)
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	other, _ := models.NewRBM(3, 2, tensor.Float64, rand.NewPCG(7, 7))
	// Replace the target by a folder: the final rename must fail, after the data were written.
	if err := os.Rename(path, path+".keep"); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(path, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := other.Save(path); err == nil {
		t.Fatal("saving over a non-empty folder: no error")
	}
	os.RemoveAll(path)
	if err := os.Rename(path+".keep", path); err != nil {
		t.Fatal(err)
	}
	got, err := models.LoadRBM(path)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "W", floats(got.W), floats(m.W), 0)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}
