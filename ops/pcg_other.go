//go:build !amd64 || purego

package ops

import "unsafe"

const havePCG512 = false

func pcgUniformsAVX512(u unsafe.Pointer, n int, st *[16]uint64, c *[8]uint64) {
	panic("ops: no vector kernels")
}
