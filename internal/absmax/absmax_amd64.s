//go:build amd64 && !purego

#include "textflag.h"

// func absMax32AVX2(x unsafe.Pointer, n int) uint32
// The largest bits of |x[i]| (sign cleared) over n entries (a multiple of 8): above 0x7f800000
// exactly when some entry is NaN, 0x7f800000 when the largest is ±Inf.
TEXT ·absMax32AVX2(SB), NOSPLIT, $0-20
	MOVQ     x+0(FP), SI
	MOVQ     n+8(FP), CX
	VPCMPEQD Y11, Y11, Y11
	VPSRLD   $1, Y11, Y11
	VPXOR    Y0, Y0, Y0
	VPXOR    Y1, Y1, Y1
	XORQ     AX, AX
am32loop:
	LEAQ    16(AX), DX
	CMPQ    DX, CX
	JGT     am32tail
	VPAND   (SI)(AX*4), Y11, Y2
	VPMAXUD Y2, Y0, Y0
	VPAND   32(SI)(AX*4), Y11, Y3
	VPMAXUD Y3, Y1, Y1
	ADDQ    $16, AX
	JMP     am32loop
am32tail:
	CMPQ    AX, CX
	JGE     am32done
	VPAND   (SI)(AX*4), Y11, Y2
	VPMAXUD Y2, Y0, Y0
am32done:
	VPMAXUD      Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPMAXUD      X1, X0, X0
	VPSHUFD      $0x4e, X0, X1
	VPMAXUD      X1, X0, X0
	VPSHUFD      $0xb1, X0, X1
	VPMAXUD      X1, X0, X0
	VMOVD        X0, AX
	MOVL         AX, ret+16(FP)
	VZEROUPPER
	RET

// func absMax64AVX2(x unsafe.Pointer, n int) (max float64, nan bool)
// The largest |x[i]| over n entries (a multiple of 4) and whether some entry is NaN.
TEXT ·absMax64AVX2(SB), NOSPLIT, $0-25
	MOVQ     x+0(FP), SI
	MOVQ     n+8(FP), CX
	VPCMPEQQ Y11, Y11, Y11
	VPSRLQ   $1, Y11, Y11
	VXORPD   Y0, Y0, Y0
	VXORPD   Y1, Y1, Y1          // NaN lanes
	XORQ     AX, AX
am64loop:
	CMPQ    AX, CX
	JGE     am64done
	VMOVUPD (SI)(AX*8), Y2
	VCMPPD  $3, Y2, Y2, Y3       // unordered: NaN
	VORPD   Y3, Y1, Y1
	VANDPD  Y11, Y2, Y2
	VMAXPD  Y2, Y0, Y0
	ADDQ    $4, AX
	JMP     am64loop
am64done:
	VEXTRACTF128 $1, Y0, X2
	VMAXPD       X2, X0, X0
	VPERMILPD    $1, X0, X2
	VMAXPD       X2, X0, X0
	MOVSD        X0, max+16(FP)
	VMOVMSKPD    Y1, AX
	TESTL        AX, AX
	SETNE        nan+24(FP)
	VZEROUPPER
	RET
