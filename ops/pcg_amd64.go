//go:build amd64 && !purego

package ops

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// havePCG512 selects the AVX-512 kernel of pcgUniforms (64-bit multiplies need AVX512DQ).
var havePCG512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ

//go:noescape
func pcgUniformsAVX512(u unsafe.Pointer, n int, st *[16]uint64, c *[8]uint64)
