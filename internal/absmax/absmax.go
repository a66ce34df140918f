// Package absmax finds the largest magnitude in a slice of floats, with NaN and ±Inf reported as
// +Inf, in one branch-free pass (AVX2 where available) shared among the CPUs. It serves the
// finiteness checks of data sets (datasets.CheckMatrix) and of optimisation steps (optim's bound
// check), which read large arrays at every epoch or step.
package absmax

import (
	"math"
	"sync"
	"unsafe"

	"github.com/ebm-go/ebm/internal/parallel"
)

// useAVX2 selects the vector kernels where the CPU has them (tests switch it off).
var useAVX2 = haveAVX2

// grain is the least number of entries one CPU scans.
const grain = 1 << 14

// Of returns max_i |x[i]|, or +Inf when some entry is NaN or infinite (0 for an empty slice).
func Of[T float32 | float64](x []T) float64 {
	var mu sync.Mutex
	res := 0.0
	parallel.For(len(x), len(x)/grain, func(lo, hi int) {
		m := scan(x[lo:hi])
		mu.Lock()
		res = max(res, m)
		mu.Unlock()
	})
	return res
}

func scan[T float32 | float64](x []T) float64 {
	switch d := any(x).(type) {
	case []float32:
		return scan32(d)
	case []float64:
		return scan64(d)
	}
	return math.Inf(1)
}

func scan32(x []float32) float64 {
	bits, done := uint32(0), 0
	if useAVX2 && len(x) >= 8 {
		done = len(x) &^ 7
		bits = absMax32AVX2(unsafe.Pointer(&x[0]), done)
	}
	for _, v := range x[done:] {
		bits = max(bits, math.Float32bits(v)&0x7fffffff)
	}
	if bits >= 0x7f800000 { // ±Inf, or NaN (larger bits)
		return math.Inf(1)
	}
	return float64(math.Float32frombits(bits))
}

func scan64(x []float64) float64 {
	m, nan, done := 0.0, false, 0
	if useAVX2 && len(x) >= 4 {
		done = len(x) &^ 3
		m, nan = absMax64AVX2(unsafe.Pointer(&x[0]), done)
	}
	for _, v := range x[done:] {
		nan = nan || v != v
		m = max(m, math.Abs(v))
	}
	if nan || math.IsInf(m, 1) {
		return math.Inf(1)
	}
	return m
}
