//go:build amd64 && !purego

#include "textflag.h"

DATA one32<>+0(SB)/4, $0x3f800000
GLOBL one32<>(SB), RODATA|NOPTR, $4
DATA one64<>+0(SB)/8, $0x3ff0000000000000
GLOBL one64<>(SB), RODATA|NOPTR, $8
DATA iota32<>+0(SB)/4, $0
DATA iota32<>+4(SB)/4, $1
DATA iota32<>+8(SB)/4, $2
DATA iota32<>+12(SB)/4, $3
DATA iota32<>+16(SB)/4, $4
DATA iota32<>+20(SB)/4, $5
DATA iota32<>+24(SB)/4, $6
DATA iota32<>+28(SB)/4, $7
GLOBL iota32<>(SB), RODATA|NOPTR, $32

// func compact32AVX2(x unsafe.Pointer, n int, base int32, idx, val, lut unsafe.Pointer) (count int, notOne bool)
//
// Writes the column indices base+j and values x[j] of the non-zero entries among x[0:n] (n a
// multiple of 8) to idx and val, in increasing j, and returns their count and whether one of
// them differs from 1. Each block of 8 is compacted with a permutation from lut (256 rows of 8
// int32 lane indices) and stored whole, so idx and val need 8 entries of slack.
TEXT ·compact32AVX2(SB), NOSPLIT, $0-57
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ idx+24(FP), DI
	MOVQ val+32(FP), R8
	MOVQ lut+40(FP), R9
	MOVL base+16(FP), DX
	MOVQ DX, X10
	VPBROADCASTD X10, Y10             // base in every lane
	VPADDD iota32<>(SB), Y10, Y10     // base + 0..7
	MOVL $8, DX
	MOVQ DX, X11
	VPBROADCASTD X11, Y11             // 8 in every lane
	VXORPS Y12, Y12, Y12              // 0
	VBROADCASTSS one32<>(SB), Y13     // 1.0
	VXORPS Y14, Y14, Y14              // notOne accumulator
	XORQ R10, R10                     // count
	XORQ BX, BX                       // j
c32loop:
	CMPQ BX, CX
	JGE  c32done
	VMOVUPS (SI)(BX*4), Y0
	VCMPPS $4, Y12, Y0, Y1            // x != 0 (NEQ_UQ: NaN counts as non-zero)
	VCMPPS $4, Y13, Y0, Y2            // x != 1
	VANDPS Y1, Y2, Y2
	VORPS  Y2, Y14, Y14
	VMOVMSKPS Y1, DX
	MOVQ DX, R11
	SHLQ $5, R11                      // 32 bytes per lut row
	VMOVDQU (R9)(R11*1), Y3           // permutation
	VPERMD Y10, Y3, Y4                // compacted indices
	VPERMPS Y0, Y3, Y5                // compacted values
	VMOVDQU Y4, (DI)(R10*4)
	VMOVUPS Y5, (R8)(R10*4)
	POPCNTL DX, DX
	ADDQ DX, R10
	VPADDD Y11, Y10, Y10
	ADDQ $8, BX
	JMP  c32loop
c32done:
	VMOVMSKPS Y14, DX
	VZEROUPPER
	MOVQ R10, count+48(FP)
	TESTL DX, DX
	SETNE notOne+56(FP)
	RET

// func compact64AVX2(x unsafe.Pointer, n int, base int32, idx, val, lut unsafe.Pointer) (count int, notOne bool)
//
// compact32AVX2 for float64, in blocks of 4: rows 0-15 of lut (8 int32 each) move the
// compacted doubles as pairs of 32-bit lanes, rows 16-31 the int32 indices (low 4 lanes).
TEXT ·compact64AVX2(SB), NOSPLIT, $0-57
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ idx+24(FP), DI
	MOVQ val+32(FP), R8
	MOVQ lut+40(FP), R9
	MOVL base+16(FP), DX
	MOVQ DX, X10
	VPBROADCASTD X10, Y10
	VPADDD iota32<>(SB), Y10, Y10     // base + 0..7 (lanes 0..3 used)
	MOVL $4, DX
	MOVQ DX, X11
	VPBROADCASTD X11, Y11
	VXORPD Y12, Y12, Y12
	VBROADCASTSD one64<>(SB), Y13
	VXORPD Y14, Y14, Y14
	XORQ R10, R10
	XORQ BX, BX
c64loop:
	CMPQ BX, CX
	JGE  c64done
	VMOVUPD (SI)(BX*8), Y0
	VCMPPD $4, Y12, Y0, Y1
	VCMPPD $4, Y13, Y0, Y2
	VANDPD Y1, Y2, Y2
	VORPD  Y2, Y14, Y14
	VMOVMSKPD Y1, DX
	MOVQ DX, R11
	SHLQ $5, R11
	VMOVDQU (R9)(R11*1), Y3           // value permutation (pairs of 32-bit lanes)
	VMOVDQU 512(R9)(R11*1), Y6        // index permutation
	VPERMD Y10, Y6, Y4
	VPERMD Y0, Y3, Y5
	VMOVDQU X4, (DI)(R10*4)
	VMOVUPD Y5, (R8)(R10*8)
	POPCNTL DX, DX
	ADDQ DX, R10
	VPADDD Y11, Y10, Y10
	ADDQ $4, BX
	JMP  c64loop
c64done:
	VMOVMSKPD Y14, DX
	VZEROUPPER
	MOVQ R10, count+48(FP)
	TESTL DX, DX
	SETNE notOne+56(FP)
	RET
