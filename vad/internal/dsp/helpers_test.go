package dsp

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// testBand is the band and hop of vad.DefaultConfig, which the filter is
// tested and measured with.
var testBand = struct {
	FrameMS               int
	BandLowHz, BandHighHz float64
}{10, 250, 3800}

// The helpers below are vad's test helpers (bench_test.go, golden_test.go),
// so that the filter is tested on the same signals as the analysis.

// speechLike fills x with a crude talker: 150 Hz harmonics gated on and off
// in syllables, over a little noise. Good enough to exercise every branch
// of the detector at a realistic speech/silence mix.
func speechLike(x []float32, rate int, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 2))
	on := false
	left := 0
	for i := range x {
		if left == 0 {
			on = !on
			left = rate/10 + r.IntN(rate/2)
		}
		left--
		v := 0.001 * (r.Float64()*2 - 1)
		if on {
			t := float64(i) / float64(rate)
			for k := 1; k <= 8; k++ {
				v += 0.05 / float64(k) * math.Sin(2*math.Pi*150*float64(k)*t)
			}
		}
		x[i] = float32(v)
	}
}

// quantize rounds samples to 16-bit PCM, as a WAV file holds them, so that
// every reading path (float samples or the stored bytes) sees the same
// values.
func quantize(x []float32) {
	for i, v := range x {
		k := math.Round(float64(v) * (1 << 15))
		x[i] = float32(min(max(k, -(1<<15)), 1<<15-1) / (1 << 15))
	}
}

// benchRates are the sample rates the benchmarks run at.
var benchRates = []int{8000, 16000, 48000}

func rateName(rate int) string { return fmt.Sprintf("%dk", rate/1000) }
