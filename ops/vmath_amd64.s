//go:build amd64 && !purego

#include "textflag.h"

// Vector (AVX2 + FMA) versions of Sigmoid64 and Softplus64 that give bit-identical results: the
// exponential and logarithm below are lane-wise copies of the Go runtime's math.Exp (FMA path of
// src/math/exp_amd64.s) and math.Log (src/math/log_amd64.s), instruction for instruction, with
// the same constants, the same rounding steps and the same operation order. Lanes whose
// argument needs the scalar code's special paths (|x| > 708, ±Inf, NaN) are not handled: the
// kernels stop before the first block of four that holds such a lane and return how many
// entries they stored; the Go wrappers compute that block with the scalar functions and call
// the kernel again for the rest.

#define LOG2E vmathc<>+0(SB)
#define LN2U vmathc<>+32(SB)
#define LN2L vmathc<>+64(SB)
#define C0625 vmathc<>+96(SB)
#define E8 vmathc<>+128(SB)
#define E7 vmathc<>+160(SB)
#define E6 vmathc<>+192(SB)
#define E5 vmathc<>+224(SB)
#define E4 vmathc<>+256(SB)
#define E3 vmathc<>+288(SB)
#define HALF vmathc<>+320(SB)
#define ONE vmathc<>+352(SB)
#define TWO vmathc<>+384(SB)
#define ABSMASK vmathc<>+416(SB)
#define THRESH vmathc<>+448(SB)
#define BIAS vmathc<>+480(SB)
#define MANT vmathc<>+512(SB)
#define HSQRT2 vmathc<>+544(SB)
#define L1 vmathc<>+576(SB)
#define L2 vmathc<>+608(SB)
#define L3 vmathc<>+640(SB)
#define L4 vmathc<>+672(SB)
#define L5 vmathc<>+704(SB)
#define L6 vmathc<>+736(SB)
#define L7 vmathc<>+768(SB)
#define LN2HI vmathc<>+800(SB)
#define LN2LO vmathc<>+832(SB)
#define MAGIC vmathc<>+864(SB)
#define MAGICD vmathc<>+896(SB)
#define SIGN vmathc<>+928(SB)
#define EXPMASK vmathc<>+960(SB)

