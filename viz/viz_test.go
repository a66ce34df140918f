package viz

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"gorgonia.org/tensor"
)

func TestMosaicPixels(t *testing.T) {
	img, err := Mosaic([][]float64{{0, 1, 0.5, 2}, {-1, 0.25, 1, 0}, {1, 1, 1, 1}}, 2, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 2*3+1 || b.Dy() != 2*3+1 {
		t.Fatalf("mosaic is %v; want 7×7", b)
	}
	for _, c := range []struct {
		x, y int
		want uint8
	}{{1, 1, 0}, {2, 1, 255}, {1, 2, 128}, {2, 2, 255}, {4, 1, 0}, {5, 1, 64}, {1, 4, 255}, {0, 0, 64}, {4, 4, 64}} {
		if got := img.GrayAt(c.x, c.y).Y; got != c.want {
			t.Errorf("pixel (%d,%d) = %d, want %d", c.x, c.y, got, c.want)
		}
	}
	if _, err := Mosaic([][]float64{{1, 2, 3}}, 2, 2, 0); err == nil {
		t.Error("tile of the wrong size: no error")
	}
	if _, err := Mosaic(nil, 2, 2, 0); err == nil {
		t.Error("no tiles: no error")
	}
}

func TestFiltersAndRows(t *testing.T) {
	w := tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float32{2, 0, -1, 0}))
	tiles, err := Filters(w, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(tiles) != 2 || tiles[0][0] != 1 || tiles[0][1] != 0.25 || tiles[1][0] != 0.5 {
		t.Errorf("filters %v", tiles)
	}
	x := tensor.New(tensor.WithShape(1, 2), tensor.WithBacking([]float64{-2, 2}))
	rows, err := Rows(x, 3, -2, 2)
	if err != nil || len(rows) != 1 || rows[0][0] != 0 || rows[0][1] != 1 {
		t.Errorf("rows %v, %v", rows, err)
	}
	if _, err := Rows(x, 1, 1, 1); err == nil {
		t.Error("empty range: no error")
	}
}

func TestWritePNG(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.png")
	if err := WriteMosaic(path, [][]float64{{0, 1, 1, 0}}, 2, 2); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d files in the folder; temporary file left behind?", len(entries))
	}
}

func TestEnlarge(t *testing.T) {
	img, _ := Mosaic([][]float64{{1}}, 1, 1, 1)
	big := Enlarge(img, 3)
	if b := big.Bounds(); b.Dx() != 9 || b.Dy() != 9 || big.GrayAt(4, 4).Y != 255 || big.GrayAt(0, 0).Y != 64 {
		t.Errorf("enlarged %v, centre %d", big.Bounds(), big.GrayAt(4, 4).Y)
	}
}
