package datasets

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"sync"
	"testing"
)

// idx3 builds an IDX3 file with the given header fields and payload.
func idx3(magic, n, rows, cols uint32, pix []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	b = binary.BigEndian.AppendUint32(b, n)
	b = binary.BigEndian.AppendUint32(b, rows)
	b = binary.BigEndian.AppendUint32(b, cols)
	return append(b, pix...)
}

// idx1 builds an IDX1 file with the given header fields and payload.
func idx1(magic, n uint32, labels []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	b = binary.BigEndian.AppendUint32(b, n)
	return append(b, labels...)
}

// seq returns n bytes 0, 1, 2, ... (mod 256).
func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var (
	mnistOnce sync.Once
	mnistData *MNIST
	mnistErr  error
)

// realMNIST loads MNIST from the module cache once per test binary.
func realMNIST(t testing.TB) *MNIST {
	t.Helper()
	mnistOnce.Do(func() { mnistData, mnistErr = LoadMNIST("") })
	if mnistErr != nil {
		t.Fatalf("LoadMNIST(\"\"): %v", mnistErr)
	}
	return mnistData
}