DATA vmathc<>+0(SB)/8, $0x3ff71547652b82fe
DATA vmathc<>+8(SB)/8, $0x3ff71547652b82fe
DATA vmathc<>+16(SB)/8, $0x3ff71547652b82fe
DATA vmathc<>+24(SB)/8, $0x3ff71547652b82fe
DATA vmathc<>+32(SB)/8, $0x3fe62e42fefa3000
DATA vmathc<>+40(SB)/8, $0x3fe62e42fefa3000
DATA vmathc<>+48(SB)/8, $0x3fe62e42fefa3000
DATA vmathc<>+56(SB)/8, $0x3fe62e42fefa3000
DATA vmathc<>+64(SB)/8, $0x3d53de6af278ece6
DATA vmathc<>+72(SB)/8, $0x3d53de6af278ece6
DATA vmathc<>+80(SB)/8, $0x3d53de6af278ece6
DATA vmathc<>+88(SB)/8, $0x3d53de6af278ece6
DATA vmathc<>+96(SB)/8, $0x3fb0000000000000
DATA vmathc<>+104(SB)/8, $0x3fb0000000000000
DATA vmathc<>+112(SB)/8, $0x3fb0000000000000
DATA vmathc<>+120(SB)/8, $0x3fb0000000000000
DATA vmathc<>+128(SB)/8, $0x3efa01a01a01a01a
DATA vmathc<>+136(SB)/8, $0x3efa01a01a01a01a
DATA vmathc<>+144(SB)/8, $0x3efa01a01a01a01a
DATA vmathc<>+152(SB)/8, $0x3efa01a01a01a01a
DATA vmathc<>+160(SB)/8, $0x3f2a01a01a01a01a
DATA vmathc<>+168(SB)/8, $0x3f2a01a01a01a01a
DATA vmathc<>+176(SB)/8, $0x3f2a01a01a01a01a
DATA vmathc<>+184(SB)/8, $0x3f2a01a01a01a01a
DATA vmathc<>+192(SB)/8, $0x3f56c16c16c16c17
DATA vmathc<>+200(SB)/8, $0x3f56c16c16c16c17
DATA vmathc<>+208(SB)/8, $0x3f56c16c16c16c17
DATA vmathc<>+216(SB)/8, $0x3f56c16c16c16c17
DATA vmathc<>+224(SB)/8, $0x3f81111111111111
DATA vmathc<>+232(SB)/8, $0x3f81111111111111
DATA vmathc<>+240(SB)/8, $0x3f81111111111111
DATA vmathc<>+248(SB)/8, $0x3f81111111111111
DATA vmathc<>+256(SB)/8, $0x3fa5555555555555
DATA vmathc<>+264(SB)/8, $0x3fa5555555555555
DATA vmathc<>+272(SB)/8, $0x3fa5555555555555
DATA vmathc<>+280(SB)/8, $0x3fa5555555555555
DATA vmathc<>+288(SB)/8, $0x3fc5555555555555
DATA vmathc<>+296(SB)/8, $0x3fc5555555555555
DATA vmathc<>+304(SB)/8, $0x3fc5555555555555
DATA vmathc<>+312(SB)/8, $0x3fc5555555555555
DATA vmathc<>+320(SB)/8, $0x3fe0000000000000
DATA vmathc<>+328(SB)/8, $0x3fe0000000000000
DATA vmathc<>+336(SB)/8, $0x3fe0000000000000
DATA vmathc<>+344(SB)/8, $0x3fe0000000000000
DATA vmathc<>+352(SB)/8, $0x3ff0000000000000
DATA vmathc<>+360(SB)/8, $0x3ff0000000000000
DATA vmathc<>+368(SB)/8, $0x3ff0000000000000
DATA vmathc<>+376(SB)/8, $0x3ff0000000000000
DATA vmathc<>+384(SB)/8, $0x4000000000000000
DATA vmathc<>+392(SB)/8, $0x4000000000000000
DATA vmathc<>+400(SB)/8, $0x4000000000000000
DATA vmathc<>+408(SB)/8, $0x4000000000000000
DATA vmathc<>+416(SB)/8, $0x7fffffffffffffff
DATA vmathc<>+424(SB)/8, $0x7fffffffffffffff
DATA vmathc<>+432(SB)/8, $0x7fffffffffffffff
DATA vmathc<>+440(SB)/8, $0x7fffffffffffffff
DATA vmathc<>+448(SB)/8, $0x4086200000000000
DATA vmathc<>+456(SB)/8, $0x4086200000000000
DATA vmathc<>+464(SB)/8, $0x4086200000000000
DATA vmathc<>+472(SB)/8, $0x4086200000000000
DATA vmathc<>+480(SB)/8, $0x00000000000003ff
DATA vmathc<>+488(SB)/8, $0x00000000000003ff
DATA vmathc<>+496(SB)/8, $0x00000000000003ff
DATA vmathc<>+504(SB)/8, $0x00000000000003ff
DATA vmathc<>+512(SB)/8, $0x000fffffffffffff
DATA vmathc<>+520(SB)/8, $0x000fffffffffffff
DATA vmathc<>+528(SB)/8, $0x000fffffffffffff
DATA vmathc<>+536(SB)/8, $0x000fffffffffffff
DATA vmathc<>+544(SB)/8, $0x3fe6a09e667f3bcd
DATA vmathc<>+552(SB)/8, $0x3fe6a09e667f3bcd
DATA vmathc<>+560(SB)/8, $0x3fe6a09e667f3bcd
DATA vmathc<>+568(SB)/8, $0x3fe6a09e667f3bcd
DATA vmathc<>+576(SB)/8, $0x3fe5555555555593
DATA vmathc<>+584(SB)/8, $0x3fe5555555555593
DATA vmathc<>+592(SB)/8, $0x3fe5555555555593
DATA vmathc<>+600(SB)/8, $0x3fe5555555555593
DATA vmathc<>+608(SB)/8, $0x3fd999999997fa04
DATA vmathc<>+616(SB)/8, $0x3fd999999997fa04
DATA vmathc<>+624(SB)/8, $0x3fd999999997fa04
DATA vmathc<>+632(SB)/8, $0x3fd999999997fa04
DATA vmathc<>+640(SB)/8, $0x3fd2492494229359
DATA vmathc<>+648(SB)/8, $0x3fd2492494229359
DATA vmathc<>+656(SB)/8, $0x3fd2492494229359
DATA vmathc<>+664(SB)/8, $0x3fd2492494229359
DATA vmathc<>+672(SB)/8, $0x3fcc71c51d8e78af
DATA vmathc<>+680(SB)/8, $0x3fcc71c51d8e78af
DATA vmathc<>+688(SB)/8, $0x3fcc71c51d8e78af
DATA vmathc<>+696(SB)/8, $0x3fcc71c51d8e78af
DATA vmathc<>+704(SB)/8, $0x3fc7466496cb03de
DATA vmathc<>+712(SB)/8, $0x3fc7466496cb03de
DATA vmathc<>+720(SB)/8, $0x3fc7466496cb03de
DATA vmathc<>+728(SB)/8, $0x3fc7466496cb03de
DATA vmathc<>+736(SB)/8, $0x3fc39a09d078c69f
DATA vmathc<>+744(SB)/8, $0x3fc39a09d078c69f
DATA vmathc<>+752(SB)/8, $0x3fc39a09d078c69f
DATA vmathc<>+760(SB)/8, $0x3fc39a09d078c69f
DATA vmathc<>+768(SB)/8, $0x3fc2f112df3e5244
DATA vmathc<>+776(SB)/8, $0x3fc2f112df3e5244
DATA vmathc<>+784(SB)/8, $0x3fc2f112df3e5244
DATA vmathc<>+792(SB)/8, $0x3fc2f112df3e5244
DATA vmathc<>+800(SB)/8, $0x3fe62e42fee00000
DATA vmathc<>+808(SB)/8, $0x3fe62e42fee00000
DATA vmathc<>+816(SB)/8, $0x3fe62e42fee00000
DATA vmathc<>+824(SB)/8, $0x3fe62e42fee00000
DATA vmathc<>+832(SB)/8, $0x3dea39ef35793c76
DATA vmathc<>+840(SB)/8, $0x3dea39ef35793c76
DATA vmathc<>+848(SB)/8, $0x3dea39ef35793c76
DATA vmathc<>+856(SB)/8, $0x3dea39ef35793c76
DATA vmathc<>+864(SB)/8, $0x4330000000000000
DATA vmathc<>+872(SB)/8, $0x4330000000000000
DATA vmathc<>+880(SB)/8, $0x4330000000000000
DATA vmathc<>+888(SB)/8, $0x4330000000000000
DATA vmathc<>+896(SB)/8, $0x43300000000003fe
DATA vmathc<>+904(SB)/8, $0x43300000000003fe
DATA vmathc<>+912(SB)/8, $0x43300000000003fe
DATA vmathc<>+920(SB)/8, $0x43300000000003fe
DATA vmathc<>+928(SB)/8, $0x8000000000000000
DATA vmathc<>+936(SB)/8, $0x8000000000000000
DATA vmathc<>+944(SB)/8, $0x8000000000000000
DATA vmathc<>+952(SB)/8, $0x8000000000000000
DATA vmathc<>+960(SB)/8, $0x00000000000007ff
DATA vmathc<>+968(SB)/8, $0x00000000000007ff
DATA vmathc<>+976(SB)/8, $0x00000000000007ff
DATA vmathc<>+984(SB)/8, $0x00000000000007ff
GLOBL vmathc<>(SB), RODATA|NOPTR, $992

