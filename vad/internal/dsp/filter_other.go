//go:build !amd64 || purego

package dsp

// runPairStereo is runPairStereoGo where there is no assembly version.
func runPairStereo(c *[10][2]float64, z *pairState, buf []float64, sum *[2]float64) {
	runPairStereoGo(c, z, buf, sum)
}

// pcm16PairStereo is pcm16PairStereoGo where there is no assembly version.
func pcm16PairStereo(c *[10][2]float64, z *pairState, src []byte, a *pcm16Frame, buf []float64, sum *[2]float64) {
	pcm16PairStereoGo(c, z, src, a, buf, sum)
}
