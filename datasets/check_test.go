package datasets

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// TestCheckMatrixFinite puts one NaN or ±Inf at the ends and inside the pieces the scan is shared
// out in and checks that CheckMatrix names its row and column, in both dtypes, while extreme
// finite values (±MaxFloat, subnormals, -0) pass.
func TestCheckMatrixFinite(t *testing.T) {
	const rows, cols = 700, 200 // 140,000 entries: two CPUs' chunks and more
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		x := tensor.New(tensor.WithShape(rows, cols), tensor.Of(dt))
		set := func(i int, v float64) {
			switch d := x.Data().(type) {
			case []float32:
				d[i] = float32(v)
			case []float64:
				d[i] = v
			}
		}
		maxFinite := math.MaxFloat64
		if dt == tensor.Float32 {
			maxFinite = math.MaxFloat32
		}
		for i, v := range []float64{maxFinite, -maxFinite, 1e-40, math.Copysign(0, -1), 1e-310} {
			set(i*30001, v)
		}
		if err := CheckMatrix("data", x, cols, dt); err != nil {
			t.Fatalf("%v: finite extremes rejected: %v", dt, err)
		}
		for _, at := range []int{0, 1, 65535, 65536, 65537, 100003, rows*cols - 1} {
			for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
				set(at, bad)
				err := CheckMatrix("data", x, cols, dt)
				want := fmt.Sprintf("data row %d column %d is %v", at/cols, at%cols, bad)
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("%v: %v at %d: error %v, want it to contain %q", dt, bad, at, err, want)
				}
				set(at, 0.5)
			}
		}
	}
}

// TestCheckMatrixBlocks: sizes that the scan's chunks do not divide evenly (1,000 and 1,337 MNIST
// rows; 1,000 rows once made the CPUs' chunks overrun the data) are scanned whole.
func TestCheckMatrixBlocks(t *testing.T) {
	for _, rows := range []int{1000, 1337} {
		x := tensor.New(tensor.WithShape(rows, 784), tensor.Of(tensor.Float32))
		if err := CheckMatrix("data", x, 784, tensor.Float32); err != nil {
			t.Fatalf("%d rows of zeros: %v", rows, err)
		}
		d := x.Float32s()
		d[len(d)-1] = float32(math.Inf(1))
		if err := CheckMatrix("data", x, 784, tensor.Float32); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("row %d column 783", rows-1)) {
			t.Fatalf("%d rows: +Inf in the last entry: error %v", rows, err)
		}
	}
}