// EXP_Y0 sets Y0 = exp(Y0) lane-wise (math.Exp, FMA path, normal results only).
// Clobbers Y1, Y2, Y3, Y4.
#define EXP_Y0 \
	VMULPD       LOG2E, Y0, Y1; \
	VCVTPD2DQY   Y1, X2; \
	VCVTDQ2PD    X2, Y1; \
	VFNMADD231PD LN2U, Y1, Y0; \
	VFNMADD231PD LN2L, Y1, Y0; \
	VMULPD       C0625, Y0, Y0; \
	VMOVUPD      E8, Y3; \
	VFMADD213PD  E7, Y0, Y3; \
	VFMADD213PD  E6, Y0, Y3; \
	VFMADD213PD  E5, Y0, Y3; \
	VFMADD213PD  E4, Y0, Y3; \
	VFMADD213PD  E3, Y0, Y3; \
	VFMADD213PD  HALF, Y0, Y3; \
	VFMADD213PD  ONE, Y0, Y3; \
	VMULPD       Y3, Y0, Y0; \
	VADDPD       TWO, Y0, Y3; \
	VMULPD       Y3, Y0, Y0; \
	VADDPD       TWO, Y0, Y3; \
	VMULPD       Y3, Y0, Y0; \
	VADDPD       TWO, Y0, Y3; \
	VMULPD       Y3, Y0, Y0; \
	VADDPD       TWO, Y0, Y3; \
	VFMADD213PD  ONE, Y3, Y0; \
	VPMOVSXDQ    X2, Y4; \
	VPADDQ       BIAS, Y4, Y4; \
	VPSLLQ       $52, Y4, Y4; \
	VMULPD       Y4, Y0, Y0

