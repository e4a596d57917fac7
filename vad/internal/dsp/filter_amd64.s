//go:build !purego

#include "textflag.h"

// func runPairStereo(c *[10][2]float64, z *[4][2]float64, buf []float64, sum *[2]float64)
//
// Two cascaded biquads (transposed direct form II) over the two lanes of
// buf (interleaved: lane 0, lane 1, lane 0, ...) in place; sum gets each
// lane's sum of squares of the output. Per sample, with p the first
// section, q the second, as in runPairStereoGo:
//	m   = pb0*in + pz1
//	pz1 = (pb1*in - pa1*m) + pz2
//	pz2 = pb2*in - pa2*m
//	out = qb0*m + qz1
//	qz1 = (qb1*m - qa1*out) + qz2
//	qz2 = qb2*m - qa2*out
//	s  += out*out
// Products and sums are taken in that order (a*b and b*a are the same
// number; a-b is never swapped), one packed instruction for both lanes.
//
// Registers: X0 in, X1 s, X2 pz1, X3 pz2, X4 qz1, X5 qz2, X6 m, X7 out,
// X8 and X9 scratch, X10-X14 pb0, pa1, pa2, qb0, qa1; the other
// coefficients are read from c (L1) as needed. X15 is left alone: Go
// code expects it to hold zero.
TEXT ·runPairStereo(SB), NOSPLIT, $0-48
	MOVQ c+0(FP), AX
	MOVQ z+8(FP), BX
	MOVQ buf_base+16(FP), SI
	MOVQ buf_len+24(FP), CX
	MOVQ sum+40(FP), DX

	MOVUPD 0(BX), X2
	MOVUPD 16(BX), X3
	MOVUPD 32(BX), X4
	MOVUPD 48(BX), X5
	XORPD  X1, X1

	MOVUPD 0(AX), X10   // pb0
	MOVUPD 48(AX), X11  // pa1
	MOVUPD 64(AX), X12  // pa2
	MOVUPD 80(AX), X13  // qb0
	MOVUPD 128(AX), X14 // qa1

	SHRQ $1, CX
	JZ   done

loop:
	MOVUPD (SI), X0

	// m = pb0*in + pz1
	MOVAPD X10, X6
	MULPD  X0, X6
	ADDPD  X2, X6

	// pz1 = (pb1*in - pa1*m) + pz2
	MOVUPD 16(AX), X2
	MULPD  X0, X2
	MOVAPD X11, X9
	MULPD  X6, X9
	SUBPD  X9, X2
	ADDPD  X3, X2

	// pz2 = pb2*in - pa2*m
	MOVUPD 32(AX), X3
	MULPD  X0, X3
	MOVAPD X12, X9
	MULPD  X6, X9
	SUBPD  X9, X3

	// out = qb0*m + qz1
	MOVAPD X13, X7
	MULPD  X6, X7
	ADDPD  X4, X7

	// qz1 = (qb1*m - qa1*out) + qz2
	MOVUPD 96(AX), X4
	MULPD  X6, X4
	MOVAPD X14, X9
	MULPD  X7, X9
	SUBPD  X9, X4
	ADDPD  X5, X4

	// qz2 = qb2*m - qa2*out
	MOVUPD 112(AX), X5
	MULPD  X6, X5
	MOVUPD 144(AX), X9
	MULPD  X7, X9
	SUBPD  X9, X5

	// s += out*out
	MOVAPD X7, X8
	MULPD  X7, X8
	ADDPD  X8, X1

	MOVUPD X7, (SI)
	ADDQ   $16, SI
	DECQ   CX
	JNZ    loop

done:
	MOVUPD X2, 0(BX)
	MOVUPD X3, 16(BX)
	MOVUPD X4, 32(BX)
	MOVUPD X5, 48(BX)
	MOVUPD X1, 0(DX)
	RET

// func pcm16PairStereo(c *[10][2]float64, z *[4][2]float64, src []byte, a *pcm16Frame, buf []float64, sum *[2]float64)
//
// As runPairStereo, but the input comes from 16-bit PCM bytes (see
// pcm16PairStereoGo): for each of len(buf)/2 samples, decim codes of each
// channel (at src+off0 and src+off1, stride bytes apart) are summed as
// integers, converted, and multiplied by scale, then by inv; the filter's
// output goes to buf.
//
// Registers as in runPairStereo, plus: R8 stride, R9 and R10 the two
// channels' next codes, R11 decim, R12 the averaging count, R13 and BX
// the two sums, SI a code, DI a, DX the next output, CX samples left.
TEXT ·pcm16PairStereo(SB), NOSPLIT, $0-80
	MOVQ c+0(FP), AX
	MOVQ z+8(FP), BX
	MOVQ src_base+16(FP), SI
	MOVQ a+40(FP), DI
	MOVQ buf_base+48(FP), DX
	MOVQ buf_len+56(FP), CX

	MOVUPD 0(BX), X2
	MOVUPD 16(BX), X3
	MOVUPD 32(BX), X4
	MOVUPD 48(BX), X5
	XORPD  X1, X1

	MOVUPD 0(AX), X10   // pb0
	MOVUPD 48(AX), X11  // pa1
	MOVUPD 64(AX), X12  // pa2
	MOVUPD 80(AX), X13  // qb0
	MOVUPD 128(AX), X14 // qa1

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

	// in = float64(k) * scale * inv, both lanes. CVTSL2SD writes the low
	// lane only: zeroing first keeps the conversion from waiting on the
	// register's previous value (X8 held the last output's square, at
	// the end of the chain).
	XORPD    X0, X0
	XORPD    X8, X8
	CVTSL2SD R13, X0
	CVTSL2SD BX, X8
	UNPCKLPD X8, X0
	MOVUPD   32(DI), X9
	MULPD    X9, X0
	MOVUPD   48(DI), X9
	MULPD    X9, X0

	// m = pb0*in + pz1
	MOVAPD X10, X6
	MULPD  X0, X6
	ADDPD  X2, X6

	// pz1 = (pb1*in - pa1*m) + pz2
	MOVUPD 16(AX), X2
	MULPD  X0, X2
	MOVAPD X11, X9
	MULPD  X6, X9
	SUBPD  X9, X2
	ADDPD  X3, X2

	// pz2 = pb2*in - pa2*m
	MOVUPD 32(AX), X3
	MULPD  X0, X3
	MOVAPD X12, X9
	MULPD  X6, X9
	SUBPD  X9, X3

	// out = qb0*m + qz1
	MOVAPD X13, X7
	MULPD  X6, X7
	ADDPD  X4, X7

	// qz1 = (qb1*m - qa1*out) + qz2
	MOVUPD 96(AX), X4
	MULPD  X6, X4
	MOVAPD X14, X9
	MULPD  X7, X9
	SUBPD  X9, X4
	ADDPD  X5, X4

	// qz2 = qb2*m - qa2*out
	MOVUPD 112(AX), X5
	MULPD  X6, X5
	MOVUPD 144(AX), X9
	MULPD  X7, X9
	SUBPD  X9, X5

	// s += out*out
	MOVAPD X7, X8
	MULPD  X7, X8
	ADDPD  X8, X1

	MOVUPD X7, (DX)
	ADDQ   $16, DX
	DECQ   CX
	JNZ    ploop

pdone:
	MOVQ   z+8(FP), BX
	MOVUPD X2, 0(BX)
	MOVUPD X3, 16(BX)
	MOVUPD X4, 32(BX)
	MOVUPD X5, 48(BX)
	MOVQ   sum+72(FP), DX
	MOVUPD X1, 0(DX)
	RET
