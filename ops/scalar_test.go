package ops

import (
	"math"
	"math/rand/v2"
	"testing"
)

// relClose reports |got-want| ≤ tol·|want| (or exact equality, for zeros and infinities).
func relClose(got, want, tol float64) bool {
	return got == want || math.Abs(got-want) <= tol*math.Abs(want)
}

// B01, B02, B03: reference values of the scalar kernels.
func TestScalarReferenceValues(t *testing.T) {
	tests := []struct {
		name string
		f    func(float64) float64
		x    float64
		want float64
		tol  float64 // relative; 0 means exact
	}{
		{"B03 softplus(16.5)", Softplus64, 16.5, 16.500000068256, 1e-12},
		{"B03 softplus(16.5) exact digits", Softplus64, 16.5, 16.5 + math.Exp(-16.5) - math.Exp(-33)/2, 1e-15},
		{"B03 log-sigmoid(-19.5) = log(1-σ(19.5))", LogSigmoid64, -19.5, -19.500000003398, 1e-12},
		{"B02 softplus(200)", Softplus64, 200, 200, 0},
		{"B02 softplus(-200) = exp(-200)", Softplus64, -200, math.Exp(-200), 1e-15},
		{"B01 softplus(150)", Softplus64, 150, 150, 0},
		{"B01 softplus(0) = ln 2", Softplus64, 0, math.Ln2, 1e-16},
		{"softplus(-Inf)", Softplus64, math.Inf(-1), 0, 0},
		{"softplus(+Inf)", Softplus64, math.Inf(1), math.Inf(1), 0},
		{"softplus(-800)", Softplus64, -800, 0, 0},
		{"softplus(1e-300)", Softplus64, 1e-300, math.Ln2, 1e-16},
		{"softplus(-40)", Softplus64, -40, math.Exp(-40), 1e-15},
		{"log-sigmoid(200)", LogSigmoid64, 200, -math.Exp(-200), 1e-15},
		{"log-sigmoid(-200)", LogSigmoid64, -200, -200, 0},
		{"sigmoid(-700)", Sigmoid64, -700, math.Exp(-700), 1e-14},
		{"sigmoid(+Inf)", Sigmoid64, math.Inf(1), 1, 0},
		{"sigmoid(-Inf)", Sigmoid64, math.Inf(-1), 0, 0},
		{"sigmoid(-0)", Sigmoid64, math.Copysign(0, -1), 0.5, 0},
	}
	for _, tt := range tests {
		if got := tt.f(tt.x); !relClose(got, tt.want, tt.tol) {
			t.Errorf("%s: got %.17g, want %.17g (rel tol %g)", tt.name, got, tt.want, tt.tol)
		}
	}
}

// B01: in float32 softplus(150) is 150 exactly and F(111) = -2·softplus(150) = -300 exactly.
// B02: cost softplus(200)+softplus(200) = 400 exactly in float32 and float64.
func TestScalarReferenceValues32(t *testing.T) {
	if got := Softplus32(150); got != 150 {
		t.Errorf("B01 Softplus32(150) = %v, want 150", got)
	}
	if got := -(Softplus32(150) + Softplus32(150)); got != -300 {
		t.Errorf("B01 F(111) = %v, want -300", got)
	}
	if got := Softplus32(-200) + Softplus32(200) + Softplus32(200); got != 400 {
		t.Errorf("B02 cost = %v, want 400", got)
	}
	if got := Softplus64(200) + Softplus64(200); got != 400 {
		t.Errorf("B02 float64 cost = %v, want 400", got)
	}
	if got, want := Softplus32(16.5), float32(16.500000068256); got != want {
		t.Errorf("B03 Softplus32(16.5) = %v, want %v", got, want)
	}
	if got, want := LogSigmoid32(-19.5), float32(-19.500000003398); got != want {
		t.Errorf("B03 LogSigmoid32(-19.5) = %v, want %v", got, want)
	}
	if got := Softplus32(-200); got != 0 {
		// exp(-200) underflows float32.
		t.Errorf("Softplus32(-200) = %v, want 0", got)
	}
	if got := Sigmoid32(-0.5); got != float32(0.3775406687981454) {
		t.Errorf("Sigmoid32(-0.5) = %v", got)
	}
}

// B03: sigmoid and its derivative on saturated inputs: exact 0/1, never NaN, derivative 0 at
// saturated entries, 0.25 at 0, 0.2350037122 at -0.5.
var b03X = []float64{-1662.73, 3212.54, -1093.66, 2063.80, 91.39, -1471.01, 1823.16, 1935.29, 0, -0.5}