// LOG_Y9_Y10 sets Y10 = log(Y9) lane-wise (math.Log for positive finite normal arguments).
// Needs Y14 = 1.0. Clobbers Y1, Y2, Y3, Y4, Y6, Y7.
#define LOG_Y9_Y10 \
	VANDPD    MANT, Y9, Y1; \
	VORPD     HALF, Y1, Y1; \
	VPSRLQ    $52, Y9, Y2; \
	VPAND     EXPMASK, Y2, Y2; \
	VPADDQ    MAGIC, Y2, Y2; \
	VSUBPD    MAGICD, Y2, Y2; \
	VMOVUPD   HSQRT2, Y3; \
	VCMPPD    $5, Y1, Y3, Y3; \
	VANDPD    Y14, Y3, Y3; \
	VSUBPD    Y3, Y2, Y2; \
	VADDPD    Y14, Y3, Y3; \
	VMULPD    Y3, Y1, Y1; \
	VSUBPD    Y14, Y1, Y1; \
	VADDPD    TWO, Y1, Y3; \
	VDIVPD    Y3, Y1, Y3; \
	VMULPD    Y3, Y3, Y4; \
	VMULPD    Y4, Y4, Y6; \
	VMULPD    L7, Y6, Y7; \
	VADDPD    L5, Y7, Y7; \
	VMULPD    Y6, Y7, Y7; \
	VADDPD    L3, Y7, Y7; \
	VMULPD    Y6, Y7, Y7; \
	VADDPD    L1, Y7, Y7; \
	VMULPD    Y7, Y4, Y4; \
	VMULPD    L6, Y6, Y7; \
	VADDPD    L4, Y7, Y7; \
	VMULPD    Y6, Y7, Y7; \
	VADDPD    L2, Y7, Y7; \
	VMULPD    Y7, Y6, Y6; \
	VADDPD    Y6, Y4, Y4; \
	VMULPD    HALF, Y1, Y6; \
	VMULPD    Y1, Y6, Y6; \
	VADDPD    Y6, Y4, Y4; \
	VMULPD    Y4, Y3, Y3; \
	VMULPD    LN2LO, Y2, Y7; \
	VADDPD    Y7, Y3, Y3; \
	VSUBPD    Y3, Y6, Y6; \
	VSUBPD    Y1, Y6, Y6; \
	VMULPD    LN2HI, Y2, Y2; \
	VSUBPD    Y6, Y2, Y10

