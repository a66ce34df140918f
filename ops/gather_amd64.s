//go:build amd64 && !purego

#include "textflag.h"

// Row-gather kernels for products with sparse or binary left operands (see gather.go):
//
//	dst[j] += Σ_k val[k] · m[idx[k]·ld + j]    (axpyRows)
//	dst[j] += Σ_k m[idx[k]·ld + j]             (addRows: val ≡ 1)
//
// for j < n, the terms added in k order, each product rounded before its sum (VMUL then VADD,
// no FMA), which is exactly what gonum's pure-Go GEMM does for C += A·B when it skips the zero
// entries of A. Columns are processed in chunks of 8 vector registers so that dst stays in
// registers while the rows stream past, then one register at a time, then a masked register
// for the last n mod 8 (float32) or n mod 4 (float64) columns.
//
// Arguments: dst, m (base pointers), ld (row stride of m, elements), idx (int32 row indices),
// val (multipliers, same length as idx; unused by addRows), n (columns).

// tailmask<>+4·(8-r) holds r all-ones int32 lanes followed by zeros (r = 1..7); for float64,
// tailmask<>+8·(4-r) holds r all-ones int64 lanes.
DATA tailmask<>+0(SB)/8, $0xffffffffffffffff
DATA tailmask<>+8(SB)/8, $0xffffffffffffffff
DATA tailmask<>+16(SB)/8, $0xffffffffffffffff
DATA tailmask<>+24(SB)/8, $0xffffffffffffffff
DATA tailmask<>+32(SB)/8, $0
DATA tailmask<>+40(SB)/8, $0
DATA tailmask<>+48(SB)/8, $0
DATA tailmask<>+56(SB)/8, $0
GLOBL tailmask<>(SB), RODATA|NOPTR, $64


