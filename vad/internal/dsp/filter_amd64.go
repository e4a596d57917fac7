//go:build !purego

package dsp

// runPairStereo is runPairStereoGo in SSE2 (every amd64 processor has it):
// each packed instruction does one operation of both lanes, in the same
// order and with the same rounding as the scalar code (no fused
// multiply-add), so the results are bit for bit the same. The scalar Go
// loop cannot do this: the compiler neither packs the two lanes nor keeps
// the coefficients in registers, and it spends twice the instructions.
//
//go:noescape
func runPairStereo(c *[10][2]float64, z *[4][2]float64, buf []float64, sum *[2]float64)

// pcm16PairStereo is pcm16PairStereoGo in SSE2: the 16-bit codes are summed
// in integer registers and converted as the filter runs, in the slack its
// chain of dependent operations leaves, so decoding costs next to nothing.
//
//go:noescape
func pcm16PairStereo(c *[10][2]float64, z *[4][2]float64, src []byte, a *pcm16Frame, buf []float64, sum *[2]float64)