// SIGMOID_Y5_Y1(special) sets Y1 = Sigmoid64(Y5), or jumps to special if a lane needs the
// scalar code.
// Needs Y13 = ABSMASK, Y14 = 1.0. Clobbers Y0, Y2, Y3, Y4, Y6, Y7.
#define SIGMOID_Y5_Y1(special) \
	VANDPD    Y13, Y5, Y6; \
	VCMPPD    $6, THRESH, Y6, Y7; \
	VMOVMSKPD Y7, BX; \
	TESTL     BX, BX; \
	JNZ       special; \
	VXORPD    SIGN, Y6, Y0; \
	EXP_Y0; \
	VADDPD    Y14, Y0, Y1; \
	VDIVPD    Y1, Y14, Y1; \
	VMULPD    Y1, Y0, Y2; \
	VBLENDVPD Y5, Y2, Y1, Y1

// SOFTPLUS_Y5_Y10(special) sets Y10 = Softplus64(Y5), or jumps to special if a lane needs the
// scalar code.
// Needs Y12 = 0, Y13 = ABSMASK, Y14 = 1.0. Clobbers Y0-Y4, Y6-Y9.
#define SOFTPLUS_Y5_Y10(special) \
	VANDPD    Y13, Y5, Y6; \
	VCMPPD    $6, THRESH, Y6, Y7; \
	VMOVMSKPD Y7, BX; \
	TESTL     BX, BX; \
	JNZ       special; \
	VBLENDVPD Y5, Y12, Y5, Y8; \
	VXORPD    SIGN, Y6, Y0; \
	EXP_Y0; \
	VADDPD    Y14, Y0, Y9; \
	LOG_Y9_Y10; \
	VSUBPD    Y14, Y9, Y1; \
	VDIVPD    Y1, Y0, Y1; \
	VMULPD    Y1, Y10, Y10; \
	VCMPPD    $0, Y14, Y9, Y2; \
	VBLENDVPD Y2, Y0, Y10, Y10; \
	VADDPD    Y10, Y8, Y10

#define PROLOGUE \
	MOVQ    dst_base+0(FP), DI; \
	MOVQ    src_base+24(FP), SI; \
	MOVQ    n+48(FP), CX; \
	VXORPD  Y12, Y12, Y12; \
	VMOVUPD ABSMASK, Y13; \
	VMOVUPD ONE, Y14; \
	XORQ    AX, AX

#define EPILOGUE \
	VZEROUPPER; \
	MOVQ AX, ret+56(FP); \
	RET

// SPSUM_BODY adds max(Y5, 0) into Y10, multiplies 1 + exp(-|Y5|) into Y11 (0 for the
// exponential when |Y5| > 708: 1 + e rounds to 1 there anyway) and ORs a NaN mask into Y9.
// Needs Y12 = 0, Y13 = ABSMASK, Y14 = 1.0. Clobbers Y0-Y4, Y6-Y8.
#define SPSUM_BODY \
	VCMPPD    $3, Y5, Y5, Y7; \
	VORPD     Y7, Y9, Y9; \
	VBLENDVPD Y5, Y12, Y5, Y8; \
	VADDPD    Y8, Y10, Y10; \
	VANDPD    Y13, Y5, Y6; \
	VCMPPD    $6, THRESH, Y6, Y7; \
	VXORPD    SIGN, Y6, Y0; \
	EXP_Y0; \
	VBLENDVPD Y7, Y12, Y0, Y0; \
	VADDPD    Y14, Y0, Y0; \
	VMULPD    Y0, Y11, Y11

#define SPSUM_PROLOGUE \
	MOVQ    x_base+0(FP), SI; \
	MOVQ    n+24(FP), CX; \
	MOVQ    out+32(FP), DI; \
	VXORPD  Y12, Y12, Y12; \
	VMOVUPD ABSMASK, Y13; \
	VMOVUPD ONE, Y14; \
	VXORPD  Y10, Y10, Y10; \
	VMOVUPD Y14, Y11; \
	VXORPD  Y9, Y9, Y9; \
	XORQ    AX, AX

#define SPSUM_EPILOGUE \
	VMOVUPD   Y10, (DI); \
	VMOVUPD   Y11, 32(DI); \
	VMOVMSKPD Y9, AX; \
	VZEROUPPER; \
	TESTL     AX, AX; \
	SETNE     ret+40(FP); \
	RET

