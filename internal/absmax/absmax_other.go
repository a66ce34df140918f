//go:build !amd64 || purego

package absmax

import "unsafe"

const haveAVX2 = false

func absMax32AVX2(x unsafe.Pointer, n int) uint32                  { panic("absmax: no AVX2") }
func absMax64AVX2(x unsafe.Pointer, n int) (max float64, nan bool) { panic("absmax: no AVX2") }
