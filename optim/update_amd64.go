//go:build amd64 && !purego

package optim

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

var haveAVX2 = cpu.X86.HasAVX2

//go:noescape
func momentum32AVX2(th, gr, v unsafe.Pointer, n int, lr, mom, decay float32, mx *[16]float32)

//go:noescape
func momentum64AVX2(th, gr, v unsafe.Pointer, n int, lr, mom, decay float64, mx *[8]float64)

//go:noescape
func stepFinite32AVX2(th, gr, v unsafe.Pointer, n int, lr, mom, decay float32) bool

//go:noescape
func stepFinite64AVX2(th, gr, v unsafe.Pointer, n int, lr, mom, decay float64) bool
