package datasets

import (
	"fmt"
	"math"

	"gorgonia.org/tensor"
)

// MinStd is the smallest standard deviation Standardizer divides by: a column whose standard
// deviation in the fitted data is below it is only centred (its scale is 1, as in scikit-learn's
// StandardScaler), so a value unseen in training is not blown up.
const MinStd = 1e-8

// Standardizer centres and scales every column of a data matrix to mean 0 and standard deviation
// 1, with statistics learned once (Fit) and reused at transform time, so that test data, samples
// and reconstructions go through the same affine map. Gaussian visible units with σ = 1 expect
// standardised data (Hinton 2010, §13.2).
type Standardizer struct {
	Mean []float64 // per column
	Std  []float64 // per column, ≥ MinStd
}

// FitStandardizer computes the per-column mean and (population) standard deviation of x (N, n),
// Float32 or Float64, finite values.
func FitStandardizer(x *tensor.Dense) (*Standardizer, error) {
	if x == nil || x.Shape().Dims() != 2 {
		return nil, fmt.Errorf("datasets: standardisation needs an (N, n) matrix")
	}
	n := x.Shape()[1]
	if err := CheckMatrix("data", x, n, x.Dtype()); err != nil {
		return nil, err
	}
	v := floatValues(x)
	rows := len(v) / n
	s := &Standardizer{Mean: make([]float64, n), Std: make([]float64, n)}
	for r := 0; r < rows; r++ {
		for j, x := range v[r*n : (r+1)*n] {
			s.Mean[j] += x
		}
	}
	for j := range s.Mean {
		s.Mean[j] /= float64(rows)
	}
	for r := 0; r < rows; r++ {
		for j, x := range v[r*n : (r+1)*n] {
			d := x - s.Mean[j]
			s.Std[j] += d * d
		}
	}
	for j := range s.Std {
		if s.Std[j] = math.Sqrt(s.Std[j] / float64(rows)); s.Std[j] < MinStd {
			s.Std[j] = 1
		}
	}
	return s, nil
}

// FloorStd raises every column's standard deviation to at least min (> 0): columns that barely
// vary in the fitted data (the border pixels of MNIST) then do not turn the rare values of new
// data into huge standardised ones.
func (s *Standardizer) FloorStd(min float64) error {
	if !(min > 0) || math.IsInf(min, 0) {
		return fmt.Errorf("datasets: standard-deviation floor %v; want a finite value > 0", min)
	}
	for j := range s.Std {
		s.Std[j] = math.Max(s.Std[j], min)
	}
	return nil
}

func (s *Standardizer) check(x *tensor.Dense) error {
	if s == nil || len(s.Mean) == 0 || len(s.Mean) != len(s.Std) {
		return fmt.Errorf("datasets: standardizer has no statistics")
	}
	for j, sd := range s.Std {
		if !(sd >= MinStd) || math.IsInf(sd, 0) || math.IsNaN(s.Mean[j]) || math.IsInf(s.Mean[j], 0) {
			return fmt.Errorf("datasets: standardizer column %d has mean %v, std %v", j, s.Mean[j], sd)
		}
	}
	if x == nil || x.Shape().Dims() != 2 {
		return fmt.Errorf("datasets: standardisation needs an (N, %d) matrix", len(s.Mean))
	}
	return CheckMatrix("data", x, len(s.Mean), x.Dtype())
}

// Transform returns (x - mean)/std column by column, a new tensor of x's dtype and shape.
func (s *Standardizer) Transform(x *tensor.Dense) (*tensor.Dense, error) {
	if err := s.check(x); err != nil {
		return nil, err
	}
	return s.apply(x, func(j int, v float64) float64 { return (v - s.Mean[j]) / s.Std[j] }), nil
}

// Inverse returns x·std + mean column by column (maps standardised values, e.g. model samples,
// back to data units), a new tensor of x's dtype and shape.
func (s *Standardizer) Inverse(x *tensor.Dense) (*tensor.Dense, error) {
	if err := s.check(x); err != nil {
		return nil, err
	}
	return s.apply(x, func(j int, v float64) float64 { return v*s.Std[j] + s.Mean[j] }), nil
}

func (s *Standardizer) apply(x *tensor.Dense, f func(j int, v float64) float64) *tensor.Dense {
	n := len(s.Mean)
	out := tensor.New(tensor.WithShape(x.Shape().Clone()...), tensor.Of(x.Dtype()))
	switch d := out.Data().(type) {
	case []float64:
		for i, v := range x.Data().([]float64) {
			d[i] = f(i%n, v)
		}
	case []float32:
		for i, v := range x.Data().([]float32) {
			d[i] = float32(f(i%n, float64(v)))
		}
	}
	return out
}

// floatValues returns a float tensor's values as float64s.
func floatValues(x *tensor.Dense) []float64 {
	switch d := x.Data().(type) {
	case []float64:
		return d
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	}
	return nil
}
