package vad

import "math"

// biquad is one second-order IIR section in transposed direct form II,
// normalised so that a0 = 1. The state is float64: a 250 Hz high-pass pole
// sits close to the unit circle, and float32 state would add limit-cycle
// noise right where quiet lines need it least.
type biquad struct {
	b0, b1, b2, a1, a2 float64
	z1, z2             float64
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

// run filters buf in place. Each section runs over the whole block in turn
// so that its coefficients and state stay in registers.
func (q *biquad) run(buf []float64) {
	b0, b1, b2, a1, a2 := q.b0, q.b1, q.b2, q.a1, q.a2
	z1, z2 := q.z1, q.z2
	for i, in := range buf {
		out := b0*in + z1
		z1 = b1*in - a1*out + z2
		z2 = b2*in - a2*out
		buf[i] = out
	}
	q.z1, q.z2 = flush(z1), flush(z2)
}

// runPair runs two cascaded sections over buf in one pass and returns the
// sum of squares of the output. Interleaving lets the CPU overlap the
// second section's feedback chain with the first's on the next sample,
// which is where the time goes: each section is latency bound.
func runPair(p, q *biquad, buf []float64) float64 {
	pb0, pb1, pb2, pa1, pa2 := p.b0, p.b1, p.b2, p.a1, p.a2
	qb0, qb1, qb2, qa1, qa2 := q.b0, q.b1, q.b2, q.a1, q.a2
	pz1, pz2, qz1, qz2 := p.z1, p.z2, q.z1, q.z2
	sum := 0.0
	for _, in := range buf {
		m := pb0*in + pz1
		pz1 = pb1*in - pa1*m + pz2
		pz2 = pb2*in - pa2*m
		out := qb0*m + qz1
		qz1 = qb1*m - qa1*out + qz2
		qz2 = qb2*m - qa2*out
		sum += out * out
	}
	p.z1, p.z2, q.z1, q.z2 = flush(pz1), flush(pz2), flush(qz1), flush(qz2)
	return sum
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

// bandFilter measures a frame's energy in the speech band: averaging down
// to ~8 kHz, then a 4th-order high-pass against mains hum, rumble and DC,
// and a 4th-order low-pass where the averaged rate still leaves room for
// hiss above the telephone band.
type bandFilter struct {
	lowHz, highHz float64
	rate          int
	decim         int // 0 until the first frame sets it up
	sections      []biquad
	buf           []float64
}

func newBandFilter(lowHz, highHz float64, rate int) *bandFilter {
	return &bandFilter{lowHz: lowHz, highHz: highHz, rate: rate}
}

// setup builds the sections for frames of hop samples.
func (f *bandFilter) setup(hop int) {
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
func (f *bandFilter) energy(x []float32) float64 {
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
			sum += v * v
		}
	}
	return sum * float64(d)
}
