//go:build amd64 && !purego

package ops

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

//go:noescape
func axpyRows32AVX2(dst, m unsafe.Pointer, ld int, idx []int32, val unsafe.Pointer, n int)

//go:noescape
func addRows32AVX2(dst, m unsafe.Pointer, ld int, idx []int32, n int)

//go:noescape
func axpyRows64AVX2(dst, m unsafe.Pointer, ld int, idx []int32, val unsafe.Pointer, n int)

//go:noescape
func addRows64AVX2(dst, m unsafe.Pointer, ld int, idx []int32, n int)

//go:noescape
func transposeBlocks32AVX2(dst, src unsafe.Pointer, ldd, lds, blocks int)

//go:noescape
func transposeBlocks64AVX2(dst, src unsafe.Pointer, ldd, lds, blocks int)

//go:noescape
func compact32AVX2(x unsafe.Pointer, n int, base int32, idx, val, lut unsafe.Pointer) (count int, notOne bool)

//go:noescape
func compact64AVX2(x unsafe.Pointer, n int, base int32, idx, val, lut unsafe.Pointer) (count int, notOne bool)

// haveAVX512 selects the AVX-512 gather kernels (same results as the AVX2 ones, bit for bit).
var haveAVX512 = haveVMath && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW

//go:noescape
func axpyRows32AVX512(dst, m unsafe.Pointer, ld int, idx []int32, val unsafe.Pointer, n int)

//go:noescape
func addRows32AVX512(dst, m unsafe.Pointer, ld int, idx []int32, n int)

//go:noescape
func axpyRows64AVX512(dst, m unsafe.Pointer, ld int, idx []int32, val unsafe.Pointer, n int)

//go:noescape
func addRows64AVX512(dst, m unsafe.Pointer, ld int, idx []int32, n int)
