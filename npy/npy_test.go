package npy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

func TestRoundTrip(t *testing.T) {
	for _, x := range []*tensor.Dense{
		tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float64{1, -2, 3.5, 4, 5, 6e300})),
		tensor.New(tensor.WithShape(4), tensor.WithBacking([]float32{1, 2, 3, -4})),
		tensor.New(tensor.WithShape(2, 1, 3), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6})),
	} {
		var buf bytes.Buffer
		if err := Write(&buf, x); err != nil {
			t.Fatal(err)
		}
		if buf.Len()%16 != 0 && (buf.Len()-x.DataSize()*int(x.Dtype().Size()))%64 != 0 {
			t.Errorf("header of %d bytes is not 64-aligned", buf.Len()-x.DataSize()*int(x.Dtype().Size()))
		}
		y, err := Read(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if !y.Shape().Eq(x.Shape()) || !y.Dtype().Eq(x.Dtype()) {
			t.Fatalf("read %v %v, wrote %v %v", y.Shape(), y.Dtype(), x.Shape(), x.Dtype())
		}
		if a, b := x.Data(), y.Data(); !equal(a, b) {
			t.Errorf("read %v, wrote %v", b, a)
		}
	}
}

func equal(a, b any) bool {
	switch a := a.(type) {
	case []float64:
		bb := b.([]float64)
		for i := range a {
			if a[i] != bb[i] {
				return false
			}
		}
	case []float32:
		bb := b.([]float32)
		for i := range a {
			if a[i] != bb[i] {
				return false
			}
		}
	}
	return true
}

func TestBadFiles(t *testing.T) {
	var good bytes.Buffer
	Write(&good, tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{1, 2, 3, 4})))
	g := good.Bytes()
	hdr := func(h string) []byte {
		b := []byte(magic + "\x01\x00")
		b = append(b, byte(len(h)), byte(len(h)>>8))
		return append(b, h...)
	}
	for name, tc := range map[string]struct {
		in   []byte
		want string
	}{
		"empty":     {nil, "too short"},
		"magic":     {append([]byte("NOTNPY...."), g[10:]...), "not a .npy"},
		"truncated": {g[:len(g)-3], "truncated data"},
		"header":    {g[:20], "truncated header"},
		"dtype":     {hdr("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }\n"), "dtype"},
		"fortran":   {hdr("{'descr': '<f8', 'fortran_order': True, 'shape': (2,), }\n"), "Fortran"},
		"bigendian": {hdr("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }\n"), "dtype"},
		"shape":     {hdr("{'descr': '<f8', 'fortran_order': False, 'shape': (2, x), }\n"), "dimension"},
		"huge":      {hdr("{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000), }\n"), "more than"},
		"garbage":   {hdr("hello"), "malformed"},
	} {
		_, err := Read(bytes.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v; want one containing %q", name, err, tc.want)
		}
	}
}

// TestNumpyLoads writes a file and loads it with numpy when python3-numpy is installed.
func TestNumpyLoads(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil || exec.Command(py, "-c", "import numpy").Run() != nil {
		if _, e := os.Stat("/usr/bin/python3"); e == nil && exec.Command("/usr/bin/python3", "-c", "import numpy").Run() == nil {
			py = "/usr/bin/python3"
		} else {
			t.Skip("python3 with numpy is not installed (apt-get install python3-numpy); skipping the numpy.load check")
		}
	}
	path := filepath.Join(t.TempDir(), "w.npy")
	if err := WriteFile(path, tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6.5}))); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", "import numpy as np, sys; a = np.load(sys.argv[1]); print(a.shape, a.dtype, a[1, 2], a.sum())", path).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy.load: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "(2, 3) float32 6.5 21.5" {
		t.Errorf("numpy read %q", got)
	}
}

func FuzzRead(f *testing.F) {
	var good bytes.Buffer
	Write(&good, tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{1, 2, 3, 4})))
	f.Add(good.Bytes())
	f.Add([]byte(magic + "\x01\x00\x10\x00{'descr': '<f4'}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := Read(bytes.NewReader(b))
		if err == nil && x.DataSize() != x.Shape().TotalSize() && !x.IsScalar() {
			t.Fatalf("shape %v but %d values", x.Shape(), x.DataSize())
		}
	})
}
