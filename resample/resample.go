// Package resample converts audio from one sample rate to another: a
// polyphase windowed-sinc filter (Kaiser window), streaming, in constant
// memory, standard library only. It exists so that stored calls keep only
// what the analysis hears: a 48 kHz upload is stored at 16 kHz, a third of
// the samples, with nothing the detector uses thrown away.
//
// Output sample k sits at input time k*from/to exactly, so the output is
// aligned with the input (no filter delay): a replay's playhead and the
// analysis timeline agree.
package resample

import (
	"errors"
	"fmt"
	"math"
)

const (
	// zeroCrossings is the filter's half-length in zero crossings of its
	// sinc: 12 gives a stop band near -80 dB with the Kaiser window below,
	// more than the 16-bit samples it feeds need for speech.
	zeroCrossings = 12
	// rolloff puts the cut-off a little below the lower rate's Nyquist
	// frequency, so that the transition band ends before aliasing begins:
	// at 16 kHz the pass band reaches 7.4 kHz, above the 7 kHz of wideband
	// telephony.
	rolloff = 0.92
	// kaiserBeta trades the transition width for stop-band depth.
	kaiserBeta = 8.0
	// maxPhases bounds the coefficient table for rates whose ratio does not
	// reduce (47999 to 16000 would need 16000 phases): the fractional
	// position is then rounded to 1/maxPhases of an input sample, a timing
	// error far below anything audible.
	maxPhases = 1024
)

// Resampler converts a fixed number of channels from one rate to another.
// It is not safe for concurrent use.
type Resampler struct {
	from, to int
	up, down int64 // to/from reduced: output k is at input k*down/up
	phases   int64
	half     int         // taps each side of the output's position
	coef     [][]float32 // [phase][2*half taps]
	hist     [][]float32 // per channel: input from index base on
	base     int64       // input index of hist[c][0]
	in       int64       // input samples taken
	k        int64       // next output index
	out      [][]float32 // returned by Write and Flush, reused
	flushed  bool
}

// New returns a resampler from rate from to rate to (Hz) for channels
// channels.
func New(from, to, channels int) (*Resampler, error) {
	if from <= 0 || to <= 0 {
		return nil, fmt.Errorf("resample: rates %d and %d Hz", from, to)
	}
	if channels < 1 {
		return nil, fmt.Errorf("resample: %d channels", channels)
	}
	g := gcd(int64(from), int64(to))
	r := &Resampler{from: from, to: to, up: int64(to) / g, down: int64(from) / g}
	r.phases = min(r.up, maxPhases)
	// The cut-off, in cycles per input sample: half the lower rate.
	fc := 0.5 * rolloff * min(1, float64(r.up)/float64(r.down))
	r.half = int(math.Ceil(zeroCrossings / (2 * fc)))
	r.coef = make([][]float32, r.phases)
	for p := range r.coef {
		r.coef[p] = taps(float64(p)/float64(r.phases), r.half, fc)
	}
	r.hist = make([][]float32, channels)
	r.out = make([][]float32, channels)
	// Before the first sample the input is silence: half-1 zeros let the
	// first outputs look back.
	for c := range r.hist {
		r.hist[c] = make([]float32, r.half-1, 4096)
	}
	r.base = -int64(r.half - 1)
	return r, nil
}

// taps are the filter's weights for an output at fraction frac (0 <= frac
// < 1) past input sample n: tap j weighs input n-half+1+j. They are
// normalized to sum to 1, so that every phase passes a constant exactly.
func taps(frac float64, half int, fc float64) []float32 {
	w := make([]float64, 2*half)
	sum := 0.0
	for j := range w {
		d := frac + float64(half-1-j) // output position minus input position
		x := d / float64(half)
		if x <= -1 || x >= 1 {
			continue
		}
		w[j] = 2 * fc * sinc(2*fc*d) * kaiser(x)
		sum += w[j]
	}
	out := make([]float32, len(w))
	for j, v := range w {
		out[j] = float32(v / sum)
	}
	return out
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// kaiser is the Kaiser window at x in (-1, 1).
func kaiser(x float64) float64 {
	return besselI0(kaiserBeta*math.Sqrt(1-x*x)) / besselI0(kaiserBeta)
}

// besselI0 is the modified Bessel function of the first kind, order 0, by
// its power series (which converges fast for the arguments used here).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 100 && term > 1e-12*sum; k++ {
		h := x / (2 * float64(k))
		term *= h * h
		sum += term
	}
	return sum
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Rates returns the input and output rates.
func (r *Resampler) Rates() (from, to int) { return r.from, r.to }

// Write takes src (one slice per channel, all the same length) and returns
// the output it completes, one slice per channel. The returned slices are
// reused by the next call.
func (r *Resampler) Write(src [][]float32) ([][]float32, error) {
	if r.flushed {
		return nil, errors.New("resample: write after flush")
	}
	if len(src) != len(r.hist) {
		return nil, fmt.Errorf("resample: %d channels given, %d expected", len(src), len(r.hist))
	}
	n := len(src[0])
	for _, ch := range src {
		if len(ch) != n {
			return nil, errors.New("resample: channels differ in length")
		}
	}
	if r.up == r.down { // the same rate: a copy, not a filter
		out := r.empty()
		for c, ch := range src {
			out[c] = append(out[c], ch...)
		}
		return out, nil
	}
	for c, ch := range src {
		r.hist[c] = append(r.hist[c], ch...)
	}
	r.in += int64(n)
	return r.produce(r.in), nil
}

// Flush returns the output that is still held back (waiting for input
// after it), as if the input went on in silence, up to the output sample
// at or past the input's end. Nothing may be written after it.
func (r *Resampler) Flush() [][]float32 {
	if r.flushed {
		return r.empty()
	}
	r.flushed = true
	if r.up == r.down {
		return r.empty()
	}
	for c := range r.hist {
		r.hist[c] = append(r.hist[c], make([]float32, r.half)...)
	}
	return r.produce(r.in + int64(r.half))
}

func (r *Resampler) empty() [][]float32 {
	for c := range r.out {
		r.out[c] = r.out[c][:0]
	}
	return r.out
}

// produce computes every output whose taps lie within the input held
// (up to index avail) and that falls before the input's end, then drops
// the input no later output needs.
func (r *Resampler) produce(avail int64) [][]float32 {
	out := r.empty()
	for {
		pos := r.k * r.down // output position times up
		n := pos / r.up
		if n >= r.in || n+int64(r.half) >= avail {
			break
		}
		coef := r.coef[(pos%r.up)*r.phases/r.up]
		first := int(n - int64(r.half) + 1 - r.base)
		for c, h := range r.hist {
			x := h[first : first+len(coef)]
			var acc float32
			for j, w := range coef {
				acc += w * x[j]
			}
			out[c] = append(out[c], acc)
		}
		r.k++
	}
	// Keep from the first input the next output looks at.
	n := r.k * r.down / r.up
	if drop := int(n - int64(r.half) + 1 - r.base); drop > 0 {
		drop = min(drop, len(r.hist[0]))
		for c, h := range r.hist {
			r.hist[c] = h[:copy(h, h[drop:])]
		}
		r.base += int64(drop)
	}
	return out
}
