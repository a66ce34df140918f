//go:build !amd64 || purego

package optim

import "unsafe"

const haveAVX2 = false

func momentum32AVX2(th, gr, v unsafe.Pointer, n int, lr, mom, decay float32, mx *[16]float32) {
	panic("no AVX2")
}
func momentum64AVX2(th, gr, v unsafe.Pointer, n int, lr, mom, decay float64, mx *[8]float64) {
	panic("no AVX2")
}
func stepFinite32AVX2(th, gr, v unsafe.Pointer, n int, lr, mom, decay float32) bool {
	panic("no AVX2")
}
func stepFinite64AVX2(th, gr, v unsafe.Pointer, n int, lr, mom, decay float64) bool {
	panic("no AVX2")
}
