//go:build amd64 && !purego

#include "textflag.h"

// The momentum update of train.go in AVX2, the same operations in the same order (each product
// rounded, then the sums), so results equal the scalar loop's bit for bit:
//
//	gi = g + decay·θ;  Δ = mom·Δ - lr·gi;  θ = θ + Δ
//
// with the largest |θ'| and |Δ'| kept in passing (for the next step's bound, checkBound), and the
// check that the update would leave every parameter finite: θ' = θ + Δ' computed as above but
// not stored, and θ' - θ' (+0 when finite, NaN otherwise) OR-ed over all entries.

// func momentum32AVX2(th, gr, v unsafe.Pointer, n int, lr, mom, decay float32, mx *[16]float32)
// mx receives the lane maxima of |θ'| (mx[0:8]) and |Δ'| (mx[8:16]).
TEXT ·momentum32AVX2(SB), NOSPLIT, $0-56
	MOVQ th+0(FP), DI
	MOVQ gr+8(FP), SI
	MOVQ v+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS lr+32(FP), Y13
	VBROADCASTSS mom+36(FP), Y14
	VBROADCASTSS decay+40(FP), Y15
	VPCMPEQD Y11, Y11, Y11
	VPSRLD   $1, Y11, Y11          // 0x7fffffff: |x|
	VXORPS   Y8, Y8, Y8            // max |θ'|
	VXORPS   Y9, Y9, Y9            // max |Δ'|
	XORQ AX, AX
m32loop:
	CMPQ AX, CX
	JGE  m32done
	VMOVUPS (DI)(AX*4), Y0      // θ
	VMOVUPS (SI)(AX*4), Y1      // g
	VMOVUPS (DX)(AX*4), Y2      // Δ
	VMULPS Y0, Y15, Y3             // decay·θ
	VADDPS Y3, Y1, Y3              // g + decay·θ
	VMULPS Y2, Y14, Y4             // mom·Δ
	VMULPS Y3, Y13, Y5             // lr·(g + decay·θ)
	VSUBPS Y5, Y4, Y2              // Δ = mom·Δ - lr·(...)
	VADDPS Y2, Y0, Y0              // θ + Δ
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y2, (DX)(AX*4)
	VANDPS Y11, Y0, Y6
	VMAXPS Y6, Y8, Y8
	VANDPS Y11, Y2, Y7
	VMAXPS Y7, Y9, Y9
	ADDQ $8, AX
	JMP  m32loop
m32done:
	MOVQ    mx+48(FP), DI
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, 32(DI)
	VZEROUPPER
	RET

// func stepFinite32AVX2(th, gr, v unsafe.Pointer, n int, lr, mom, decay float32) bool
TEXT ·stepFinite32AVX2(SB), NOSPLIT, $0-49
	MOVQ th+0(FP), DI
	MOVQ gr+8(FP), SI
	MOVQ v+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS lr+32(FP), Y13
	VBROADCASTSS mom+36(FP), Y14
	VBROADCASTSS decay+40(FP), Y15
	VXORPS Y10, Y10, Y10          // OR of (θ' - θ') bits
	XORQ AX, AX
s32loop:
	CMPQ AX, CX
	JGE  s32done
	VMOVUPS (DI)(AX*4), Y0      // θ
	VMOVUPS (SI)(AX*4), Y1      // g
	VMOVUPS (DX)(AX*4), Y2      // Δ
	VMULPS Y0, Y15, Y3             // decay·θ
	VADDPS Y3, Y1, Y3              // g + decay·θ
	VMULPS Y2, Y14, Y4             // mom·Δ
	VMULPS Y3, Y13, Y5             // lr·(g + decay·θ)
	VSUBPS Y5, Y4, Y2              // Δ' = mom·Δ - lr·(...)
	VADDPS Y2, Y0, Y0              // θ' = θ + Δ'
	VSUBPS Y0, Y0, Y0              // θ' - θ': +0 (all bits clear), or NaN when θ' is not finite
	VORPS Y0, Y10, Y10              // OR of the bits: no long dependency chain
	ADDQ $8, AX
	JMP  s32loop
