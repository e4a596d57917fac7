package dsp

import (
	"encoding/binary"
	"math"
)

// biquad is one second-order IIR section, normalised so that a0 = 1, and
// its state in direct form I: the last two inputs and outputs. The state is
// float64: a 250 Hz high-pass pole sits close to the unit circle, and
// float32 state would add limit-cycle noise right where quiet lines need it
// least.
type biquad struct {
	b0, b1, b2, a1, a2 float64
	x1, x2, y1, y2     float64
}

// butterworthQ are the section Qs of a 4th-order Butterworth filter built
// from two biquads: flat pass band, 24 dB/octave roll-off.
var butterworthQ = [2]float64{0.54119610, 1.30656296}

// newHighPass and newLowPass follow the RBJ audio-EQ cookbook (bilinear
// transform with pre-warping), which keeps the corner frequency exact at
// every sample rate.
func newHighPass(cutoffHz float64, rate int, q float64) biquad {
	w := 2 * math.Pi * cutoffHz / float64(rate)
	cos, alpha := math.Cos(w), math.Sin(w)/(2*q)
	a0 := 1 + alpha
	return biquad{
		b0: (1 + cos) / 2 / a0, b1: -(1 + cos) / a0, b2: (1 + cos) / 2 / a0,
		a1: -2 * cos / a0, a2: (1 - alpha) / a0,
	}
}

func newLowPass(cutoffHz float64, rate int, q float64) biquad {
	w := 2 * math.Pi * cutoffHz / float64(rate)
	cos, alpha := math.Cos(w), math.Sin(w)/(2*q)
	a0 := 1 + alpha
	return biquad{
		b0: (1 - cos) / 2 / a0, b1: (1 - cos) / a0, b2: (1 - cos) / 2 / a0,
		a1: -2 * cos / a0, a2: (1 - alpha) / a0,
	}
}

// flush zeroes denormal-range state: a long run of digital silence after a
// loud passage would otherwise slow the loop by orders of magnitude.
func flush(z float64) float64 {
	if math.Abs(z) < 1e-30 {
		return 0
	}
	return z
}

// Decimation ahead of the band filter. Speech energy that matters for
// activity lies below ~3.5 kHz, so the signal is first averaged down to
// about 8 kHz. A boxcar average is the cheapest low-pass there is (one add
// per sample), and for energy it is as good as a sharp one: averaging D
// samples divides the power of white noise by D, exactly what an ideal
// low-pass at rate/(2D) does, while speech below 3 kHz loses under 2 dB.
// The IIR sections then run at the low rate, which makes analysis several
// times faster than filtering at 48 kHz.
const (
	// decimatedMinHz: the averaged rate may not drop below this, so that
	// the band keeps speech up to ~3.5 kHz.
	decimatedMinHz = 7000
	// lowPassMaxFraction of the (decimated) rate is the highest low-pass
	// corner worth building; closer to Nyquist a low-pass does nothing the
	// averaging has not done already.
	lowPassMaxFraction = 0.42
)

// decimationFor returns the averaging factor for a sample rate and frame
// hop: the largest divisor of hop that keeps the rate at or above
// decimatedMinHz. Dividing the hop keeps frame boundaries on averaged
// samples, so every frame sees the same number of them.
func decimationFor(rate, hop int) int {
	best := 1
	for d := 2; d <= hop; d++ {
		if hop%d == 0 && rate/d >= decimatedMinHz {
			best = d
		}
	}
	return best
}

// BandFilter measures the band energy of both channels' frames: averaging
// down to ~8 kHz, then a 4th-order high-pass against mains hum, rumble and
// DC, and a 4th-order low-pass where the averaged rate still leaves room for
// hiss above the telephone band.
//
// The two channels run side by side, sample by sample, as the two lanes of
// one filter. Each section is a chain of dependent multiplies and adds, so
// one channel on its own leaves most of a core's arithmetic idle; the second
// channel fills it, which halves the cost of the analysis's hot loop without
// a second core (see runPairStereo). Each lane computes exactly what a
// one-channel filter computes, operation for operation.
type BandFilter struct {
	hop, decim int
	pairs      []sectionPair
	buf        []float64 // one frame, averaged, interleaved: buf[2i] rep, buf[2i+1] customer
}

// sectionPair is two cascaded biquads, for both lanes, each run in direct
// form I with fused multiply-adds (see runPairStereoGo).
type sectionPair struct {
	// c holds b0, b1, b2, -a1, -a2 of the first section, then of the
	// second, each once per lane.
	c [10][2]float64
	// z holds, per lane, the last two inputs of the first section, its
	// last two outputs (the second section's inputs) and the second
	// section's last two outputs: x1, x2, m1, m2, o1, o2.
	z pairState
}

