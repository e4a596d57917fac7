package resample

import (
	"math"
	"math/rand/v2"
	"testing"
)

func tone(rate, n int, hz, amp float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(amp * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)))
	}
	return out
}

// run resamples mono src in chunks of the given sizes (cycled) and returns
// everything that came out, Flush included.
func run(t *testing.T, from, to int, src []float32, chunks []int) []float32 {
	t.Helper()
	r, err := New(from, to, 1)
	if err != nil {
		t.Fatal(err)
	}
	var out []float32
	for i, c := 0, 0; i < len(src); c++ {
		k := min(chunks[c%len(chunks)], len(src)-i)
		got, err := r.Write([][]float32{src[i : i+k]})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got[0]...)
		i += k
	}
	return append(out, r.Flush()[0]...)
}

func rms(x []float32) float64 {
	s := 0.0
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(x)))
}

func TestResample(t *testing.T) {
	for _, tc := range []struct {
		from, to int
	}{
		{48000, 16000}, {44100, 16000}, {22050, 16000}, {32000, 16000}, {24000, 16000},
		{47999, 16000}, {16000, 16000}, {8000, 16000}, {16000, 8000},
	} {
		const secs = 2
		n := tc.from * secs
		// A 1 kHz tone passes: same amplitude, same phase at the output's
		// own times (no delay), away from the edges.
		in := tone(tc.from, n, 1000, 0.5)
		out := run(t, tc.from, tc.to, in, []int{n})
		want := int(math.Ceil(float64(n) * float64(tc.to) / float64(tc.from)))
		if len(out) != want {
			t.Errorf("%d->%d: %d samples out, want %d", tc.from, tc.to, len(out), want)
			continue
		}
		ideal := tone(tc.to, len(out), 1000, 0.5)
		edge := tc.to / 50 // 20 ms
		worst := 0.0
		for i := edge; i < len(out)-edge; i++ {
			worst = max(worst, math.Abs(float64(out[i]-ideal[i])))
		}
		if worst > 2e-3 {
			t.Errorf("%d->%d: 1 kHz tone off by up to %.4f (of 0.5)", tc.from, tc.to, worst)
		}
		// Chunking changes nothing.
		chunked := run(t, tc.from, tc.to, in, []int{1, 7, 160, 4093, 13})
		for i := range out {
			if chunked[i] != out[i] {
				t.Errorf("%d->%d: chunked output differs at %d: %v vs %v", tc.from, tc.to, i, chunked[i], out[i])
				break
			}
		}
		// A tone above the output's Nyquist frequency is removed, not
		// folded back into the band.
		if tc.to < tc.from {
			hz := 0.5*float64(tc.to) + 0.25*float64(tc.from-tc.to)
			alias := run(t, tc.from, tc.to, tone(tc.from, n, hz, 0.5), []int{n})
			if db := 20 * math.Log10(rms(alias[edge:len(alias)-edge])/(0.5/math.Sqrt2)); db > -60 {
				t.Errorf("%d->%d: a %.0f Hz tone comes out at %.1f dB, want under -60", tc.from, tc.to, hz, db)
			}
		}
	}
}

func TestResampleDC(t *testing.T) {
	in := make([]float32, 44100)
	for i := range in {
		in[i] = 0.25
	}
	out := run(t, 44100, 16000, in, []int{441})
	for i := 400; i < len(out)-400; i++ {
		if math.Abs(float64(out[i])-0.25) > 1e-6 {
			t.Fatalf("DC 0.25 comes out as %v at %d", out[i], i)
		}
	}
}

func TestResampleStereo(t *testing.T) {
	// Channels are independent: a stereo run equals two mono runs.
	rng := rand.New(rand.NewPCG(1, 2))
	l, rr := make([]float32, 9600), make([]float32, 9600)
	for i := range l {
		l[i], rr[i] = rng.Float32()-0.5, rng.Float32()-0.5
	}
	r, err := New(48000, 16000, 2)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Write([][]float32{l, rr})
	if err != nil {
		t.Fatal(err)
	}
	left, right := append([]float32(nil), got[0]...), append([]float32(nil), got[1]...)
	fl := r.Flush()
	left, right = append(left, fl[0]...), append(right, fl[1]...)
	for c, pair := range [][2][]float32{{left, run(t, 48000, 16000, l, []int{9600})}, {right, run(t, 48000, 16000, rr, []int{9600})}} {
		if len(pair[0]) != len(pair[1]) {
			t.Fatalf("channel %d: %d vs %d samples", c, len(pair[0]), len(pair[1]))
		}
		for i := range pair[0] {
			if pair[0][i] != pair[1][i] {
				t.Fatalf("channel %d differs at %d", c, i)
			}
		}
	}
}

func TestResampleErrors(t *testing.T) {
	for _, tc := range []struct{ from, to, ch int }{{0, 16000, 1}, {16000, -1, 1}, {16000, 8000, 0}} {
		if _, err := New(tc.from, tc.to, tc.ch); err == nil {
			t.Errorf("New(%d, %d, %d): no error", tc.from, tc.to, tc.ch)
		}
	}
	r, _ := New(48000, 16000, 2)
	if _, err := r.Write([][]float32{make([]float32, 3)}); err == nil {
		t.Error("one channel of two: no error")
	}
	if _, err := r.Write([][]float32{make([]float32, 3), make([]float32, 4)}); err == nil {
		t.Error("channels of different lengths: no error")
	}
	r.Flush()
	if _, err := r.Write([][]float32{make([]float32, 3), make([]float32, 3)}); err == nil {
		t.Error("write after flush: no error")
	}
}

// BenchmarkResample48to16: one second of 48 kHz stereo per op.
func BenchmarkResample48to16(b *testing.B) {
	r, _ := New(48000, 16000, 2)
	src := [][]float32{tone(48000, 4800, 440, 0.3), tone(48000, 4800, 880, 0.3)}
	for b.Loop() {
		for range 10 {
			r.Write(src)
		}
	}
}
