//go:build amd64 && !purego

#include "textflag.h"

// func transposeBlocks32AVX2(dst, src unsafe.Pointer, ldd, lds, blocks int)
// Transposes the 8×8 float32 blocks src[0:8, 8b:8b+8] into dst[8b:8b+8, 0:8] for b < blocks;
// ldd and lds are the row strides in elements.
TEXT ·transposeBlocks32AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ldd+16(FP), R8
	SHLQ $2, R8
	MOVQ lds+24(FP), R9
	SHLQ $2, R9
	MOVQ blocks+32(FP), CX
	LEAQ (R9)(R9*2), R10     // 3·lds
	LEAQ (R8)(R8*2), R11     // 3·ldd
t32loop:
	TESTQ CX, CX
	JZ    t32done
	MOVQ  SI, AX
	VMOVUPS (AX), Y0
	VMOVUPS (AX)(R9*1), Y1
	VMOVUPS (AX)(R9*2), Y2
	VMOVUPS (AX)(R10*1), Y3
	LEAQ  (AX)(R9*4), AX
	VMOVUPS (AX), Y4
	VMOVUPS (AX)(R9*1), Y5
	VMOVUPS (AX)(R9*2), Y6
	VMOVUPS (AX)(R10*1), Y7
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15
	MOVQ  DI, AX
	VMOVUPS Y8, (AX)
	VMOVUPS Y9, (AX)(R8*1)
	VMOVUPS Y10, (AX)(R8*2)
	VMOVUPS Y11, (AX)(R11*1)
	LEAQ  (AX)(R8*4), AX
	VMOVUPS Y12, (AX)
	VMOVUPS Y13, (AX)(R8*1)
	VMOVUPS Y14, (AX)(R8*2)
	VMOVUPS Y15, (AX)(R11*1)
	ADDQ  $32, SI            // next 8 source columns
	LEAQ  (DI)(R8*8), DI     // next 8 destination rows
	DECQ  CX
	JMP   t32loop
t32done:
	VZEROUPPER
	RET

// func transposeBlocks64AVX2(dst, src unsafe.Pointer, ldd, lds, blocks int)
// Transposes the 4×4 float64 blocks src[0:4, 4b:4b+4] into dst[4b:4b+4, 0:4] for b < blocks.
TEXT ·transposeBlocks64AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ldd+16(FP), R8
	SHLQ $3, R8
	MOVQ lds+24(FP), R9
	SHLQ $3, R9
	MOVQ blocks+32(FP), CX
	LEAQ (R9)(R9*2), R10
	LEAQ (R8)(R8*2), R11
t64loop:
	TESTQ CX, CX
	JZ    t64done
	VMOVUPD (SI), Y0
	VMOVUPD (SI)(R9*1), Y1
	VMOVUPD (SI)(R9*2), Y2
	VMOVUPD (SI)(R10*1), Y3
	VUNPCKLPD Y1, Y0, Y4
	VUNPCKHPD Y1, Y0, Y5
	VUNPCKLPD Y3, Y2, Y6
	VUNPCKHPD Y3, Y2, Y7
	VPERM2F128 $0x20, Y6, Y4, Y0
	VPERM2F128 $0x20, Y7, Y5, Y1
	VPERM2F128 $0x31, Y6, Y4, Y2
	VPERM2F128 $0x31, Y7, Y5, Y3
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, (DI)(R8*1)
	VMOVUPD Y2, (DI)(R8*2)
	VMOVUPD Y3, (DI)(R11*1)
	ADDQ  $32, SI
	LEAQ  (DI)(R8*4), DI
	DECQ  CX
	JMP   t64loop
t64done:
	VZEROUPPER
	RET
