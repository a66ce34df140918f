package npy

import (
	"bytes"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
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

// numpyPython returns a Python with numpy: /usr/bin/python3 first (the python3 on PATH may be
// another installation), else python3 from PATH; "" when neither imports numpy.
func numpyPython() string {
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if p, err := exec.LookPath(py); err == nil && exec.Command(p, "-c", "import numpy").Run() == nil {
			return p
		}
	}
	return ""
}

// TestNumpyLoads writes float32 and float64 arrays of 1, 2 and 3 dimensions (with values that
// are not exact in decimal, a negative zero, ±Inf, NaN and the largest and smallest normal
// values) and loads them with numpy.load, which must see the same shape, dtype, C order and
// every value bit for bit; then numpy writes arrays that Read must load bit for bit. Skipped
// with a message when no python3 with numpy is installed.
func TestNumpyLoads(t *testing.T) {
	py := numpyPython()
	if py == "" {
		t.Skip("no python3 with numpy (tried /usr/bin/python3 and python3 on PATH; apt-get install python3-numpy); skipping the numpy interop check")
	}
	dir := t.TempDir()
	vals := []float64{0.1, -1.0 / 3, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), math.MaxFloat32, 1.1754943508222875e-38,
		1e-300, 2.5, -7, 3.141592653589793, 12345.678, 6.5, 1e10, -0.0625, 42, 0.7, -2e-5, 8, 9, 10, 11, 12}
	for _, shape := range [][]int{{24}, {4, 6}, {2, 3, 4}} {
		for _, dt := range []string{"float32", "float64"} {
			var x *tensor.Dense
			var bits []string
			if dt == "float32" {
				v := make([]float32, 24)
				for i := range v {
					v[i] = float32(vals[i])
					bits = append(bits, strconv.FormatUint(uint64(math.Float32bits(v[i])), 10))
				}
				x = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
			} else {
				v := append([]float64(nil), vals...)
				for i := range v {
					bits = append(bits, strconv.FormatUint(math.Float64bits(v[i]), 10))
				}
				x = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
			}
			path := filepath.Join(dir, fmt.Sprintf("%s-%d.npy", dt, len(shape)))
			if err := WriteFile(path, x); err != nil {
				t.Fatal(err)
			}
			script := `import numpy as np, sys
a = np.load(sys.argv[1])
u = a.reshape(-1).view(np.uint32 if a.dtype == np.float32 else np.uint64)
print(a.shape, a.dtype, a.flags['C_CONTIGUOUS'], ' '.join(str(int(b)) for b in u))`
			out, err := exec.Command(py, "-c", script, path).CombinedOutput()
			if err != nil {
				t.Fatalf("numpy.load: %v\n%s", err, out)
			}
			dims := make([]string, len(shape))
			for i, d := range shape {
				dims[i] = strconv.Itoa(d)
			}
			tuple := "(" + strings.Join(dims, ", ") + ")"
			if len(shape) == 1 {
				tuple = "(" + dims[0] + ",)"
			}
			want := tuple + " " + dt + " True " + strings.Join(bits, " ")
			if got := strings.TrimSpace(string(out)); got != want {
				t.Errorf("%v %s: numpy read\n%s\nwant\n%s", shape, dt, got, want)
			}
		}
	}
	// numpy → Read.
	script := `import numpy as np, sys
np.save(sys.argv[1] + '/np64.npy', np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 7)
np.save(sys.argv[1] + '/np32.npy', (np.arange(6, dtype=np.float32) / 3).reshape(3, 2))`
	if out, err := exec.Command(py, "-c", script, dir).CombinedOutput(); err != nil {
		t.Fatalf("numpy.save: %v\n%s", err, out)
	}
	a, err := ReadFile(filepath.Join(dir, "np64.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := a.Data().([]float64); !ok || !a.Shape().Eq(tensor.Shape{2, 3, 4}) || d[23] != 23.0/7 || d[5] != 5.0/7 {
		t.Errorf("numpy float64 (2,3,4): read %v %v", a.Shape(), a.Data())
	}
	b, err := ReadFile(filepath.Join(dir, "np32.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := b.Data().([]float32); !ok || !b.Shape().Eq(tensor.Shape{3, 2}) || d[4] != float32(4)/3 || d[1] != float32(1)/3 {
		t.Errorf("numpy float32 (3,2): read %v %v", b.Shape(), b.Data())
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
