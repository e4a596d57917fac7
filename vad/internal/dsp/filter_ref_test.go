package dsp

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// refBandFilter is the band filter as it was before it took both channels
// at once (one channel, float32 frames): the reference the stereo filter
// must match bit for bit.
type refBandFilter struct {
	lowHz, highHz float64
	rate          int
	decim         int // 0 until the first frame sets it up
	sections      []biquad
	buf           []float64
}

func newRefBandFilter(lowHz, highHz float64, rate int) *refBandFilter {
	return &refBandFilter{lowHz: lowHz, highHz: highHz, rate: rate}
}

// setup builds the sections for frames of hop samples.
func (f *refBandFilter) setup(hop int) {
	d := decimationFor(f.rate, hop)
	low := f.rate / d
	f.decim, f.buf = d, make([]float64, hop/d)
	for _, q := range butterworthQ {
		f.sections = append(f.sections, newHighPass(f.lowHz, low, q))
	}
	if f.highHz < lowPassMaxFraction*float64(low) {
		for _, q := range butterworthQ {
			f.sections = append(f.sections, newLowPass(f.highHz, low, q))
		}
	}
}

// energy returns the band energy of one frame x, scaled as the sum of
// squares over len(x) samples (so that energy/len(x) is the mean square).
// Every frame must have the same length. It is the hot loop of the whole
// analysis.
func (f *refBandFilter) energy(x []float32) float64 {
	if f.decim == 0 {
		f.setup(len(x))
	}
	d := f.decim
	buf := f.buf[:len(x)/d]
	switch d {
	case 1:
		for i, v := range x {
			buf[i] = float64(v)
		}
	case 2: // 16 kHz, the commonest file rate: unrolled
		x = x[:2*len(buf)]
		for i := range buf {
			buf[i] = float64(x[2*i]+x[2*i+1]) * 0.5
		}
	default:
		inv := 1 / float64(d)
		for i := range buf {
			s := float32(0)
			for _, v := range x[i*d : i*d+d] {
				s += v
			}
			buf[i] = float64(s) * inv
		}
	}
	var sum float64
	if len(f.sections) == 2 {
		sum = runPair(&f.sections[0], &f.sections[1], buf)
	} else {
		for s := range f.sections {
			f.sections[s].run(buf)
		}
		for _, v := range buf {
			sum = math.FMA(v, v, sum)
		}
	}
	return sum * float64(d)
}

// step runs one sample through the section, in direct form I with fused
// multiply-adds taken in the stereo kernel's order.
func (q *biquad) step(in float64) float64 {
	t := math.FMA(q.b1, q.x1, q.b2*q.x2)
	t = math.FMA(q.b0, in, t)
	t = math.FMA(-q.a2, q.y2, t)
	out := math.FMA(-q.a1, q.y1, t)
	q.x2, q.x1 = q.x1, in
	q.y2, q.y1 = q.y1, out
	return out
}

// flushState zeroes denormal-range state, as the stereo filter does after
// every frame.
func (q *biquad) flushState() {
	q.x1, q.x2, q.y1, q.y2 = flush(q.x1), flush(q.x2), flush(q.y1), flush(q.y2)
}

// run filters buf in place.
func (q *biquad) run(buf []float64) {
	for i, in := range buf {
		buf[i] = q.step(in)
	}
	q.flushState()
}

// runPair runs two cascaded sections over buf and returns the sum of
// squares of the output.
func runPair(p, q *biquad, buf []float64) float64 {
	sum := 0.0
	for _, in := range buf {
		out := q.step(p.step(in))
		sum = math.FMA(out, out, sum)
	}
	p.flushState()
	q.flushState()
	return sum
}

// filterTestSignal is a channel that reaches every corner of the filter:
// speech-like sound, white noise, full-scale square waves (clipping
// codes), and digital silence after loud sound (denormal state flushed).
func filterTestSignal(n, rate int, seed uint64) []float32 {
	x := make([]float32, n)
	speechLike(x, rate, seed)
	r := rand.New(rand.NewPCG(seed, 9))
	for i := range x {
		switch seg := i * 8 / n; seg {
		case 2:
			x[i] += float32(0.3 * (2*r.Float64() - 1))
		case 3:
			x[i] = 1
			if i/37%2 == 0 {
				x[i] = -1
			}
		case 5, 6:
			x[i] = 0
		}
	}
	return x
}