// AVX-512 versions: the same lane-wise operations on 8 float64 lanes (constants broadcast from
// the table above), so every lane gives the same bits as the AVX2 kernels and the scalar code.
// A last block of 4 runs the AVX2 macros (Y12-Y14 are the low halves of Z12-Z14). Like the
// AVX2 kernels they stop before the first block (of 8, or the last 4) with a lane that needs
// the scalar code and return how many entries they stored.

// EXP_Z0 sets Z0 = exp(Z0) lane-wise: EXP_Y0 on 8 lanes. Clobbers Z1, Z2, Z3, Z4.
#define EXP_Z0 \
	VMULPD.BCST       LOG2E, Z0, Z1; \
	VCVTPD2DQ         Z1, Y2; \
	VCVTDQ2PD         Y2, Z1; \
	VFNMADD231PD.BCST LN2U, Z1, Z0; \
	VFNMADD231PD.BCST LN2L, Z1, Z0; \
	VMULPD.BCST       C0625, Z0, Z0; \
	VBROADCASTSD      E8, Z3; \
	VFMADD213PD.BCST  E7, Z0, Z3; \
	VFMADD213PD.BCST  E6, Z0, Z3; \
	VFMADD213PD.BCST  E5, Z0, Z3; \
	VFMADD213PD.BCST  E4, Z0, Z3; \
	VFMADD213PD.BCST  E3, Z0, Z3; \
	VFMADD213PD.BCST  HALF, Z0, Z3; \
	VFMADD213PD.BCST  ONE, Z0, Z3; \
	VMULPD            Z3, Z0, Z0; \
	VADDPD.BCST       TWO, Z0, Z3; \
	VMULPD            Z3, Z0, Z0; \
	VADDPD.BCST       TWO, Z0, Z3; \
	VMULPD            Z3, Z0, Z0; \
	VADDPD.BCST       TWO, Z0, Z3; \
	VMULPD            Z3, Z0, Z0; \
	VADDPD.BCST       TWO, Z0, Z3; \
	VFMADD213PD       Z14, Z3, Z0; \
	VPMOVSXDQ         Y2, Z4; \
	VPADDQ.BCST       BIAS, Z4, Z4; \
	VPSLLQ            $52, Z4, Z4; \
	VMULPD            Z4, Z0, Z0

// SIGMOID_Z5_Z1(special) sets Z1 = Sigmoid64(Z5), or jumps to special if a lane needs the
// scalar code. Needs Z13 = ABSMASK, Z14 = 1.0. Clobbers Z0, Z2, Z3, Z4, Z6, K1, K2.
#define SIGMOID_Z5_Z1(special) \
	VPANDQ        Z13, Z5, Z6; \
	VCMPPD.BCST   $6, THRESH, Z6, K1; \
	KORTESTW      K1, K1; \
	JNZ           special; \
	VPXORQ.BCST   SIGN, Z6, Z0; \
	EXP_Z0; \
	VADDPD        Z14, Z0, Z1; \
	VDIVPD        Z1, Z14, Z1; \
	VMULPD        Z1, Z0, Z2; \
	VPTESTMQ.BCST SIGN, Z5, K2; \
	VMOVAPD       Z2, K2, Z1

#define PROLOGUE512 \
	MOVQ         dst_base+0(FP), DI; \
	MOVQ         src_base+24(FP), SI; \
	MOVQ         n+48(FP), CX; \
	VPXORQ       Z12, Z12, Z12; \
	VBROADCASTSD ABSMASK, Z13; \
	VBROADCASTSD ONE, Z14; \
	XORQ         AX, AX


// SPSUM_BODY512 is SPSUM_BODY for the 8 lanes of Z5, folding the low 4 lanes into Y10 and Y11
// before the high 4, as two SPSUM_BODY steps would. Its NaN mask goes into K4.
// Needs Z12 = 0, Z13 = ABSMASK, Z14 = 1.0. Clobbers Z0-Z4, Z6-Z8, K1-K3.
#define SPSUM_BODY512 \
	VCMPPD        $3, Z5, Z5, K3; \
	KORW          K3, K4, K4; \
	VMOVAPD       Z5, Z8; \
	VPTESTMQ.BCST SIGN, Z5, K2; \
	VMOVAPD       Z12, K2, Z8; \
	VADDPD        Y8, Y10, Y10; \
	VEXTRACTF64X4 $1, Z8, Y7; \
	VADDPD        Y7, Y10, Y10; \
	VPANDQ        Z13, Z5, Z6; \
	VCMPPD.BCST   $6, THRESH, Z6, K1; \
	VPXORQ.BCST   SIGN, Z6, Z0; \
	EXP_Z0; \
	VMOVAPD       Z12, K1, Z0; \
	VADDPD        Z14, Z0, Z0; \
	VMULPD        Y0, Y11, Y11; \
	VEXTRACTF64X4 $1, Z0, Y0; \
	VMULPD        Y0, Y11, Y11

