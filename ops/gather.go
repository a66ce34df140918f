package ops

import "unsafe"

// Row-gather kernels: the inner loop of every matrix product in this package. A product x·M
// whose left operand x has few non-zero entries per row (MNIST pixels, sampled binary states)
// costs, for each row of x, one pass over the rows of M picked by x's non-zeros:
//
//	dst[j] += Σ_k val[k] · m[idx[k]·ld + j]
//
// Each term is rounded before it is added, in k order, exactly as gonum's pure-Go GEMM
// accumulates C += A·B (it too skips zero entries of A), so a product computed here equals
// Gorgonia's default-build MatMul bit for bit when the index lists are in increasing order.

// useAVX512 selects the AVX-512 kernels where the CPU has them (tests switch it off to check
// the AVX2 ones too). Both give the same results bit for bit.
var useAVX512 = haveAVX512

// axpyRows32 adds Σ_k val[k]·m[idx[k]·ld : idx[k]·ld+len(dst)] into dst (val nil: every
// multiplier is 1, the rows are just added). Every idx[k]·ld + len(dst) must be ≤ len(m).
func axpyRows32(dst, m []float32, ld int, idx []int32, val []float32) {
	n := len(dst)
	if n == 0 || len(idx) == 0 {
		return
	}
	checkGather(len(m), ld, n, idx, len(val))
	gatherRows32(dst, m, ld, idx, val)
}

// gatherRows32 is axpyRows32 without the bounds checks, for callers that have made them.
func gatherRows32(dst, m []float32, ld int, idx []int32, val []float32) {
	n := len(dst)
	if n == 0 || len(idx) == 0 {
		return
	}
	if haveVMath {
		d, p := unsafe.Pointer(&dst[0]), unsafe.Pointer(&m[0])
		switch {
		case useAVX512 && val == nil:
			addRows32AVX512(d, p, ld, idx, n)
		case useAVX512:
			axpyRows32AVX512(d, p, ld, idx, unsafe.Pointer(&val[0]), n)
		case val == nil:
			addRows32AVX2(d, p, ld, idx, n)
		default:
			axpyRows32AVX2(d, p, ld, idx, unsafe.Pointer(&val[0]), n)
		}
		return
	}
	for k, i := range idx {
		row := m[int(i)*ld : int(i)*ld+n]
		if val == nil {
			for j, w := range row {
				dst[j] += w
			}
			continue
		}
		v := val[k]
		for j, w := range row {
			dst[j] += float32(v * w) // the conversion forbids fusing into an FMA
		}
	}
}

// axpyRows64 is axpyRows32 for float64.
func axpyRows64(dst, m []float64, ld int, idx []int32, val []float64) {
	n := len(dst)
	if n == 0 || len(idx) == 0 {
		return
	}
	checkGather(len(m), ld, n, idx, len(val))
	gatherRows64(dst, m, ld, idx, val)
}

// gatherRows64 is axpyRows64 without the bounds checks, for callers that have made them.
func gatherRows64(dst, m []float64, ld int, idx []int32, val []float64) {
	n := len(dst)
	if n == 0 || len(idx) == 0 {
		return
	}
	if haveVMath {
		d, p := unsafe.Pointer(&dst[0]), unsafe.Pointer(&m[0])
		switch {
		case useAVX512 && val == nil:
			addRows64AVX512(d, p, ld, idx, n)
		case useAVX512:
			axpyRows64AVX512(d, p, ld, idx, unsafe.Pointer(&val[0]), n)
		case val == nil:
			addRows64AVX2(d, p, ld, idx, n)
		default:
			axpyRows64AVX2(d, p, ld, idx, unsafe.Pointer(&val[0]), n)
		}
		return
	}
	for k, i := range idx {
		row := m[int(i)*ld : int(i)*ld+n]
		if val == nil {
			for j, w := range row {
				dst[j] += w
			}
			continue
		}
		v := val[k]
		for j, w := range row {
			dst[j] += float64(v * w)
		}
	}
}

// checkGather panics (a broken internal invariant) unless every row idx[k] of m, with stride
// ld, has n readable entries and val (when given) matches idx.
func checkGather(lenM, ld, n int, idx []int32, lenVal int) {
	if lenVal != 0 && lenVal != len(idx) {
		panic("ops: gather: multipliers and indices differ in length")
	}
	hi := int32(0)
	for _, i := range idx {
		if i < 0 {
			panic("ops: gather: negative row index")
		}
		hi = max(hi, i)
	}
	if int(hi)*ld+n > lenM {
		panic("ops: gather: row index out of range")
	}
}
