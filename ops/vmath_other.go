//go:build !amd64 || purego

package ops

const haveVMath = false

func sigmoid64AVX2(dst, src []float64, n int) int  { panic("ops: no vector kernels") }
func softplus64AVX2(dst, src []float64, n int) int { panic("ops: no vector kernels") }
func sigmoid32AVX2(dst, src []float32, n int) int  { panic("ops: no vector kernels") }
func softplus32AVX2(dst, src []float32, n int) int { panic("ops: no vector kernels") }

func softplusSum64AVX2(x []float64, n int, out *[8]float64) bool { panic("ops: no vector kernels") }
func softplusSum32AVX2(x []float32, n int, out *[8]float64) bool { panic("ops: no vector kernels") }

func sigmoid64AVX512(dst, src []float64, n int) int { panic("ops: no vector kernels") }
func sigmoid32AVX512(dst, src []float32, n int) int { panic("ops: no vector kernels") }

func softplusSum64AVX512(x []float64, n int, out *[8]float64) bool { panic("ops: no vector kernels") }
func softplusSum32AVX512(x []float32, n int, out *[8]float64) bool { panic("ops: no vector kernels") }