// func axpyRows32AVX2(dst, m unsafe.Pointer, ld int, idx []int32, val unsafe.Pointer, n int)
TEXT ·axpyRows32AVX2(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ m+8(FP), SI
	MOVQ ld+16(FP), R8
	SHLQ $2, R8
	MOVQ idx_base+24(FP), R9
	MOVQ idx_len+32(FP), R10
	MOVQ val+48(FP), R11
	MOVQ n+56(FP), CX
	XORQ AX, AX
axpyRows32AVX2big:
	LEAQ 64(AX), DX
	CMPQ DX, CX
	JGT  axpyRows32AVX2small
	VMOVUPS 0(DI)(AX*4), Y0
	VMOVUPS 32(DI)(AX*4), Y1
	VMOVUPS 64(DI)(AX*4), Y2
	VMOVUPS 96(DI)(AX*4), Y3
	VMOVUPS 128(DI)(AX*4), Y4
	VMOVUPS 160(DI)(AX*4), Y5
	VMOVUPS 192(DI)(AX*4), Y6
	VMOVUPS 224(DI)(AX*4), Y7
	XORQ BX, BX
axpyRows32AVX2bigk:
	CMPQ BX, R10
	JGE  axpyRows32AVX2bigstore
	MOVLQSX (R9)(BX*4), DX
	IMULQ R8, DX
	ADDQ SI, DX
	LEAQ (DX)(AX*4), DX
	VBROADCASTSS (R11)(BX*4), Y15
	VMULPS 0(DX), Y15, Y8
	VADDPS Y8, Y0, Y0
	VMULPS 32(DX), Y15, Y9
	VADDPS Y9, Y1, Y1
	VMULPS 64(DX), Y15, Y10
	VADDPS Y10, Y2, Y2
	VMULPS 96(DX), Y15, Y11
	VADDPS Y11, Y3, Y3
	VMULPS 128(DX), Y15, Y8
	VADDPS Y8, Y4, Y4
	VMULPS 160(DX), Y15, Y9
	VADDPS Y9, Y5, Y5
	VMULPS 192(DX), Y15, Y10
	VADDPS Y10, Y6, Y6
	VMULPS 224(DX), Y15, Y11
	VADDPS Y11, Y7, Y7
	INCQ BX
	JMP  axpyRows32AVX2bigk
axpyRows32AVX2bigstore:
	VMOVUPS Y0, 0(DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	VMOVUPS Y2, 64(DI)(AX*4)
	VMOVUPS Y3, 96(DI)(AX*4)
	VMOVUPS Y4, 128(DI)(AX*4)
	VMOVUPS Y5, 160(DI)(AX*4)
	VMOVUPS Y6, 192(DI)(AX*4)
	VMOVUPS Y7, 224(DI)(AX*4)
	ADDQ $64, AX
	JMP  axpyRows32AVX2big
axpyRows32AVX2small:
	LEAQ 8(AX), DX
	CMPQ DX, CX
	JGT  axpyRows32AVX2tail
	VMOVUPS (DI)(AX*4), Y0
	XORQ BX, BX
axpyRows32AVX2smallk:
	CMPQ BX, R10
	JGE  axpyRows32AVX2smallstore
	MOVLQSX (R9)(BX*4), DX
	IMULQ R8, DX
	ADDQ SI, DX
	LEAQ (DX)(AX*4), DX
	VBROADCASTSS (R11)(BX*4), Y15
	VMULPS (DX), Y15, Y8
	VADDPS Y8, Y0, Y0
	INCQ BX
	JMP  axpyRows32AVX2smallk
axpyRows32AVX2smallstore:
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ $8, AX
	JMP  axpyRows32AVX2small
axpyRows32AVX2tail:
	MOVQ CX, DX
	SUBQ AX, DX            // r = n - done
	JLE  axpyRows32AVX2done
	NEGQ DX
	ADDQ $8, DX      // 8 - r
	LEAQ tailmask<>(SB), R12
	VMOVDQU (R12)(DX*4), Y14
	VMASKMOVPS (DI)(AX*4), Y14, Y0
	XORQ BX, BX
axpyRows32AVX2tailk:
	CMPQ BX, R10
	JGE  axpyRows32AVX2tailstore
	MOVLQSX (R9)(BX*4), DX
	IMULQ R8, DX
	ADDQ SI, DX
	LEAQ (DX)(AX*4), DX
	VBROADCASTSS (R11)(BX*4), Y15
	VMASKMOVPS (DX), Y14, Y8
	VMULPS Y8, Y15, Y8
	VADDPS Y8, Y0, Y0
	INCQ BX
	JMP  axpyRows32AVX2tailk
axpyRows32AVX2tailstore:
	VMASKMOVPS Y0, Y14, (DI)(AX*4)
axpyRows32AVX2done:
	VZEROUPPER
	RET

// func addRows32AVX2(dst, m unsafe.Pointer, ld int, idx []int32, n int)
TEXT ·addRows32AVX2(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ m+8(FP), SI
	MOVQ ld+16(FP), R8
	SHLQ $2, R8
	MOVQ idx_base+24(FP), R9
	MOVQ idx_len+32(FP), R10
	MOVQ n+48(FP), CX
	XORQ AX, AX
addRows32AVX2big:
	LEAQ 64(AX), DX
	CMPQ DX, CX
	JGT  addRows32AVX2small
	VMOVUPS 0(DI)(AX*4), Y0
	VMOVUPS 32(DI)(AX*4), Y1
	VMOVUPS 64(DI)(AX*4), Y2
	VMOVUPS 96(DI)(AX*4), Y3
	VMOVUPS 128(DI)(AX*4), Y4
	VMOVUPS 160(DI)(AX*4), Y5
	VMOVUPS 192(DI)(AX*4), Y6
	VMOVUPS 224(DI)(AX*4), Y7
	XORQ BX, BX
addRows32AVX2bigk:
	CMPQ BX, R10
	JGE  addRows32AVX2bigstore
	MOVLQSX (R9)(BX*4), DX
	IMULQ R8, DX
	ADDQ SI, DX
	LEAQ (DX)(AX*4), DX
	VADDPS 0(DX), Y0, Y0
	VADDPS 32(DX), Y1, Y1
	VADDPS 64(DX), Y2, Y2
	VADDPS 96(DX), Y3, Y3
	VADDPS 128(DX), Y4, Y4
	VADDPS 160(DX), Y5, Y5
	VADDPS 192(DX), Y6, Y6
	VADDPS 224(DX), Y7, Y7
	INCQ BX
	JMP  addRows32AVX2bigk
addRows32AVX2bigstore:
	VMOVUPS Y0, 0(DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	VMOVUPS Y2, 64(DI)(AX*4)
	VMOVUPS Y3, 96(DI)(AX*4)
	VMOVUPS Y4, 128(DI)(AX*4)
	VMOVUPS Y5, 160(DI)(AX*4)
	VMOVUPS Y6, 192(DI)(AX*4)
	VMOVUPS Y7, 224(DI)(AX*4)
	ADDQ $64, AX
	JMP  addRows32AVX2big
addRows32AVX2small:
	LEAQ 8(AX), DX
	CMPQ DX, CX
	JGT  addRows32AVX2tail
	VMOVUPS (DI)(AX*4), Y0
	XORQ BX, BX
addRows32AVX2smallk:
	CMPQ BX, R10
	JGE  addRows32AVX2smallstore
	MOVLQSX (R9)(BX*4), DX
	IMULQ R8, DX
	ADDQ SI, DX
	LEAQ (DX)(AX*4), DX
	VADDPS (DX), Y0, Y0
	INCQ BX
	JMP  addRows32AVX2smallk
addRows32AVX2smallstore:
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ $8, AX
	JMP  addRows32AVX2small
addRows32AVX2tail:
	MOVQ CX, DX
	SUBQ AX, DX            // r = n - done
	JLE  addRows32AVX2done
	NEGQ DX
	ADDQ $8, DX      // 8 - r
	LEAQ tailmask<>(SB), R12
	VMOVDQU (R12)(DX*4), Y14
	VMASKMOVPS (DI)(AX*4), Y14, Y0
	XORQ BX, BX
addRows32AVX2tailk:
	CMPQ BX, R10
	JGE  addRows32AVX2tailstore
	MOVLQSX (R9)(BX*4), DX
	IMULQ R8, DX
	ADDQ SI, DX
	LEAQ (DX)(AX*4), DX
	VMASKMOVPS (DX), Y14, Y8
	VADDPS Y8, Y0, Y0
	INCQ BX
	JMP  addRows32AVX2tailk
addRows32AVX2tailstore:
	VMASKMOVPS Y0, Y14, (DI)(AX*4)
addRows32AVX2done:
	VZEROUPPER
	RET

// func axpyRows64AVX2(dst, m unsafe.Pointer, ld int, idx []int32, val unsafe.Pointer, n int)
TEXT ·axpyRows64AVX2(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ m+8(FP), SI
	MOVQ ld+16(FP), R8
	SHLQ $3, R8
	MOVQ idx_base+24(FP), R9
	MOVQ idx_len+32(FP), R10
	MOVQ val+48(FP), R11
	MOVQ n+56(FP), CX
	XORQ AX, AX
axpyRows64AVX2big:
	LEAQ 32(AX), DX
	CMPQ DX, CX
	JGT  axpyRows64AVX2small
	VMOVUPD 0(DI)(AX*8), Y0
	VMOVUPD 32(DI)(AX*8), Y1
	VMOVUPD 64(DI)(AX*8), Y2
	VMOVUPD 96(DI)(AX*8), Y3
	VMOVUPD 128(DI)(AX*8), Y4
	VMOVUPD 160(DI)(AX*8), Y5
	VMOVUPD 192(DI)(AX*8), Y6
	VMOVUPD 224(DI)(AX*8), Y7
	XORQ BX, BX
axpyRows64AVX2bigk:
	CMPQ BX, R10
	JGE  axpyRows64AVX2bigstore
	MOVLQSX (R9)(BX*4), DX
	IMULQ R8, DX
	ADDQ SI, DX
	LEAQ (DX)(AX*8), DX
	VBROADCASTSD (R11)(BX*8), Y15
	VMULPD 0(DX), Y15, Y8
	VADDPD Y8, Y0, Y0
	VMULPD 32(DX), Y15, Y9
	VADDPD Y9, Y1, Y1
	VMULPD 64(DX), Y15, Y10
	VADDPD Y10, Y2, Y2
	VMULPD 96(DX), Y15, Y11
	VADDPD Y11, Y3, Y3
	VMULPD 128(DX), Y15, Y8
	VADDPD Y8, Y4, Y4
	VMULPD 160(DX), Y15, Y9
	VADDPD Y9, Y5, Y5
	VMULPD 192(DX), Y15, Y10
	VADDPD Y10, Y6, Y6
	VMULPD 224(DX), Y15, Y11
	VADDPD Y11, Y7, Y7
	INCQ BX
	JMP  axpyRows64AVX2bigk
axpyRows64AVX2bigstore:
	VMOVUPD Y0, 0(DI)(AX*8)
	VMOVUPD Y1, 32(DI)(AX*8)
	VMOVUPD Y2, 64(DI)(AX*8)
	VMOVUPD Y3, 96(DI)(AX*8)
	VMOVUPD Y4, 128(DI)(AX*8)
	VMOVUPD Y5, 160(DI)(AX*8)
	VMOVUPD Y6, 192(DI)(AX*8)
	VMOVUPD Y7, 224(DI)(AX*8)
	ADDQ $32, AX
	JMP  axpyRows64AVX2big
axpyRows64AVX2small:
	LEAQ 4(AX), DX
	CMPQ DX, CX
	JGT  axpyRows64AVX2tail
	VMOVUPD (DI)(AX*8), Y0
	XORQ BX, BX
axpyRows64AVX2smallk:
	CMPQ BX, R10
	JGE  axpyRows64AVX2smallstore
	MOVLQSX (R9)(BX*4), DX
	IMULQ R8, DX
	ADDQ SI, DX
	LEAQ (DX)(AX*8), DX
	VBROADCASTSD (R11)(BX*8), Y15
	VMULPD (DX), Y15, Y8
	VADDPD Y8, Y0, Y0
	INCQ BX
	JMP  axpyRows64AVX2smallk
axpyRows64AVX2smallstore:
	VMOVUPD Y0, (DI)(AX*8)
	ADDQ $4, AX
	JMP  axpyRows64AVX2small
axpyRows64AVX2tail:
	MOVQ CX, DX
	SUBQ AX, DX            // r = n - done
	JLE  axpyRows64AVX2done
	NEGQ DX
	ADDQ $4, DX      // 4 - r
	LEAQ tailmask<>(SB), R12
	VMOVDQU (R12)(DX*8), Y14
	VMASKMOVPD (DI)(AX*8), Y14, Y0
	XORQ BX, BX
axpyRows64AVX2tailk:
	CMPQ BX, R10
	JGE  axpyRows64AVX2tailstore
	MOVLQSX (R9)(BX*4), DX
	IMULQ R8, DX
	ADDQ SI, DX
	LEAQ (DX)(AX*8), DX
	VBROADCASTSD (R11)(BX*8), Y15
	VMASKMOVPD (DX), Y14, Y8
	VMULPD Y8, Y15, Y8
	VADDPD Y8, Y0, Y0
	INCQ BX
	JMP  axpyRows64AVX2tailk
axpyRows64AVX2tailstore:
	VMASKMOVPD Y0, Y14, (DI)(AX*8)
axpyRows64AVX2done:
	VZEROUPPER
	RET

// func addRows64AVX2(dst, m unsafe.Pointer, ld int, idx []int32, n int)
TEXT ·addRows64AVX2(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ m+8(FP), SI
	MOVQ ld+16(FP), R8
	SHLQ $3, R8
	MOVQ idx_base+24(FP), R9
	MOVQ idx_len+32(FP), R10
	MOVQ n+48(FP), CX
	XORQ AX, AX
addRows64AVX2big:
	LEAQ 32(AX), DX
	CMPQ DX, CX
	JGT  addRows64AVX2small
	VMOVUPD 0(DI)(AX*8), Y0
	VMOVUPD 32(DI)(AX*8), Y1
	VMOVUPD 64(DI)(AX*8), Y2
	VMOVUPD 96(DI)(AX*8), Y3
	VMOVUPD 128(DI)(AX*8), Y4
	VMOVUPD 160(DI)(AX*8), Y5
	VMOVUPD 192(DI)(AX*8), Y6
	VMOVUPD 224(DI)(AX*8), Y7
	XORQ BX, BX
addRows64AVX2bigk:
	CMPQ BX, R10
	JGE  addRows64AVX2bigstore
	MOVLQSX (R9)(BX*4), DX
	IMULQ R8, DX
	ADDQ SI, DX
	LEAQ (DX)(AX*8), DX
	VADDPD 0(DX), Y0, Y0
	VADDPD 32(DX), Y1, Y1
	VADDPD 64(DX), Y2, Y2
	VADDPD 96(DX), Y3, Y3
	VADDPD 128(DX), Y4, Y4
	VADDPD 160(DX), Y5, Y5
	VADDPD 192(DX), Y6, Y6
	VADDPD 224(DX), Y7, Y7
	INCQ BX
	JMP  addRows64AVX2bigk
addRows64AVX2bigstore:
	VMOVUPD Y0, 0(DI)(AX*8)
	VMOVUPD Y1, 32(DI)(AX*8)
	VMOVUPD Y2, 64(DI)(AX*8)
	VMOVUPD Y3, 96(DI)(AX*8)
	VMOVUPD Y4, 128(DI)(AX*8)
	VMOVUPD Y5, 160(DI)(AX*8)
	VMOVUPD Y6, 192(DI)(AX*8)
	VMOVUPD Y7, 224(DI)(AX*8)
	ADDQ $32, AX
	JMP  addRows64AVX2big
addRows64AVX2small:
	LEAQ 4(AX), DX
	CMPQ DX, CX
	JGT  addRows64AVX2tail
	VMOVUPD (DI)(AX*8), Y0
	XORQ BX, BX
addRows64AVX2smallk:
	CMPQ BX, R10
	JGE  addRows64AVX2smallstore
	MOVLQSX (R9)(BX*4), DX
	IMULQ R8, DX
	ADDQ SI, DX
	LEAQ (DX)(AX*8), DX
	VADDPD (DX), Y0, Y0
	INCQ BX
	JMP  addRows64AVX2smallk
addRows64AVX2smallstore:
	VMOVUPD Y0, (DI)(AX*8)
	ADDQ $4, AX
	JMP  addRows64AVX2small
addRows64AVX2tail:
	MOVQ CX, DX
	SUBQ AX, DX            // r = n - done
	JLE  addRows64AVX2done
	NEGQ DX
	ADDQ $4, DX      // 4 - r
	LEAQ tailmask<>(SB), R12
	VMOVDQU (R12)(DX*8), Y14
	VMASKMOVPD (DI)(AX*8), Y14, Y0
	XORQ BX, BX
addRows64AVX2tailk:
	CMPQ BX, R10
	JGE  addRows64AVX2tailstore
	MOVLQSX (R9)(BX*4), DX
	IMULQ R8, DX
	ADDQ SI, DX
	LEAQ (DX)(AX*8), DX
	VMASKMOVPD (DX), Y14, Y8
	VADDPD Y8, Y0, Y0
	INCQ BX
	JMP  addRows64AVX2tailk
addRows64AVX2tailstore:
	VMASKMOVPD Y0, Y14, (DI)(AX*8)
addRows64AVX2done:
	VZEROUPPER
	RET