#define SPSUM_PROLOGUE512 \
	MOVQ         x_base+0(FP), SI; \
	MOVQ         n+24(FP), CX; \
	MOVQ         out+32(FP), DI; \
	VPXORQ       Z12, Z12, Z12; \
	VBROADCASTSD ABSMASK, Z13; \
	VBROADCASTSD ONE, Z14; \
	VXORPD       Y10, Y10, Y10; \
	VMOVUPD      Y14, Y11; \
	VXORPD       Y9, Y9, Y9; \
	KXORW        K4, K4, K4; \
	XORQ         AX, AX

#define SPSUM_EPILOGUE512 \
	VMOVUPD   Y10, (DI); \
	VMOVUPD   Y11, 32(DI); \
	VMOVMSKPD Y9, AX; \
	KMOVW     K4, BX; \
	ORL       BX, AX; \
	VZEROUPPER; \
	TESTL     AX, AX; \
	SETNE     ret+40(FP); \
	RET


// func sigmoid64AVX2(dst, src []float64, n int) (done int)
TEXT ·sigmoid64AVX2(SB), NOSPLIT, $0-64
	PROLOGUE
sig64loop:
	CMPQ    AX, CX
	JGE     sig64done
	VMOVUPD (SI)(AX*8), Y5
	SIGMOID_Y5_Y1(sig64done)
	VMOVUPD Y1, (DI)(AX*8)
	ADDQ    $4, AX
	JMP     sig64loop
sig64done:
	EPILOGUE

// func softplus64AVX2(dst, src []float64, n int) (done int)
TEXT ·softplus64AVX2(SB), NOSPLIT, $0-64
	PROLOGUE
sp64loop:
	CMPQ    AX, CX
	JGE     sp64done
	VMOVUPD (SI)(AX*8), Y5
	SOFTPLUS_Y5_Y10(sp64done)
	VMOVUPD Y10, (DI)(AX*8)
	ADDQ    $4, AX
	JMP     sp64loop
sp64done:
	EPILOGUE

// func sigmoid32AVX2(dst, src []float32, n int) (done int)
TEXT ·sigmoid32AVX2(SB), NOSPLIT, $0-64
	PROLOGUE
sig32loop:
	CMPQ       AX, CX
	JGE        sig32done
	VCVTPS2PD  (SI)(AX*4), Y5
	SIGMOID_Y5_Y1(sig32done)
	VCVTPD2PSY Y1, X1
	VMOVUPS    X1, (DI)(AX*4)
	ADDQ       $4, AX
	JMP        sig32loop
sig32done:
	EPILOGUE

// func softplus32AVX2(dst, src []float32, n int) (done int)
TEXT ·softplus32AVX2(SB), NOSPLIT, $0-64
	PROLOGUE
sp32loop:
	CMPQ       AX, CX
	JGE        sp32done
	VCVTPS2PD  (SI)(AX*4), Y5
	SOFTPLUS_Y5_Y10(sp32done)
	VCVTPD2PSY Y10, X10
	VMOVUPS    X10, (DI)(AX*4)
	ADDQ       $4, AX
	JMP        sp32loop
sp32done:
	EPILOGUE

// func softplusSum64AVX2(x []float64, n int, out *[8]float64) (nan bool)
// For the first n entries of x (n a multiple of 4), out[0:4] are lane sums of max(x, 0) and
// out[4:8] lane products of 1 + exp(-|x|), so that Σ softplus(x) = Σ out[0:4] + Σ log out[4:8].
TEXT ·softplusSum64AVX2(SB), NOSPLIT, $0-41
	SPSUM_PROLOGUE
