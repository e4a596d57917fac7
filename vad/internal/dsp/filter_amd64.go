//go:build !purego

package dsp

// fmaOK says whether this processor (and its operating system) runs the
// AVX fused multiply-add kernels; set once, before anything reads it. Every
// amd64 processor since 2013 (Haswell, Piledriver) does; an older one runs
// the Go kernels, whose math.FMA gives the same results far more slowly.
var fmaOK = cpuHasFMA()

// cpuHasFMA reports FMA3 and AVX in CPUID, with the AVX register state
// enabled by the operating system (XGETBV).
func cpuHasFMA() bool

// runPairStereo runs runPairStereoFMA where the processor can, else
// runPairStereoGo: the results are the same bit for bit, since a fused
// multiply-add is rounded once, exactly, wherever it runs.
func runPairStereo(c *[10][2]float64, z *pairState, buf []float64, sum *[2]float64) {
	if fmaOK {
		runPairStereoFMA(c, z, buf, sum)
		return
	}
	runPairStereoGo(c, z, buf, sum)
}

// pcm16PairStereo is runPairStereo for pcm16PairStereoFMA and
// pcm16PairStereoGo.
func pcm16PairStereo(c *[10][2]float64, z *pairState, src []byte, a *pcm16Frame, buf []float64, sum *[2]float64) {
	if fmaOK {
		pcm16PairStereoFMA(c, z, src, a, buf, sum)
		return
	}
	pcm16PairStereoGo(c, z, src, a, buf, sum)
}

// runPairStereoFMA is runPairStereoGo in AVX with FMA3 on 128-bit
// registers: each packed instruction does one operation of both lanes, in
// the same order and with the same rounding as the scalar code. The scalar
// Go loop cannot do this: the compiler neither packs the two lanes nor
// keeps the coefficients in registers.
//
//go:noescape
func runPairStereoFMA(c *[10][2]float64, z *pairState, buf []float64, sum *[2]float64)

// pcm16PairStereoFMA is pcm16PairStereoGo in the same way: the 16-bit
// codes are summed in integer registers and converted as the filter runs,
// in the slack its chain of dependent operations leaves.
//
//go:noescape
func pcm16PairStereoFMA(c *[10][2]float64, z *pairState, src []byte, a *pcm16Frame, buf []float64, sum *[2]float64)
