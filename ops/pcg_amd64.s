//go:build amd64 && !purego

#include "textflag.h"

// func pcgUniformsAVX512(u unsafe.Pointer, n int, st *[16]uint64, c *[8]uint64)
//
// Eight interleaved sub-streams of math/rand/v2's PCG, one per 64-bit lane: st holds the lanes'
// states (hi words, then lo words), each the state of the draw it outputs next; lane j outputs
// draws j, j+8, j+16, … and steps by eight generator steps (the map in c). For each draw:
// x = DXSM(hi, lo); u = float64(x mod 2⁵³)·2⁻⁵³, exactly as rand.Rand.Float64 (the conversion is
// exact below 2⁵³). n is a multiple of 8.
//
// c: [0] multiplier hi, [1] multiplier lo, [2] increment hi, [3] increment lo, [4] low 32 bits
// of the multiplier's lo word, [5] its high 32 bits, [6] DXSM's multiplier, [7] unused.
//
// The 128-bit product keeps its low 128 bits: lo·mulLo in full (the high half from four 32×32
// products), plus hi·mulLo and lo·mulHi modulo 2⁶⁴.
TEXT ·pcgUniformsAVX512(SB), NOSPLIT, $0-32
	MOVQ u+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ st+16(FP), SI
	MOVQ c+24(FP), R8
	VMOVDQU64    0(SI), Z0         // hi
	VMOVDQU64    64(SI), Z1        // lo
	VPBROADCASTQ 0(R8), Z20        // mulHi
	VPBROADCASTQ 8(R8), Z21        // mulLo
	VPBROADCASTQ 16(R8), Z22       // incHi
	VPBROADCASTQ 24(R8), Z23       // incLo
	VPBROADCASTQ 32(R8), Z24       // mulLo low 32 bits
	VPBROADCASTQ 40(R8), Z25       // mulLo high 32 bits
	VPBROADCASTQ 48(R8), Z26       // DXSM multiplier
	MOVQ         $1, AX
	VPBROADCASTQ AX, Z27           // 1
	MOVQ         $0x1fffffffffffff, AX
	VPBROADCASTQ AX, Z28           // 2⁵³ - 1
	MOVQ         $0x3ca0000000000000, AX
	VPBROADCASTQ AX, Z29           // 2⁻⁵³
	MOVQ         $0xffffffff, AX
	VPBROADCASTQ AX, Z30           // low 32 bits
	XORQ         AX, AX
loop:
	CMPQ AX, CX
	JGE  done
	// Output: x = hi ^ hi>>32; x *= cheapMul; x ^= x>>48; x *= lo|1.
	VPSRLQ    $32, Z0, Z2
	VPXORQ    Z2, Z0, Z2
	VPMULLQ   Z26, Z2, Z2
	VPSRLQ    $48, Z2, Z3
	VPXORQ    Z3, Z2, Z2
	VPORQ     Z27, Z1, Z3
	VPMULLQ   Z3, Z2, Z2
	VPANDQ    Z28, Z2, Z2
	VCVTQQ2PD Z2, Z2
	VMULPD    Z29, Z2, Z2
	VMOVUPD   Z2, (DI)(AX*8)
	// Step: (hi, lo) = mul·(hi, lo) + inc mod 2¹²⁸.
	VPSRLQ    $32, Z1, Z4          // lo high 32 bits
	VPMULUDQ  Z24, Z1, Z5          // p00 = lo₀·m₀
	VPMULUDQ  Z25, Z1, Z6          // p01 = lo₀·m₁
	VPMULUDQ  Z24, Z4, Z7          // p10 = lo₁·m₀
	VPMULUDQ  Z25, Z4, Z8          // p11 = lo₁·m₁
	VPSRLQ    $32, Z5, Z9          // mid = p00>>32 + (p01 & M32) + (p10 & M32)
	VPANDQ    Z30, Z6, Z10
	VPADDQ    Z10, Z9, Z9
	VPANDQ    Z30, Z7, Z10
	VPADDQ    Z10, Z9, Z9
	VPSRLQ    $32, Z6, Z6          // high = p11 + p01>>32 + p10>>32 + mid>>32
	VPSRLQ    $32, Z7, Z7
	VPSRLQ    $32, Z9, Z9
	VPADDQ    Z6, Z8, Z8
	VPADDQ    Z7, Z8, Z8
	VPADDQ    Z9, Z8, Z8           // high 64 bits of lo·mulLo
	VPMULLQ   Z21, Z0, Z0          // hi·mulLo
	VPADDQ    Z0, Z8, Z8
	VPMULLQ   Z20, Z1, Z10         // lo·mulHi
	VPADDQ    Z10, Z8, Z8
	VPMULLQ   Z21, Z1, Z1          // lo·mulLo mod 2⁶⁴
	VPADDQ    Z23, Z1, Z1          // + incLo
	VPCMPUQ   $1, Z23, Z1, K1      // carry: the sum wrapped below incLo
	VPADDQ    Z22, Z8, Z0          // hi = high + incHi
	VPADDQ    Z27, Z0, K1, Z0      // + carry
	ADDQ      $8, AX
	JMP       loop
done:
	VZEROUPPER
	RET