// pairState is a sectionPair's state (see sectionPair.z).
type pairState = [6][2]float64

func newSectionPair(p, q biquad) sectionPair {
	var sp sectionPair
	for k, v := range [10]float64{p.b0, p.b1, p.b2, -p.a1, -p.a2, q.b0, q.b1, q.b2, -q.a1, -q.a2} {
		sp.c[k] = [2]float64{v, v}
	}
	return sp
}

// NewBandFilter builds the filter for frames of hop samples at rate Hz.
func NewBandFilter(lowHz, highHz float64, rate, hop int) *BandFilter {
	d := decimationFor(rate, hop)
	low := rate / d
	f := &BandFilter{hop: hop, decim: d, buf: make([]float64, 2*(hop/d))}
	q := butterworthQ
	f.pairs = append(f.pairs, newSectionPair(newHighPass(lowHz, low, q[0]), newHighPass(lowHz, low, q[1])))
	if highHz < lowPassMaxFraction*float64(low) {
		f.pairs = append(f.pairs, newSectionPair(newLowPass(highHz, low, q[0]), newLowPass(highHz, low, q[1])))
	}
	return f
}

// measure filters the frame in buf and returns each channel's mean square
// in the band. The sections run in turn over the frame, the output of one
// the input of the next, and the last pair sums the squares of its output.
func (f *BandFilter) measure() (e0, e1 float64) {
	var sum [2]float64
	for i := range f.pairs {
		runPairStereo(&f.pairs[i].c, &f.pairs[i].z, f.buf, &sum)
		f.pairs[i].flush()
	}
	return f.scale(sum)
}

// scale turns the sums of squares over a frame's hop/decim averaged
// samples into mean squares over its hop samples.
func (f *BandFilter) scale(sum [2]float64) (e0, e1 float64) {
	d, hop := float64(f.decim), float64(f.hop)
	return sum[0] * d / hop, sum[1] * d / hop
}

// flush zeroes the pair's denormal-range state (see flush).
func (p *sectionPair) flush() {
	for k := range p.z {
		p.z[k] = [2]float64{flush(p.z[k][0]), flush(p.z[k][1])}
	}
}

// FramesF32 measures whole frames of float samples (x[0] and x[1] the same
// length, a multiple of the hop) into e[0] and e[1], one value per frame.
func (f *BandFilter) FramesF32(x [2][]float32, e [2][]float64) {
	hop, d := f.hop, f.decim
	buf := f.buf
	for i := range e[0] {
		for c := range x {
			fr := x[c][i*hop : (i+1)*hop]
			switch d {
			case 1:
				for j, v := range fr {
					buf[2*j+c] = float64(v)
				}
			case 2: // 16 kHz, the commonest file rate
				for j := range hop / 2 {
					buf[2*j+c] = float64(fr[2*j]+fr[2*j+1]) * 0.5
				}
			default:
				inv := 1 / float64(d)
				for j := range hop / d {
					s := float32(0)
					for _, v := range fr[j*d : j*d+d] {
						s += v
					}
					buf[2*j+c] = float64(s) * inv
				}
			}
		}
		e[0][i], e[1][i] = f.measure()
	}
}

// pcm16Scale maps a 16-bit code to [-1, 1), as audio's decoders do.
const pcm16Scale = 1.0 / (1 << 15)

// pcm16Frame says where a frame's samples are in 16-bit PCM bytes and how
// they are averaged (see pcm16PairStereo).
type pcm16Frame struct {
	stride     int        // bytes per sample frame
	off0, off1 int        // byte offsets of the two channels' samples in one
	decim      int        // samples averaged into one
	scale      [2]float64 // pcm16Scale, once per lane
	inv        [2]float64 // 1/decim, once per lane
}

