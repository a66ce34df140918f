//go:build amd64 && !purego

package absmax

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

var haveAVX2 = cpu.X86.HasAVX2

//go:noescape
func absMax32AVX2(x unsafe.Pointer, n int) uint32

//go:noescape
func absMax64AVX2(x unsafe.Pointer, n int) (max float64, nan bool)