s32done:
	VPTEST Y10, Y10                // all bits clear: every θ' finite
	SETEQ ret+48(FP)
	VZEROUPPER
	RET

// func momentum64AVX2(th, gr, v unsafe.Pointer, n int, lr, mom, decay float64, mx *[8]float64)
// mx receives the lane maxima of |θ'| (mx[0:4]) and |Δ'| (mx[4:8]).
TEXT ·momentum64AVX2(SB), NOSPLIT, $0-64
	MOVQ th+0(FP), DI
	MOVQ gr+8(FP), SI
	MOVQ v+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSD lr+32(FP), Y13
	VBROADCASTSD mom+40(FP), Y14
	VBROADCASTSD decay+48(FP), Y15
	VPCMPEQQ Y11, Y11, Y11
	VPSRLQ   $1, Y11, Y11          // |x| mask
	VXORPD   Y8, Y8, Y8
	VXORPD   Y9, Y9, Y9
	XORQ AX, AX
m64loop:
	CMPQ AX, CX
	JGE  m64done
	VMOVUPD (DI)(AX*8), Y0      // θ
	VMOVUPD (SI)(AX*8), Y1      // g
	VMOVUPD (DX)(AX*8), Y2      // Δ
	VMULPD Y0, Y15, Y3             // decay·θ
	VADDPD Y3, Y1, Y3              // g + decay·θ
	VMULPD Y2, Y14, Y4             // mom·Δ
	VMULPD Y3, Y13, Y5             // lr·(g + decay·θ)
	VSUBPD Y5, Y4, Y2              // Δ = mom·Δ - lr·(...)
	VADDPD Y2, Y0, Y0              // θ + Δ
	VMOVUPD Y0, (DI)(AX*8)
	VMOVUPD Y2, (DX)(AX*8)
	VANDPD Y11, Y0, Y6
	VMAXPD Y6, Y8, Y8
	VANDPD Y11, Y2, Y7
	VMAXPD Y7, Y9, Y9
	ADDQ $4, AX
	JMP  m64loop
m64done:
	MOVQ    mx+56(FP), DI
	VMOVUPD Y8, (DI)
	VMOVUPD Y9, 32(DI)
	VZEROUPPER
	RET

// func stepFinite64AVX2(th, gr, v unsafe.Pointer, n int, lr, mom, decay float64) bool
TEXT ·stepFinite64AVX2(SB), NOSPLIT, $0-57
	MOVQ th+0(FP), DI
	MOVQ gr+8(FP), SI
	MOVQ v+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSD lr+32(FP), Y13
	VBROADCASTSD mom+40(FP), Y14
	VBROADCASTSD decay+48(FP), Y15
	VXORPD Y10, Y10, Y10          // OR of (θ' - θ') bits
	XORQ AX, AX
s64loop:
	CMPQ AX, CX
	JGE  s64done
	VMOVUPD (DI)(AX*8), Y0      // θ
	VMOVUPD (SI)(AX*8), Y1      // g
	VMOVUPD (DX)(AX*8), Y2      // Δ
	VMULPD Y0, Y15, Y3             // decay·θ
	VADDPD Y3, Y1, Y3              // g + decay·θ
	VMULPD Y2, Y14, Y4             // mom·Δ
	VMULPD Y3, Y13, Y5             // lr·(g + decay·θ)
	VSUBPD Y5, Y4, Y2              // Δ' = mom·Δ - lr·(...)
	VADDPD Y2, Y0, Y0              // θ' = θ + Δ'
	VSUBPD Y0, Y0, Y0              // θ' - θ': +0 (all bits clear), or NaN when θ' is not finite
	VORPD Y0, Y10, Y10              // OR of the bits: no long dependency chain
	ADDQ $4, AX
	JMP  s64loop
s64done:
	VPTEST Y10, Y10                // all bits clear: every θ' finite
	SETEQ ret+56(FP)
	VZEROUPPER
	RET
