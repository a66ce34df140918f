package datasets

import (
	"math"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

func TestStandardizer(t *testing.T) {
	x := tensor.New(tensor.WithShape(4, 2), tensor.WithBacking([]float64{1, 5, 2, 5, 3, 5, 4, 5}))
	s, err := FitStandardizer(x)
	if err != nil {
		t.Fatal(err)
	}
	if s.Mean[0] != 2.5 || math.Abs(s.Std[0]-math.Sqrt(1.25)) > 1e-15 || s.Mean[1] != 5 || s.Std[1] != 1 {
		t.Errorf("statistics %+v", s)
	}
	z, err := s.Transform(x)
	if err != nil {
		t.Fatal(err)
	}
	zd := z.Data().([]float64)
	if math.Abs(zd[0]+1.5/math.Sqrt(1.25)) > 1e-12 || zd[1] != 0 {
		t.Errorf("transformed %v", zd)
	}
	back, err := s.Inverse(z)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range back.Data().([]float64) {
		if math.Abs(v-x.Data().([]float64)[i]) > 1e-12 {
			t.Errorf("inverse[%d] = %v", i, v)
		}
	}
	if _, err := s.Transform(tensor.New(tensor.WithShape(1, 3), tensor.WithBacking([]float64{1, 2, 3}))); err == nil {
		t.Error("3 columns for a 2-column standardizer: no error")
	}
}

func TestReadCSV(t *testing.T) {
	x, header, err := ReadCSV(strings.NewReader("a,b\n1,2\n3, 4.5\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(header) != 2 || header[1] != "b" || x.Shape()[0] != 2 || x.Data().([]float64)[3] != 4.5 {
		t.Errorf("header %v data %v", header, x.Data())
	}
	for in, want := range map[string]string{
		"1,2\n3\n":   "line 2 has 1 columns",
		"1,2\n3,x\n": `line 2 column 2: "x" is not a number`,
		"1,NaN\n":    "finite",
		"a,b\n":      "no data",
		"":           "no data",
	} {
		if _, _, err := ReadCSV(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v; want %q", in, err, want)
		}
	}
}