func TestSigmoidB03(t *testing.T) {
	want := []float64{0, 1, 0, 1, 1, 0, 1, 1, 0.5, 0.3775406688}
	wantD := []float64{0, 0, 0, 0, 0, 0, 0, 0, 0.25, 0.2350037122}
	for i, x := range b03X {
		s, d := Sigmoid64(x), sigmoidPrime64(x)
		if math.IsNaN(s) || math.Abs(s-want[i]) > 1e-10 {
			t.Errorf("B03 Sigmoid64(%v) = %v, want %v", x, s, want[i])
		}
		if math.IsNaN(d) || math.Abs(d-wantD[i]) > 1e-10 {
			t.Errorf("B03 σ′(%v) = %v, want %v", x, d, wantD[i])
		}
		s32 := Sigmoid32(float32(x))
		if s32 != s32 || math.Abs(float64(s32)-want[i]) > 1e-7 {
			t.Errorf("B03 Sigmoid32(%v) = %v, want %v", x, s32, want[i])
		}
	}
}

// The kernels against straightforward formulas that are accurate on the range where each is
// used, over many magnitudes.
func TestScalarAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var worstSP, worstSig float64
	for range 200000 {
		x := (2*r.Float64() - 1) * math.Pow(10, 4*r.Float64()-3) // |x| in [1e-3, 10]·…
		if r.IntN(4) == 0 {
			x *= 100
		}
		sp := math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x)))
		worstSP = math.Max(worstSP, ulps(Softplus64(x), sp))
		var sig float64
		if x >= 0 {
			sig = 1 / (1 + math.Exp(-x))
		} else {
			sig = math.Exp(x) / (1 + math.Exp(x))
		}
		worstSig = math.Max(worstSig, ulps(Sigmoid64(x), sig))
		if math.IsNaN(Softplus64(x)) || math.IsNaN(Sigmoid64(x)) || math.IsNaN(LogSigmoid64(x)) {
			t.Fatalf("NaN at %v", x)
		}
	}
	if worstSP > 4 || worstSig > 3 {
		t.Errorf("worst error: softplus %v ulps, sigmoid %v ulps", worstSP, worstSig)
	}
	t.Logf("worst distance to reference formulas: softplus %.2g ulps, sigmoid %.2g ulps", worstSP, worstSig)
}

// Float32 results equal the float64 results rounded once, over all magnitudes, including the
// extremes of float32.
func TestScalar32(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	xs := []float32{0, -0, 1e-45, -1e-45, math.MaxFloat32, -math.MaxFloat32, 88.8, -103.9, 17.33, 15.9}
	for range 100000 {
		xs = append(xs, float32((2*r.Float64()-1)*math.Pow(10, 6*r.Float64()-3)))
	}
	for _, x := range xs {
		if got, want := Softplus32(x), float32(Softplus64(float64(x))); got != want || got != got {
			t.Fatalf("Softplus32(%v) = %v, want %v", x, got, want)
		}
		if got, want := Sigmoid32(x), float32(Sigmoid64(float64(x))); got != want || got != got {
			t.Fatalf("Sigmoid32(%v) = %v, want %v", x, got, want)
		}
		if got, want := LogSigmoid32(x), -Softplus32(-x); got != want || got != got {
			t.Fatalf("LogSigmoid32(%v) = %v, want %v", x, got, want)
		}
	}
	if got := Softplus32(math.MaxFloat32); got != math.MaxFloat32 {
		t.Errorf("Softplus32(MaxFloat32) = %v", got)
	}
}

// Each derivative kernel against a central difference of the kernel it differentiates.
func TestDerivativeKernels(t *testing.T) {
	const h = 1e-5
	for k := fnSoftplus; k <= fnSigmoidPrime2; k++ {
		dk, neg, ok := k.derivative()
		if !ok {
			t.Fatalf("%v has no derivative", fnNames[k])
		}
		for _, x := range []float64{-30, -8, -2.5, -0.5, -1e-3, 0, 1e-3, 0.7, 3, 9, 30} {
			fd := (k.eval64(x+h) - k.eval64(x-h)) / (2 * h)
			d := dk.eval64(x)
			if neg {
				d = -d
			}
			if math.Abs(d-fd) > 1e-8*(1+math.Abs(fd)) {
				t.Errorf("d/dx %s at %v: kernel %.12g, central difference %.12g", fnNames[k], x, d, fd)
			}
		}
	}
	if _, _, ok := fnSigmoidPrime3.derivative(); ok {
		t.Errorf("σ‴ should have no derivative kernel")
	}
}

func TestNoNaN(t *testing.T) {
	for _, x := range []float64{math.Inf(1), math.Inf(-1), math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64, 0, math.Copysign(0, -1)} {
		for k := fnSoftplus; k <= fnSigmoidPrime3; k++ {
			if v := k.eval64(x); math.IsNaN(v) {
				t.Errorf("%s(%v) = NaN", fnNames[k], x)
			}
		}
	}
	for k := fnSoftplus; k <= fnSigmoidPrime3; k++ {
		if v := k.eval64(math.NaN()); !math.IsNaN(v) {
			t.Errorf("%s(NaN) = %v, want NaN", fnNames[k], v)
		}
	}
}
