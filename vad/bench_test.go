package vad

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"talkratio/tally"
	"talkratio/vad/internal/dsp"
)

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

// BenchmarkAnalyzer measures the whole per-call analysis (band filter,
// floors, bleed model, detector, tally) on two channels, fed in blocks as
// analyze does. Reported in MB/s of 16-bit stereo input and in
// x real time.
func BenchmarkAnalyzer(b *testing.B) {
	for _, rate := range []int{8000, 16000, 48000} {
		b.Run(map[int]string{8000: "8k", 16000: "16k", 48000: "48k"}[rate], func(b *testing.B) {
			const secs = 60
			rep, cust := make([]float32, secs*rate), make([]float32, secs*rate)
			speechLike(rep, rate, 1)
			speechLike(cust, rate, 2)
			b.SetBytes(int64(len(rep)) * 4)
			b.ResetTimer()
			for b.Loop() {
				a, err := NewAnalyzer(DefaultConfig(), tally.DefaultConfig(), rate)
				if err != nil {
					b.Fatal(err)
				}
				for i := 0; i < len(rep); i += analyzeBlockFrames {
					j := min(i+analyzeBlockFrames, len(rep))
					a.Write(rep[i:j], cust[i:j])
				}
				a.Close()
				_ = a.Result()
			}
			b.ReportMetric(float64(secs*b.N)/b.Elapsed().Seconds(), "x-realtime")
		})
	}
}

// benchRates are the sample rates the benchmarks run at.
var benchRates = []int{8000, 16000, 48000}

func rateName(rate int) string { return fmt.Sprintf("%dk", rate/1000) }

// BenchmarkDecisions measures everything after the band filter (floors,
// leak and background models, smoothing, detectors, tally) on frame
// energies measured beforehand: the part whose cost per frame does not
// depend on the sample rate.
func BenchmarkDecisions(b *testing.B) {
	const rate, secs = 8000, 60
	rep, cust := make([]float32, secs*rate), make([]float32, secs*rate)
	speechLike(rep, rate, 1)
	speechLike(cust, rate, 2)
	hop := rate / 100
	e := [2][]float64{make([]float64, len(rep)/hop), make([]float64, len(rep)/hop)}
	dsp.NewBandFilter(DefaultConfig().BandLowHz, DefaultConfig().BandHighHz, rate, hop).FramesF32([2][]float32{rep, cust}, e)
	for b.Loop() {
		a, err := NewAnalyzer(DefaultConfig(), tally.DefaultConfig(), rate)
		if err != nil {
			b.Fatal(err)
		}
		for i := range e[0] {
			a.frame([2]float64{e[0][i], e[1][i]})
		}
		a.frames, a.samples = int64(len(e[0])), int64(len(e[0])*hop)
		a.Close()
		_ = a.Result()
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N*len(e[0])), "ns/frame")
}

// benchCall is a minute of two speech-like channels at rate, on the 16-bit
// grid.
func benchCall(rate int) (rep, cust []float32) {
	const secs = 60
	rep, cust = make([]float32, secs*rate), make([]float32, secs*rate)
	speechLike(rep, rate, 1)
	speechLike(cust, rate, 2)
	quantize(rep)
	quantize(cust)
	return rep, cust
}

// BenchmarkBandFilterPCM16 measures the band filter on 16-bit PCM bytes,
// decoding included, as Analyze runs it on a WAV file: one core, both
// channels.
func BenchmarkBandFilterPCM16(b *testing.B) {
	cfg := DefaultConfig()
	for _, rate := range benchRates {
		rep, cust := benchCall(rate)
		src := newPCM16Source(rep, cust, len(rep))
		hop := rate / 100
		n := len(rep) / hop
		b.Run(rateName(rate), func(b *testing.B) {
			e := [2][]float64{make([]float64, n), make([]float64, n)}
			for b.Loop() {
				dsp.NewBandFilter(cfg.BandLowHz, cfg.BandHighHz, rate, hop).FramesPCM16(src.b[:n*hop*2*pcm16SourceChannels], 2*pcm16SourceChannels, [2]int{4, 0}, e)
			}
			b.ReportMetric(float64(60*b.N)/b.Elapsed().Seconds(), "x-realtime")
		})
	}
}

// BenchmarkAnalyzePCM16 measures Analyze end to end on 16-bit PCM bytes
// from memory (no file reading): the filter and the decisions pipelined
// on two cores.
func BenchmarkAnalyzePCM16(b *testing.B) {
	for _, rate := range benchRates {
		rep, cust := benchCall(rate)
		b.Run(rateName(rate), func(b *testing.B) {
			src := newPCM16Source(rep, cust, 1<<20)
			for b.Loop() {
				src.pos = 0
				if _, err := Analyze(src, rate, ChannelMap{Channels: pcm16SourceChannels, Rep: 2, Customer: 0}, DefaultConfig(), tally.DefaultConfig()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(60*b.N)/b.Elapsed().Seconds(), "x-realtime")
		})
	}
}
