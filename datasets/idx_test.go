package datasets

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

func wantErr(t *testing.T, err, sentinel error, substrs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want %v", sentinel)
	}
	if sentinel != nil && !errors.Is(err, sentinel) {
		t.Errorf("error %q does not wrap %q", err, sentinel)
	}
	for _, s := range substrs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

func TestReadImagesValid(t *testing.T) {
	raw := idx3(MagicImages, 3, 2, 5, seq(30))
	for name, data := range map[string][]byte{"raw": raw, "gzip": gz(t, raw), "raw+trailing": append(raw, 1, 2, 3)} {
		t.Run(name, func(t *testing.T) {
			im, err := ReadImages(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if im.N != 3 || im.Rows != 2 || im.Cols != 5 || !bytes.Equal(im.Pixels, seq(30)) {
				t.Fatalf("got N=%d Rows=%d Cols=%d Pixels=%v", im.N, im.Rows, im.Cols, im.Pixels)
			}
			if got := im.Image(1); !bytes.Equal(got, seq(30)[10:20]) {
				t.Errorf("Image(1) = %v", got)
			}
			if im.Image(3) != nil || im.Image(-1) != nil {
				t.Error("Image out of range should be nil")
			}
		})
	}
}

func TestReadLabelsValid(t *testing.T) {
	raw := idx1(MagicLabels, 4, []byte{5, 0, 4, 1})
	for name, data := range map[string][]byte{"raw": raw, "gzip": gz(t, raw)} {
		t.Run(name, func(t *testing.T) {
			l, err := ReadLabels(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(l, []byte{5, 0, 4, 1}) {
				t.Fatalf("got %v", l)
			}
		})
	}
}

// both runs f on the raw bytes and on their gzip compression.
func both(t *testing.T, raw []byte, f func(t *testing.T, data []byte)) {
	t.Run("raw", func(t *testing.T) { f(t, raw) })
	t.Run("gzip", func(t *testing.T) { f(t, gz(t, raw)) })
}

func TestReadImagesErrors(t *testing.T) {
	t.Run("label magic", func(t *testing.T) {
		both(t, idx3(MagicLabels, 1, 1, 1, []byte{0}), func(t *testing.T, data []byte) {
			_, err := ReadImages(bytes.NewReader(data))
			wantErr(t, err, ErrBadMagic, "found 0x00000801", "expected 0x00000803", "label file")
		})
	})
	t.Run("garbage magic", func(t *testing.T) {
		_, err := ReadImages(strings.NewReader("hello, world, this is not IDX"))
		wantErr(t, err, ErrBadMagic, "found 0x68656c6c", "expected 0x00000803")
	})
	t.Run("element type", func(t *testing.T) {
		_, err := ReadImages(bytes.NewReader(idx3(0x00000d03, 1, 1, 1, []byte{0, 0, 0, 0})))
		wantErr(t, err, ErrBadMagic, "0x0d")
	})
	t.Run("empty", func(t *testing.T) {
		_, err := ReadImages(bytes.NewReader(nil))
		wantErr(t, err, ErrTruncated, "header", "expected 16 bytes, got 0")
	})
	t.Run("truncated header", func(t *testing.T) {
		both(t, idx3(MagicImages, 1, 1, 1, nil)[:7], func(t *testing.T, data []byte) {
			_, err := ReadImages(bytes.NewReader(data))
			wantErr(t, err, ErrTruncated, "header", "expected 16 bytes", "got 7")
		})
	})
	t.Run("truncated body", func(t *testing.T) {
		both(t, idx3(MagicImages, 2, 28, 28, seq(100)), func(t *testing.T, data []byte) {
			_, err := ReadImages(bytes.NewReader(data))
			wantErr(t, err, ErrTruncated, "body", "2 images of 28×28", "1568", "got 100")
		})
	})
	t.Run("truncated gzip stream", func(t *testing.T) {
		data := gz(t, idx3(MagicImages, 2, 28, 28, seq(1568)))
		_, err := ReadImages(bytes.NewReader(data[:len(data)/2]))
		if err == nil {
			t.Fatal("no error")
		}
		if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrCorruptGzip) {
			t.Errorf("error %q is neither truncated nor corrupt gzip", err)
		}
	})
	t.Run("gzip trailer missing", func(t *testing.T) {
		data := gz(t, idx3(MagicImages, 2, 28, 28, seq(1568)))
		_, err := ReadImages(bytes.NewReader(data[:len(data)-4]))
		wantErr(t, err, ErrCorruptGzip)
	})
	for _, dims := range [][3]uint32{{0, 28, 28}, {10, 0, 28}, {10, 28, 0}} {
		t.Run("zero dims", func(t *testing.T) {
			both(t, idx3(MagicImages, dims[0], dims[1], dims[2], seq(100)), func(t *testing.T, data []byte) {
				_, err := ReadImages(bytes.NewReader(data))
				wantErr(t, err, ErrZeroDim, "must be positive")
			})
		})
	}
	for _, dims := range [][3]uint32{{1 << 31, 1, 2}, {0xffffffff, 0xffffffff, 0xffffffff}, {1 << 16, 1 << 16, 1 << 16}, {1 << 20, 1 << 12, 1}} {
		t.Run("too large", func(t *testing.T) {
			_, err := ReadImages(bytes.NewReader(idx3(MagicImages, dims[0], dims[1], dims[2], seq(100))))
			wantErr(t, err, ErrTooLarge, "limit")
		})
	}
	t.Run("exactly MaxBytes declared, little data", func(t *testing.T) {
		// Allowed by the size guard; must fail as truncated without allocating 2 GiB.
		_, err := ReadImages(bytes.NewReader(idx3(MagicImages, 1<<15, 1<<8, 1<<8, seq(100))))
		wantErr(t, err, ErrTruncated, "got 100")
	})
	t.Run("corrupt gzip header", func(t *testing.T) {
		_, err := ReadImages(bytes.NewReader([]byte{0x1f, 0x8b, 0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0}))
		wantErr(t, err, ErrCorruptGzip)
	})
	t.Run("gzip crc mismatch", func(t *testing.T) {
		data := gz(t, idx3(MagicImages, 2, 2, 2, seq(8)))
		data[len(data)-8] ^= 0xff // first byte of the CRC-32 in the trailer
		_, err := ReadImages(bytes.NewReader(data))
		wantErr(t, err, ErrCorruptGzip, "checksum")
	})
	t.Run("gzip corrupt deflate", func(t *testing.T) {
		data := gz(t, idx3(MagicImages, 100, 28, 28, seq(78400)))
		for i := 12; i < len(data)-8; i += 3 {
			data[i] ^= 0x5a
		}
		_, err := ReadImages(bytes.NewReader(data))
		if err == nil {
			t.Fatal("no error")
		}
		t.Log(err)
	})
	t.Run("nil reader", func(t *testing.T) {
		_, err := ReadImages(nil)
		wantErr(t, err, nil, "nil reader")
	})
	t.Run("read error", func(t *testing.T) {
		boom := errors.New("boom")
		_, err := ReadImages(io.MultiReader(bytes.NewReader(idx3(MagicImages, 2, 2, 2, seq(3))), errReader{boom}))
		wantErr(t, err, boom)
	})
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestReadLabelsErrors(t *testing.T) {
	t.Run("image magic", func(t *testing.T) {
		both(t, idx1(MagicImages, 1, []byte{0}), func(t *testing.T, data []byte) {
			_, err := ReadLabels(bytes.NewReader(data))
			wantErr(t, err, ErrBadMagic, "found 0x00000803", "expected 0x00000801", "image file")
		})
	})
	t.Run("truncated header", func(t *testing.T) {
		both(t, idx1(MagicLabels, 1, nil)[:5], func(t *testing.T, data []byte) {
			_, err := ReadLabels(bytes.NewReader(data))
			wantErr(t, err, ErrTruncated, "header", "expected 8 bytes", "got 5")
		})
	})
	t.Run("truncated body", func(t *testing.T) {
		both(t, idx1(MagicLabels, 10, []byte{1, 2, 3}), func(t *testing.T, data []byte) {
			_, err := ReadLabels(bytes.NewReader(data))
			wantErr(t, err, ErrTruncated, "body", "10 labels, got 3")
		})
	})
	t.Run("zero count", func(t *testing.T) {
		both(t, idx1(MagicLabels, 0, nil), func(t *testing.T, data []byte) {
			_, err := ReadLabels(bytes.NewReader(data))
			wantErr(t, err, ErrZeroDim, "0 labels")
		})
	})
	t.Run("too large", func(t *testing.T) {
		_, err := ReadLabels(bytes.NewReader(idx1(MagicLabels, 0xffffffff, []byte{1})))
		wantErr(t, err, ErrTooLarge, "4294967295 labels")
	})
	t.Run("corrupt gzip", func(t *testing.T) {
		data := gz(t, idx1(MagicLabels, 3, []byte{1, 2, 3}))
		data[len(data)-5] ^= 0x01 // CRC-32
		_, err := ReadLabels(bytes.NewReader(data))
		wantErr(t, err, ErrCorruptGzip)
	})
}

// Bodies larger than the first chunk, read both with a known size (one allocation) and through a
// reader that hides its size (chunks joined at the end).
func TestReadImagesLarge(t *testing.T) {
	pix := seq(3 * 1000 * 1001)
	raw := idx3(MagicImages, 3, 1000, 1001, pix)
	for name, r := range map[string]func() io.Reader{
		"sized":        func() io.Reader { return bytes.NewReader(raw) },
		"unsized":      func() io.Reader { return io.MultiReader(bytes.NewReader(raw)) },
		"gzip sized":   func() io.Reader { return bytes.NewReader(gz(t, raw)) },
		"gzip unsized": func() io.Reader { return io.MultiReader(bytes.NewReader(gz(t, raw))) },
	} {
		t.Run(name, func(t *testing.T) {
			im, err := ReadImages(r())
			if err != nil {
				t.Fatal(err)
			}
			if im.N != 3 || im.Rows != 1000 || im.Cols != 1001 || !bytes.Equal(im.Pixels, pix) {
				t.Fatalf("got N=%d Rows=%d Cols=%d len=%d", im.N, im.Rows, im.Cols, len(im.Pixels))
			}
		})
	}
	_, err := ReadImages(io.MultiReader(bytes.NewReader(raw[:len(raw)-1])))
	wantErr(t, err, ErrTruncated, "3 images of 1000×1001 = 3003000 pixel bytes, got 3002999 bytes")
}

// A header declaring far more data than the input holds must not make the reader allocate it.
func TestReadImagesLyingHeaderAllocation(t *testing.T) {
	raw := idx3(MagicImages, 1<<15, 1<<8, 1<<8, seq(1000)) // declares MaxBytes, holds 1000
	for name, data := range map[string][]byte{"raw": raw, "gzip": gz(t, raw)} {
		for rname, r := range map[string]func() io.Reader{
			"sized":   func() io.Reader { return bytes.NewReader(data) },
			"unsized": func() io.Reader { return io.MultiReader(bytes.NewReader(data)) },
		} {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := ReadImages(r())
			runtime.ReadMemStats(&after)
			wantErr(t, err, ErrTruncated, "got 1000 bytes")
			if a := after.TotalAlloc - before.TotalAlloc; a > 8<<20 {
				t.Errorf("%s %s: allocated %d bytes for a %d-byte input", name, rname, a, len(data))
			}
		}
	}
}
