package models

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"gorgonia.org/tensor"
)

// FuzzDecodeArchive feeds arbitrary bytes to the model-file reader: it must return an error or a
// consistent archive, never panic.
//
//	go test -run '^$' -fuzz FuzzDecodeArchive -fuzztime 60s ./models/
func FuzzDecodeArchive(f *testing.F) {
	dir := f.TempDir()
	m, err := NewRBMFromParams(tensor.New(tensor.WithShape(2, 1), tensor.WithBacking([]float64{1, 2})),
		tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{0, 0})), tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{0})))
	if err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(dir, "seed")
	if err := m.Save(path); err != nil {
		f.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add(raw[:len(raw)/2])
	f.Add([]byte(archiveMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := decodeArchive(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, n := range a.names {
			x := a.tensors[n]
			if x == nil || x.DataSize() != x.Shape().TotalSize() {
				t.Fatalf("tensor %q inconsistent", n)
			}
		}
	})
}
