//go:build !purego

#include "textflag.h"

// func cpuHasFMA() bool
TEXT ·cpuHasFMA(SB), NOSPLIT, $0-1
	MOVL $1, AX
	XORL CX, CX
	CPUID
	// ECX bit 12: FMA3; bit 27: OSXSAVE; bit 28: AVX.
	ANDL $0x18001000, CX
	CMPL CX, $0x18001000
	JNE  no
	// XCR0 bits 1 and 2: the OS saves the SSE and AVX registers.
	XORL CX, CX
	XGETBV
	ANDL $6, AX
	CMPL AX, $6
	JNE  no
	MOVB $1, ret+0(FP)
	RET
no:
	MOVB $0, ret+0(FP)
	RET

// The filter, per sample, for both lanes at once (the a coefficients are
// stored negated; fma(a, b, c) = a*b + c rounded once), as in
// runPairStereoGo:
//	t   = fma(pb1, x1, pb2*x2); t = fma(pb0, in, t); t = fma(pa2, m2, t)
//	m   = fma(pa1, m1, t)
//	u   = fma(qb1, m1, qb2*m2); u = fma(qb0, m, u); u = fma(qa2, o2, u)
//	out = fma(qa1, o1, u)
//	s   = fma(out, out, s)
//	x2, x1 = x1, in; m2, m1 = m1, m; o2, o1 = o1, out
//
// Registers: X0 in, X1 s, X2 x1, X3 x2, X4 m1, X5 m2, X6 o1, X7 o2, X8 t
// (then m), X9 u (then out), X10-X14 pb1, pb2, pb0, pa2, pa1; the second
// section's coefficients are read from c (L1) as needed. X15 is left
// alone: Go code expects it to hold zero.
//
// Go's operand order is Intel's reversed: VFMADD231PD a, b, d sets
// d = b*a + d; VMULPD a, b, d sets d = b*a.

// LOADSTATE loads the coefficients (c in AX) and the state (z in BX).
#define LOADSTATE \
	VMOVUPD 0(BX), X2    \
	VMOVUPD 16(BX), X3   \
	VMOVUPD 32(BX), X4   \
	VMOVUPD 48(BX), X5   \
	VMOVUPD 64(BX), X6   \
	VMOVUPD 80(BX), X7   \
	VXORPD  X1, X1, X1   \
	VMOVUPD 16(AX), X10  \
	VMOVUPD 32(AX), X11  \
	VMOVUPD 0(AX), X12   \
	VMOVUPD 64(AX), X13  \
	VMOVUPD 48(AX), X14

// STEP filters the sample in X0 and leaves the output in X9.
#define STEP \
	VMULPD      X11, X3, X8    \
	VFMADD231PD X10, X2, X8    \
	VFMADD231PD X12, X0, X8    \
	VFMADD231PD X13, X5, X8    \
	VFMADD231PD X14, X4, X8    \
	VMULPD      112(AX), X5, X9 \
	VFMADD231PD 96(AX), X4, X9 \
	VFMADD231PD 80(AX), X8, X9 \
	VFMADD231PD 144(AX), X7, X9 \
	VFMADD231PD 128(AX), X6, X9 \
	VFMADD231PD X9, X9, X1     \
	VMOVAPD     X2, X3         \
	VMOVAPD     X0, X2         \
	VMOVAPD     X4, X5         \
	VMOVAPD     X8, X4         \
	VMOVAPD     X6, X7         \
	VMOVAPD     X9, X6

// SAVESTATE stores the state (z in BX) and the sums (sum in DX).
#define SAVESTATE \
	VMOVUPD X2, 0(BX)  \
	VMOVUPD X3, 16(BX) \
	VMOVUPD X4, 32(BX) \
	VMOVUPD X5, 48(BX) \
	VMOVUPD X6, 64(BX) \
	VMOVUPD X7, 80(BX) \
	VMOVUPD X1, 0(DX)

// func runPairStereoFMA(c *[10][2]float64, z *pairState, buf []float64, sum *[2]float64)
//
// Two cascaded sections over the two lanes of buf (interleaved: lane 0,
// lane 1, lane 0, ...) in place; sum gets each lane's sum of squares of
// the output.
TEXT ·runPairStereoFMA(SB), NOSPLIT, $0-48
	MOVQ c+0(FP), AX
	MOVQ z+8(FP), BX
	MOVQ buf_base+16(FP), SI
	MOVQ buf_len+24(FP), CX
	LOADSTATE

	SHRQ $1, CX
	JZ   done

loop:
	VMOVUPD (SI), X0
	STEP
	VMOVUPD X9, (SI)
	ADDQ    $16, SI
	DECQ    CX
	JNZ     loop

done:
	MOVQ sum+40(FP), DX
	SAVESTATE
	RET

// func pcm16PairStereoFMA(c *[10][2]float64, z *pairState, src []byte, a *pcm16Frame, buf []float64, sum *[2]float64)
//
// As runPairStereoFMA, but the input comes from 16-bit PCM bytes (see
// pcm16PairStereoGo): for each of len(buf)/2 samples, decim codes of each
// channel (at src+off0 and src+off1, stride bytes apart) are summed as
// integers, converted, and multiplied by scale, then by inv; the filter's
// output goes to buf.
//
// Registers as in runPairStereoFMA, plus: R8 stride, R9 and R10 the two
// channels' next codes, R11 decim, R12 the averaging count, R13 and BX
// the two sums, SI a code, DI a, DX the next output, CX samples left.
TEXT ·pcm16PairStereoFMA(SB), NOSPLIT, $0-80
	MOVQ c+0(FP), AX
	MOVQ z+8(FP), BX
	MOVQ src_base+16(FP), SI
	MOVQ a+40(FP), DI
	MOVQ buf_base+48(FP), DX
	MOVQ buf_len+56(FP), CX
	LOADSTATE

	MOVQ 0(DI), R8   // stride
	MOVQ 8(DI), R9   // off0
	ADDQ SI, R9
	MOVQ 16(DI), R10 // off1
	ADDQ SI, R10
	MOVQ 24(DI), R11 // decim

	SHRQ $1, CX
	JZ   pdone

ploop:
	XORL R13, R13
	XORL BX, BX
	MOVQ R11, R12

pavg:
	MOVWLSX (R9), SI
	ADDL    SI, R13
	MOVWLSX (R10), SI
	ADDL    SI, BX
	ADDQ    R8, R9
	ADDQ    R8, R10
	DECQ    R12
	JNZ     pavg

	// in = float64(k) * scale * inv, both lanes. VCVTSI2SDL merges into
	// its second operand: a zeroed one keeps the conversion from waiting
	// on a register's previous value.
	VXORPD     X0, X0, X0
	VCVTSI2SDL R13, X0, X0
	VCVTSI2SDL BX, X0, X8
	VUNPCKLPD  X8, X0, X0
	VMULPD     32(DI), X0, X0
	VMULPD     48(DI), X0, X0
	STEP
	VMOVUPD X9, (DX)
	ADDQ    $16, DX
	DECQ    CX
	JNZ     ploop

pdone:
	MOVQ z+8(FP), BX
	MOVQ sum+72(FP), DX
	SAVESTATE
	RET
