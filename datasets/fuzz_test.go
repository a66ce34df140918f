package datasets

import (
	"bytes"
	"encoding/binary"
	"testing"

	"gorgonia.org/tensor"
)

func FuzzReadImages(f *testing.F) {
	valid := idx3(MagicImages, 2, 3, 2, seq(12))
	f.Add(valid)
	f.Add(gz(f, valid))
	f.Add(valid[:10])
	f.Add(valid[:20])
	f.Add(idx3(MagicImages, 0xffffffff, 0xffffffff, 1, nil))
	f.Add(idx3(MagicImages, 1<<15, 1<<8, 1<<8, seq(5)))
	f.Fuzz(func(t *testing.T, data []byte) {
		im, err := ReadImages(bytes.NewReader(data))
		if err != nil {
			if im != nil {
				t.Fatalf("non-nil result with error %v", err)
			}
			return
		}
		if im == nil || im.N <= 0 || im.Rows <= 0 || im.Cols <= 0 || im.N*im.Rows*im.Cols != len(im.Pixels) {
			t.Fatalf("inconsistent result %d×%d×%d with %d pixels", im.N, im.Rows, im.Cols, len(im.Pixels))
		}
		if data[0] != 0x1f { // raw input: the result must match the header
			h := func(i int) int { return int(binary.BigEndian.Uint32(data[i:])) }
			if im.N != h(4) || im.Rows != h(8) || im.Cols != h(12) || !bytes.Equal(im.Pixels, data[16:16+len(im.Pixels)]) {
				t.Fatalf("result %d×%d×%d does not match the raw input", im.N, im.Rows, im.Cols)
			}
		}
		if _, err := im.Matrix(1, tensor.Float32); err != nil {
			t.Fatalf("Matrix on a successfully read file: %v", err)
		}
	})
}

func FuzzReadLabels(f *testing.F) {
	valid := idx1(MagicLabels, 3, []byte{5, 0, 4})
	f.Add(valid)
	f.Add(gz(f, valid))
	f.Add(valid[:6])
	f.Add(idx1(MagicLabels, 0xffffffff, nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		labels, err := ReadLabels(bytes.NewReader(data))
		if err != nil {
			if labels != nil {
				t.Fatalf("non-nil result with error %v", err)
			}
			return
		}
		if len(labels) == 0 {
			t.Fatal("no labels and no error")
		}
		if data[0] != 0x1f { // raw input: the result must match the header
			if n := int(binary.BigEndian.Uint32(data[4:])); len(labels) != n || !bytes.Equal(labels, data[8:8+n]) {
				t.Fatalf("%d labels do not match the raw input declaring %d", len(labels), n)
			}
		}
	})
}
