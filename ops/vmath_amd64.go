//go:build amd64 && !purego

package ops

import "golang.org/x/sys/cpu"

// haveVMath reports whether the AVX2 + FMA kernels of vmath_amd64.s may run. They copy the FMA
// path of math.Exp, which the Go runtime takes exactly when AVX and FMA are present, so the
// results are bit-identical to the scalar functions whenever they run.
var haveVMath = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func sigmoid64AVX2(dst, src []float64, n int) (done int)

//go:noescape
func softplus64AVX2(dst, src []float64, n int) (done int)

//go:noescape
func sigmoid32AVX2(dst, src []float32, n int) (done int)

//go:noescape
func softplus32AVX2(dst, src []float32, n int) (done int)

//go:noescape
func softplusSum64AVX2(x []float64, n int, out *[8]float64) (nan bool)

//go:noescape
func softplusSum32AVX2(x []float32, n int, out *[8]float64) (nan bool)

//go:noescape
func sigmoid64AVX512(dst, src []float64, n int) (done int)

//go:noescape
func sigmoid32AVX512(dst, src []float32, n int) (done int)

//go:noescape
func softplusSum64AVX512(x []float64, n int, out *[8]float64) (nan bool)

//go:noescape
func softplusSum32AVX512(x []float32, n int, out *[8]float64) (nan bool)