// The stereo filter measures both channels exactly as the one-channel
// reference does, at every rate's decimation and section count, from float
// samples and from 16-bit PCM bytes.
func TestBandFilterMatchesReference(t *testing.T) {
	cfg := testBand
	for _, rate := range []int{8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000} {
		hop := int(math.Round(float64(rate) * float64(cfg.FrameMS) / 1000))
		frames := 1200
		n := frames * hop
		x := [2][]float32{filterTestSignal(n, rate, 1), filterTestSignal(n, rate, 2)}
		var want [2][]float64
		for c := range x {
			f := newRefBandFilter(cfg.BandLowHz, cfg.BandHighHz, rate)
			for i := range frames {
				want[c] = append(want[c], f.energy(x[c][i*hop:(i+1)*hop])/float64(hop))
			}
		}
		got := [2][]float64{make([]float64, frames), make([]float64, frames)}
		NewBandFilter(cfg.BandLowHz, cfg.BandHighHz, rate, hop).FramesF32(x, got)
		compareEnergies(t, fmt.Sprintf("%d Hz, float", rate), got, want)

		// The same samples on the 16-bit grid, as float and as the bytes
		// of a 3-channel file whose channels 2 and 0 are analyzed.
		for c := range x {
			quantize(x[c])
		}
		for c := range x {
			f := newRefBandFilter(cfg.BandLowHz, cfg.BandHighHz, rate)
			for i := range frames {
				want[c][i] = f.energy(x[c][i*hop:(i+1)*hop]) / float64(hop)
			}
		}
		const channels = 3
		b := make([]byte, 2*channels*n)
		for i := range n {
			binary.LittleEndian.PutUint16(b[2*channels*i+4:], uint16(int16(x[0][i]*(1<<15))))
			binary.LittleEndian.PutUint16(b[2*channels*i:], uint16(int16(x[1][i]*(1<<15))))
			binary.LittleEndian.PutUint16(b[2*channels*i+2:], 0x7fff)
		}
		NewBandFilter(cfg.BandLowHz, cfg.BandHighHz, rate, hop).FramesPCM16(b, 2*channels, [2]int{4, 0}, got)
		compareEnergies(t, fmt.Sprintf("%d Hz, PCM16", rate), got, want)
	}
}

func compareEnergies(t *testing.T, what string, got, want [2][]float64) {
	t.Helper()
	for c := range got {
		for i := range got[c] {
			if math.Float64bits(got[c][i]) != math.Float64bits(want[c][i]) {
				t.Errorf("%s: channel %d frame %d: energy %v, want %v", what, c, i, got[c][i], want[c][i])
				return
			}
		}
	}
}

// The assembly kernel and the Go one agree bit for bit, state included.
func TestRunPairStereoMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	p := newSectionPair(newHighPass(250, 8000, butterworthQ[0]), newHighPass(250, 8000, butterworthQ[1]))
	q := p
	for range 200 {
		buf := make([]float64, 2*(1+r.IntN(100)))
		for i := range buf {
			buf[i] = r.NormFloat64() * math.Pow(10, -3*r.Float64())
		}
		buf2 := append([]float64(nil), buf...)
		var s1, s2 [2]float64
		runPairStereo(&p.c, &p.z, buf, &s1)
		runPairStereoGo(&q.c, &q.z, buf2, &s2)
		if s1 != s2 || p.z != q.z || !slices.Equal(buf, buf2) {
			t.Fatalf("kernels differ: sums %v and %v, state %v and %v", s1, s2, p.z, q.z)
		}
	}
}

// The assembly decode-and-filter kernel and the Go one agree bit for bit,
// at every averaging factor, channel layout and byte offset.
func TestPCM16PairStereoMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for range 300 {
		channels := 1 + r.IntN(4)
		stride := 2 * channels
		d := 1 + r.IntN(decimatedMax)
		n := 1 + r.IntN(60)
		src := make([]byte, n*d*stride)
		for i := range src {
			src[i] = byte(r.Uint32())
		}
		inv := 1 / float64(d)
		a := pcm16Frame{stride: stride, off0: 2 * r.IntN(channels), off1: 2 * r.IntN(channels), decim: d,
			scale: [2]float64{pcm16Scale, pcm16Scale}, inv: [2]float64{inv, inv}}
		p := newSectionPair(newHighPass(250, 8000, butterworthQ[0]), newHighPass(250, 8000, butterworthQ[1]))
		p.z[0] = [2]float64{r.NormFloat64(), r.NormFloat64()}
		q := p
		buf, buf2 := make([]float64, 2*n), make([]float64, 2*n)
		var s1, s2 [2]float64
		pcm16PairStereo(&p.c, &p.z, src, &a, buf, &s1)
		pcm16PairStereoGo(&q.c, &q.z, src, &a, buf2, &s2)
		if s1 != s2 || p.z != q.z || !slices.Equal(buf, buf2) {
			t.Fatalf("%+v: kernels differ: sums %v and %v", a, s1, s2)
		}
	}
}
