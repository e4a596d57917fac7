package dsp

import "testing"

// BenchmarkBandFilter measures the band filter alone on both channels'
// frames, in x real time: "stereo" is the filter as analysis runs it (both
// channels side by side), "ref" the one-channel reference it replaced, run
// on one channel after the other.
func BenchmarkBandFilter(b *testing.B) {
	cfg := testBand
	for _, rate := range benchRates {
		const secs = 60
		rep, cust := make([]float32, secs*rate), make([]float32, secs*rate)
		speechLike(rep, rate, 1)
		speechLike(cust, rate, 2)
		hop := rate / 100
		b.Run(rateName(rate)+"/stereo", func(b *testing.B) {
			e := [2][]float64{make([]float64, len(rep)/hop), make([]float64, len(rep)/hop)}
			for b.Loop() {
				NewBandFilter(cfg.BandLowHz, cfg.BandHighHz, rate, hop).FramesF32([2][]float32{rep, cust}, e)
			}
			b.ReportMetric(float64(secs*b.N)/b.Elapsed().Seconds(), "x-realtime")
		})
		b.Run(rateName(rate)+"/ref", func(b *testing.B) {
			for b.Loop() {
				for _, x := range [][]float32{rep, cust} {
					f := newRefBandFilter(cfg.BandLowHz, cfg.BandHighHz, rate)
					for i := 0; i+hop <= len(x); i += hop {
						f.energy(x[i : i+hop])
					}
				}
			}
			b.ReportMetric(float64(secs*b.N)/b.Elapsed().Seconds(), "x-realtime")
		})
	}
}
