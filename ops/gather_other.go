//go:build !amd64 || purego

package ops

import "unsafe"

func axpyRows32AVX2(dst, m unsafe.Pointer, ld int, idx []int32, val unsafe.Pointer, n int) {
	panic("ops: no vector kernels")
}
func addRows32AVX2(dst, m unsafe.Pointer, ld int, idx []int32, n int) {
	panic("ops: no vector kernels")
}
func axpyRows64AVX2(dst, m unsafe.Pointer, ld int, idx []int32, val unsafe.Pointer, n int) {
	panic("ops: no vector kernels")
}
func addRows64AVX2(dst, m unsafe.Pointer, ld int, idx []int32, n int) {
	panic("ops: no vector kernels")
}

func transposeBlocks32AVX2(dst, src unsafe.Pointer, ldd, lds, blocks int) {
	panic("ops: no vector kernels")
}
func transposeBlocks64AVX2(dst, src unsafe.Pointer, ldd, lds, blocks int) {
	panic("ops: no vector kernels")
}

func compact32AVX2(x unsafe.Pointer, n int, base int32, idx, val, lut unsafe.Pointer) (int, bool) {
	panic("ops: no vector kernels")
}
func compact64AVX2(x unsafe.Pointer, n int, base int32, idx, val, lut unsafe.Pointer) (int, bool) {
	panic("ops: no vector kernels")
}

const haveAVX512 = false

func axpyRows32AVX512(dst, m unsafe.Pointer, ld int, idx []int32, val unsafe.Pointer, n int) {
	panic("ops: no vector kernels")
}
func addRows32AVX512(dst, m unsafe.Pointer, ld int, idx []int32, n int) {
	panic("ops: no vector kernels")
}
func axpyRows64AVX512(dst, m unsafe.Pointer, ld int, idx []int32, val unsafe.Pointer, n int) {
	panic("ops: no vector kernels")
}
func addRows64AVX512(dst, m unsafe.Pointer, ld int, idx []int32, n int) {
	panic("ops: no vector kernels")
}