// FramesPCM16 measures whole frames of interleaved 16-bit little-endian
// PCM, as a WAV file stores it, into e[0] and e[1]: frames of hop sample
// frames of stride bytes each, the two channels' samples at byte offsets
// off[0] and off[1] of each.
//
// It computes exactly what FramesF32 computes on the same samples decoded
// to float32 (code/32768), as audio's decoders do. Those floats are
// exact, and so are their sums in float32: at most decimatedMax codes of
// 16 bits need 19 of float32's 24 bits. So the integer sum of the codes,
// times 2^-15 (exact, a power of two), is bit for bit the float32 sum, and
// the average is the same product with 1/decim (for decim 1 and 2, also
// exact, as the float path's average is).
func (f *BandFilter) FramesPCM16(b []byte, stride int, off [2]int, e [2][]float64) {
	inv := 1 / float64(f.decim)
	args := pcm16Frame{stride: stride, off0: off[0], off1: off[1], decim: f.decim,
		scale: [2]float64{pcm16Scale, pcm16Scale}, inv: [2]float64{inv, inv}}
	frame := f.hop * stride
	for i := range e[0] {
		fb := b[i*frame : (i+1)*frame]
		var sum [2]float64
		// The first pair decodes as it filters; any further pair takes
		// the first one's output from buf.
		pcm16PairStereo(&f.pairs[0].c, &f.pairs[0].z, fb, &args, f.buf, &sum)
		f.pairs[0].flush()
		for k := 1; k < len(f.pairs); k++ {
			runPairStereo(&f.pairs[k].c, &f.pairs[k].z, f.buf, &sum)
			f.pairs[k].flush()
		}
		e[0][i], e[1][i] = f.scale(sum)
	}
}

// MaxRate is the highest sample rate the filter is built for: the
// analyzer's (vad.MaxSampleRate, which vad holds to it).
const MaxRate = 48000

// decimatedMax bounds the averaging factor: decimationFor keeps the rate
// at MaxRate over decimatedMinHz, so at most 6 samples are averaged.
const decimatedMax = MaxRate / decimatedMinHz

// pcm16PairStereoGo decodes and averages a frame of 16-bit PCM (src, laid
// out as a says) into buf, both channels interleaved, then runs a pair of
// sections over it as runPairStereoGo does. pcm16PairStereo in assembly
// must match it bit for bit.
func pcm16PairStereoGo(c *[10][2]float64, z *pairState, src []byte, a *pcm16Frame, buf []float64, sum *[2]float64) {
	p := 0
	for j := range len(buf) / 2 {
		k0, k1 := 0, 0
		for range a.decim {
			k0 += int(int16(binary.LittleEndian.Uint16(src[p+a.off0:])))
			k1 += int(int16(binary.LittleEndian.Uint16(src[p+a.off1:])))
			p += a.stride
		}
		buf[2*j] = float64(k0) * a.scale[0] * a.inv[0]
		buf[2*j+1] = float64(k1) * a.scale[1] * a.inv[1]
	}
	runPairStereoGo(c, z, buf, sum)
}

// runPairStereoGo runs two cascaded sections (coefficients c, state z, see
// sectionPair) over both lanes of buf in place and sets sum to each lane's
// sum of squares of the output. runPairStereo in assembly must match it bit
// for bit, which fused multiply-adds make possible: each is rounded once,
// exactly, on every machine (math.FMA).
//
// Why direct form I with fused multiply-adds: the filter is latency bound,
// each output waiting on the one before. Here a section's feedback loop is
// one fused multiply-add (out = t - a1*out1, t computed ahead from inputs
// and the output before last), four cycles; transposed direct form II,
// which this replaced, waited on a multiply, a subtract and two adds, about
// three times as long. In float64 the two forms measure the same energies
// to within ~1e-15 relative, and the decisions are the same.
func runPairStereoGo(c *[10][2]float64, z *pairState, buf []float64, sum *[2]float64) {
	for l := range 2 {
		pb0, pb1, pb2, pa1, pa2 := c[0][l], c[1][l], c[2][l], c[3][l], c[4][l]
		qb0, qb1, qb2, qa1, qa2 := c[5][l], c[6][l], c[7][l], c[8][l], c[9][l]
		x1, x2, m1, m2, o1, o2 := z[0][l], z[1][l], z[2][l], z[3][l], z[4][l], z[5][l]
		s := 0.0
		for i := l; i < len(buf); i += 2 {
			in := buf[i]
			// The a coefficients are stored negated: t + (-a)*y.
			t := math.FMA(pb1, x1, pb2*x2)
			t = math.FMA(pb0, in, t)
			t = math.FMA(pa2, m2, t)
			m := math.FMA(pa1, m1, t)
			u := math.FMA(qb1, m1, qb2*m2)
			u = math.FMA(qb0, m, u)
			u = math.FMA(qa2, o2, u)
			out := math.FMA(qa1, o1, u)
			s = math.FMA(out, out, s)
			x2, x1 = x1, in
			m2, m1 = m1, m
			o2, o1 = o1, out
			buf[i] = out
		}
		z[0][l], z[1][l], z[2][l], z[3][l], z[4][l], z[5][l] = x1, x2, m1, m2, o1, o2
		sum[l] = s
	}
}