sps64loop:
	CMPQ    AX, CX
	JGE     sps64done
	VMOVUPD (SI)(AX*8), Y5
	SPSUM_BODY
	ADDQ    $4, AX
	JMP     sps64loop
sps64done:
	SPSUM_EPILOGUE

// func softplusSum32AVX2(x []float32, n int, out *[8]float64) (nan bool)
TEXT ·softplusSum32AVX2(SB), NOSPLIT, $0-41
	SPSUM_PROLOGUE
sps32loop:
	CMPQ      AX, CX
	JGE       sps32done
	VCVTPS2PD (SI)(AX*4), Y5
	SPSUM_BODY
	ADDQ      $4, AX
	JMP       sps32loop
sps32done:
	SPSUM_EPILOGUE

// func sigmoid64AVX512(dst, src []float64, n int) (done int)
TEXT ·sigmoid64AVX512(SB), NOSPLIT, $0-64
	PROLOGUE512
sig64z:
	LEAQ    8(AX), DX
	CMPQ    DX, CX
	JGT     sig64zy
	VMOVUPD (SI)(AX*8), Z5
	SIGMOID_Z5_Z1(sig64zdone)
	VMOVUPD Z1, (DI)(AX*8)
	ADDQ    $8, AX
	JMP     sig64z
sig64zy:
	CMPQ    AX, CX
	JGE     sig64zdone
	VMOVUPD (SI)(AX*8), Y5
	SIGMOID_Y5_Y1(sig64zdone)
	VMOVUPD Y1, (DI)(AX*8)
	ADDQ    $4, AX
sig64zdone:
	EPILOGUE

// func sigmoid32AVX512(dst, src []float32, n int) (done int)
TEXT ·sigmoid32AVX512(SB), NOSPLIT, $0-64
	PROLOGUE512
sig32z:
	LEAQ      8(AX), DX
	CMPQ      DX, CX
	JGT       sig32zy
	VCVTPS2PD (SI)(AX*4), Z5
	SIGMOID_Z5_Z1(sig32zdone)
	VCVTPD2PS Z1, Y1
	VMOVUPS   Y1, (DI)(AX*4)
	ADDQ      $8, AX
	JMP       sig32z
sig32zy:
	CMPQ       AX, CX
	JGE        sig32zdone
	VCVTPS2PD  (SI)(AX*4), Y5
	SIGMOID_Y5_Y1(sig32zdone)
	VCVTPD2PSY Y1, X1
	VMOVUPS    X1, (DI)(AX*4)
	ADDQ       $4, AX
sig32zdone:
	EPILOGUE

// func softplusSum64AVX512(x []float64, n int, out *[8]float64) (nan bool)
TEXT ·softplusSum64AVX512(SB), NOSPLIT, $0-41
	SPSUM_PROLOGUE512
sps64z:
	LEAQ    8(AX), DX
	CMPQ    DX, CX
	JGT     sps64zy
	VMOVUPD (SI)(AX*8), Z5
	SPSUM_BODY512
	ADDQ    $8, AX
	JMP     sps64z
sps64zy:
	CMPQ    AX, CX
	JGE     sps64zdone
	VMOVUPD (SI)(AX*8), Y5
	SPSUM_BODY
sps64zdone:
	SPSUM_EPILOGUE512

// func softplusSum32AVX512(x []float32, n int, out *[8]float64) (nan bool)
TEXT ·softplusSum32AVX512(SB), NOSPLIT, $0-41
	SPSUM_PROLOGUE512
sps32z:
	LEAQ      8(AX), DX
	CMPQ      DX, CX
	JGT       sps32zy
	VCVTPS2PD (SI)(AX*4), Z5
	SPSUM_BODY512
	ADDQ      $8, AX
	JMP       sps32z
sps32zy:
	CMPQ      AX, CX
	JGE       sps32zdone
	VCVTPS2PD (SI)(AX*4), Y5
	SPSUM_BODY
sps32zdone:
	SPSUM_EPILOGUE512
