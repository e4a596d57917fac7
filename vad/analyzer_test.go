package vad

import (
	"math"
	"math/rand/v2"
	"testing"

	"talkratio/tally"
)

// Synthetic signals for detector tests. Levels are in dBFS of the signal's
// RMS; times in seconds.

type signal struct {
	rate int
	x    []float32
}

func newSignal(rate int, secs float64) *signal {
	return &signal{rate: rate, x: make([]float32, int(secs*float64(rate)))}
}

func (s *signal) span(from, to float64) (int, int) {
	a := max(0, int(from*float64(s.rate)))
	b := min(len(s.x), int(to*float64(s.rate)))
	return a, b
}

func amp(db float64) float64 { return math.Pow(10, db/20) }

// tone adds a sine.
func (s *signal) tone(from, to, hz, db float64) *signal {
	a, b := s.span(from, to)
	g := amp(db) * math.Sqrt2
	for i := a; i < b; i++ {
		s.x[i] += float32(g * math.Sin(2*math.Pi*hz*float64(i)/float64(s.rate)))
	}
	return s
}

// voice adds a crude talker: harmonics of f0 up to 3.5 kHz, gated into
// 150-300 ms syllables with short dips, as speech is.
func (s *signal) voice(from, to, f0, db float64, seed uint64) *signal {
	r := rand.New(rand.NewPCG(seed, 3))
	a, b := s.span(from, to)
	var harm []float64
	for k := 1; float64(k)*f0 < 3500; k++ {
		harm = append(harm, 1/math.Sqrt(float64(k)))
	}
	norm := 0.0
	for _, h := range harm {
		norm += h * h / 2
	}
	g := amp(db) / math.Sqrt(norm) / math.Sqrt(0.6) // ~60% of the time voiced at full level
	syl, left := 0.0, 0
	for i := a; i < b; i++ {
		if left == 0 {
			left = int((0.15 + 0.15*r.Float64()) * float64(s.rate))
			syl = 0.3 + 0.7*r.Float64()
		}
		left--
		env := syl * math.Sin(math.Pi*float64(left)/(0.3*float64(s.rate)))
		if env < 0 {
			env = 0
		}
		t := float64(i) / float64(s.rate)
		v := 0.0
		for k, h := range harm {
			v += h * math.Sin(2*math.Pi*f0*float64(k+1)*t)
		}
		s.x[i] += float32(g * env * v)
	}
	return s
}

// noise adds white noise.
func (s *signal) noise(db float64, seed uint64) *signal {
	r := rand.New(rand.NewPCG(seed, 5))
	g := amp(db) * math.Sqrt(3)
	for i := range s.x {
		s.x[i] += float32(g * (2*r.Float64() - 1))
	}
	return s
}

// noiseAt adds white noise between from and to: a recording's own room,
// heard only while that recording plays.
func (s *signal) noiseAt(from, to, db float64, seed uint64) *signal {
	r := rand.New(rand.NewPCG(seed, 7))
	g := amp(db) * math.Sqrt(3)
	a, b := s.span(from, to)
	for i := a; i < b; i++ {
		s.x[i] += float32(g * (2*r.Float64() - 1))
	}
	return s
}

// leak adds another signal, delayed and attenuated: bleed.
func (s *signal) leak(o *signal, delay, db float64) *signal {
	d := int(delay * float64(s.rate))
	g := float32(amp(db))
	for i := d; i < len(s.x) && i-d < len(o.x); i++ {
		s.x[i] += g * o.x[i-d]
	}
	return s
}

// analyze runs the analyzer over two signals in blocks of the given size.
func analyze(t *testing.T, rep, cust *signal, block int) tally.Result {
	t.Helper()
	return analyzeWith(t, DefaultConfig(), rep, cust, block)
}

// analyzeWith is analyze with a given configuration.
func analyzeWith(t *testing.T, cfg Config, rep, cust *signal, block int) tally.Result {
	t.Helper()
	a, err := NewAnalyzer(cfg, tally.DefaultConfig(), rep.rate)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(rep.x); i += block {
		j := min(i+block, len(rep.x))
		if err := a.Write(rep.x[i:j], cust.x[i:j]); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()
	return a.Result()
}

// covered is the time of segs inside [from, to).
func covered(segs []tally.Segment, from, to float64) float64 {
	return clippedTotal(segs, from, to)
}

func TestDetectorSignals(t *testing.T) {
	const dur = 12.0
	tests := []struct {
		name string
		rate int
		rep  func(*signal)
		cust func(*signal)
		// want: the rep's segments cover [from, to) at least minIn of it,
		// and at most maxOut seconds outside it.
		from, to      float64
		minIn, maxOut float64
	}{
		{
			name: "digital silence is never speech",
			rate: 16000, rep: func(s *signal) {}, cust: func(s *signal) {},
			minIn: 0, maxOut: 0,
		},
		{
			name: "dither is never speech",
			rate: 16000, rep: func(s *signal) { s.noise(-96, 1) }, cust: func(s *signal) { s.noise(-96, 2) },
			minIn: 0, maxOut: 0,
		},
		{
			name: "mains hum is rejected by the band filter",
			rate: 8000, rep: func(s *signal) { s.tone(0, dur, 50, -20).tone(0, dur, 100, -26) }, cust: func(s *signal) {},
			minIn: 0, maxOut: 0,
		},
		{
			name: "a voice in steady noise, 8 kHz",
			rate: 8000,
			rep:  func(s *signal) { s.noise(-50, 3).voice(4, 8, 140, -30, 1) },
			cust: func(s *signal) { s.noise(-50, 4) },
			from: 4, to: 8, minIn: 0.9, maxOut: 0.4,
		},
		{
			name: "a voice in steady noise, 16 kHz",
			rate: 16000,
			rep:  func(s *signal) { s.noise(-50, 3).voice(4, 8, 140, -30, 1) },
			cust: func(s *signal) { s.noise(-50, 4) },
			from: 4, to: 8, minIn: 0.9, maxOut: 0.4,
		},
		{
			name: "a voice in steady noise, 48 kHz",
			rate: 48000,
			rep:  func(s *signal) { s.noise(-50, 3).voice(4, 8, 140, -30, 1) },
			cust: func(s *signal) { s.noise(-50, 4) },
			from: 4, to: 8, minIn: 0.9, maxOut: 0.4,
		},
		{
			name: "a quiet line: voice at -50 dBFS over near-silence",
			rate: 16000,
			rep:  func(s *signal) { s.noise(-80, 3).voice(3, 9, 200, -50, 2) },
			cust: func(s *signal) { s.noise(-80, 4) },
			from: 3, to: 9, minIn: 0.9, maxOut: 0.4,
		},
		{
			name: "a tone burst: onset and hangover stay close to the edges",
			rate: 16000,
			rep:  func(s *signal) { s.noise(-60, 3).tone(5, 7, 1000, -25) },
			cust: func(s *signal) { s.noise(-60, 4) },
			from: 5, to: 7, minIn: 0.97, maxOut: 0.25,
		},
		{
			name:  "a 20 ms click is not speech",
			rate:  16000,
			rep:   func(s *signal) { s.noise(-60, 3).tone(6, 6.02, 1000, -10) },
			cust:  func(s *signal) { s.noise(-60, 4) },
			minIn: 0, maxOut: 0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, cust := newSignal(tc.rate, dur), newSignal(tc.rate, dur)
			tc.rep(rep)
			tc.cust(cust)
			res := analyze(t, rep, cust, 4096)
			in := covered(res.Segments.Rep, tc.from, tc.to)
			out := total(res.Segments.Rep) - in
			if tc.to > tc.from && in < tc.minIn*(tc.to-tc.from) {
				t.Errorf("rep speech covers %.2f s of %.2f-%.2f, want >= %.0f%%; segments %v", in, tc.from, tc.to, 100*tc.minIn, res.Segments.Rep)
			}
			if out > tc.maxOut {
				t.Errorf("rep speech outside %.2f-%.2f: %.2f s, want <= %.2f; segments %v", tc.from, tc.to, out, tc.maxOut, res.Segments.Rep)
			}
			if n := total(res.Segments.Customer); n > 0.3 {
				t.Errorf("customer (noise only) has %.2f s of speech: %v", n, res.Segments.Customer)
			}
		})
	}
}

// Pauses between words stay inside one segment; a pause of seconds
// splits it.
func TestDetectorBridgesShortPauses(t *testing.T) {
	rep, cust := newSignal(16000, 12), newSignal(16000, 12)
	rep.noise(-60, 1).tone(2, 3, 800, -25).tone(3.2, 4, 800, -25).tone(7, 8, 800, -25)
	cust.noise(-60, 2)
	segs := analyze(t, rep, cust, 4096).Segments.Rep
	if len(segs) != 2 {
		t.Fatalf("segments %v, want two: 2-4 s (a 0.2 s pause bridged) and 7-8 s", segs)
	}
	if segs[0].Start > 2.05 || segs[0].End < 4 || segs[1].Start > 7.05 || segs[1].End < 8 {
		t.Errorf("segments %v, want about [2,4) and [7,8)", segs)
	}
}

// The same audio gives the same segments whatever the block size: the
// live path writes 20 ms packets, files are read in large blocks.
func TestDetectorBlockSizeIndependent(t *testing.T) {
	rep, cust := newSignal(16000, 20), newSignal(16000, 20)
	rep.noise(-55, 1).voice(1, 6, 120, -28, 1).voice(12, 15, 120, -28, 2)
	cust.noise(-55, 2).voice(6.5, 11, 210, -30, 3).voice(14, 18, 210, -30, 4)
	want := analyze(t, rep, cust, 1<<20)
	for _, block := range []int{320, 37, 4096} {
		got := analyze(t, rep, cust, block)
		if !equalSegs(got.Segments.Rep, want.Segments.Rep) || !equalSegs(got.Segments.Customer, want.Segments.Customer) {
			t.Errorf("block %d: segments differ:\n%v\n%v\nwant\n%v\n%v", block, got.Segments.Rep, got.Segments.Customer, want.Segments.Rep, want.Segments.Customer)
		}
	}
}

func equalSegs(a, b []tally.Segment) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i].Start-b[i].Start) > 1e-9 || math.Abs(a[i].End-b[i].End) > 1e-9 {
			return false
		}
	}
	return true
}

// Bleed: the rep's voice leaks into the customer's channel 40 ms late and
// 18 dB down. Once the leak is learned it is not the customer's speech;
// the customer's own voice over the leak (double talk) still is.
func TestBleedRejectedDoubleTalkKept(t *testing.T) {
	const rate, dur = 16000, 40.0
	rep, cust := newSignal(rate, dur), newSignal(rate, dur)
	rep.noise(-65, 1)
	// The rep talks in turns with pauses between; the customer answers
	// at 20-24 s alone and at 30-33 s over the rep (double talk).
	for _, w := range [][2]float64{{2, 5}, {8, 11}, {14, 17}, {26, 29}, {29.5, 34}} {
		rep.voice(w[0], w[1], 120, -24, uint64(w[0]))
	}
	cust.noise(-65, 2).leak(rep, 0.040, -18)
	cust.voice(20, 24, 220, -26, 7).voice(30, 33, 220, -26, 8)
	res := analyze(t, rep, cust, 4096)

	// After the first turn (learning), the leak is not speech.
	if leaked := covered(res.Segments.Customer, 8, 18); leaked > 0.3 {
		t.Errorf("customer has %.2f s of speech in 8-18 s where only the rep's leak is: %v", leaked, res.Segments.Customer)
	}
	if got := covered(res.Segments.Customer, 20, 24); got < 3.5 {
		t.Errorf("customer speaking alone 20-24 s: %.2f s found", got)
	}
	if got := covered(res.Segments.Customer, 30, 33); got < 2.6 {
		t.Errorf("customer double talk 30-33 s: %.2f s found, want it kept: %v", got, res.Segments.Customer)
	}
	// Heard alone, without the rep's channel to explain it, the same
	// customer channel's leak is speech: the rejection above comes from
	// looking at both channels, not from the leak being too quiet.
	alone := analyze(t, newSignal(rate, dur).noise(-65, 1), cust, 4096)
	if leaked := covered(alone.Segments.Customer, 8, 18); leaked < 4 {
		t.Errorf("without the rep's channel the leak shows as only %.2f s of speech: the signal does not leak as intended", leaked)
	}
}

// Steady background voices well below the speaker (a babble of other
// talkers at -20 dB) do not count as the speaker's speech, once the
// detector has heard enough of them to know them as background.
func TestBackgroundTalkersRejected(t *testing.T) {
	const rate, dur = 16000, 40.0
	rep, cust := newSignal(rate, dur), newSignal(rate, dur)
	rep.noise(-70, 1)
	for i, f0 := range []float64{105, 170, 240} {
		rep.voice(0, dur, f0, -47, uint64(10+i))
	}
	for _, w := range [][2]float64{{5, 9}, {15, 19}, {27, 31}} {
		rep.voice(w[0], w[1], 130, -26, uint64(w[0]))
	}
	cust.noise(-70, 2)
	for _, w := range [][2]float64{{10, 14}, {21, 26}, {33, 38}} {
		cust.voice(w[0], w[1], 210, -28, uint64(w[0]))
	}
	res := analyze(t, rep, cust, 4096)
	const learn = 5.0 // seconds of babble before the rep first speaks
	talk := covered(res.Segments.Rep, learn, dur)
	if talk < 10.5 || talk > 13.5 {
		t.Errorf("rep talk after %v s: %.2f s, want about 12 s of the rep's own speech over the background voices: %v", learn, talk, res.Segments.Rep)
	}
}

// A call that opens with speech is judged like the rest of it: the first
// decisions wait for the warm-up, so the noise floor is not taken from the
// opening words (issue: "speech at 0.14-2.50 s at -10 dBFS, entirely
// missed").
func TestDetectorFirstSeconds(t *testing.T) {
	for _, rate := range []int{8000, 16000, 48000} {
		rep, cust := newSignal(rate, 10), newSignal(rate, 10)
		rep.noise(-60, 1).voice(0.14, 2.5, 130, -10, 1).voice(5, 7, 130, -10, 2)
		cust.noise(-60, 2)
		segs := analyze(t, rep, cust, 320).Segments.Rep
		if in := covered(segs, 0.14, 2.5); in < 0.9*(2.5-0.14) {
			t.Errorf("%d Hz: opening words covered %.2f s of 2.36 s; segments %v", rate, in, segs)
		}
	}
}

// Output gaps are never shorter than the bridge: a pause under BridgeMS
// between two stretches of voice is talk (README's definition), measured on
// the segments as emitted, hangover included.
func TestDetectorOutputGaps(t *testing.T) {
	cfg := DefaultConfig()
	bridge := float64(cfg.BridgeMS) / 1000
	for _, pause := range []float64{0.25, 0.3, 0.35, 0.45, 0.6, 0.9} {
		rep, cust := newSignal(16000, 12), newSignal(16000, 12)
		rep.noise(-60, 1).tone(2, 3, 800, -25).tone(3+pause, 4.5, 800, -25)
		cust.noise(-60, 2)
		segs := analyze(t, rep, cust, 4096).Segments.Rep
		for i := 1; i < len(segs); i++ {
			if g := segs[i].Start - segs[i-1].End; g < bridge-1e-9 {
				t.Errorf("pause %.2f s: output gap %.3f s between %v and %v, under the %.2f s bridge", pause, g, segs[i-1], segs[i], bridge)
			}
		}
		if pause < bridge-0.1 && len(segs) != 1 {
			t.Errorf("pause %.2f s: segments %v, want one", pause, segs)
		}
		if pause > bridge+0.4 && len(segs) != 2 {
			t.Errorf("pause %.2f s: segments %v, want two", pause, segs)
		}
	}
}

// The tail of speech follows the voice, not the sound it was recorded in:
// a recording whose room (a fan, an office, music) lies 20 dB under the
// voice but far over the line's floor ends with the voice, and a pause
// filled with that room is a pause. A quieter voice that follows a loud
// one is still speech: it rises and falls with its syllables, where a
// room's sound is steady. Two rules see to it, each on its own: the room
// is steady and far under the voice's peak (Config.FallFromPeakDB), and it
// is far under the peak with no voice coming back (Config.TailUnderPeakDB).
func TestTailFollowsVoice(t *testing.T) {
	tests := []struct {
		name  string
		build func(rep *signal)
		// room: a stretch of the room's sound alone, which must not be
		// speech (and is, without the rule); zero for none.
		roomFrom, roomTo float64
		// voice: speech that must be found as well as without the rule.
		voiceFrom, voiceTo float64
	}{
		{"room after the voice", func(rep *signal) {
			rep.noiseAt(3.3, 6.1, -42, 3).voice(3.5, 5.5, 130, -20, 4)
		}, 5.8, 6.1, 3.5, 5.5},
		{"room between two phrases", func(rep *signal) {
			rep.noiseAt(3.3, 9, -42, 3).voice(3.5, 5, 130, -20, 4).voice(5.9, 8.5, 130, -20, 5)
		}, 5.3, 5.6, 5.9, 8.5},
		{"quieter voice after a loud one", func(rep *signal) {
			rep.voice(3, 5, 130, -20, 4).voice(5.6, 8.5, 210, -34, 5)
		}, 0, 0, 5.6, 8.5},
	}
	off := DefaultConfig()
	off.FallFromPeakDB, off.TailUnderPeakDB = 100, 100
	fallOnly, tailOnly := DefaultConfig(), DefaultConfig()
	fallOnly.TailUnderPeakDB, tailOnly.FallFromPeakDB = 100, 100
	for _, tc := range tests {
		for _, rate := range []int{8000, 16000} {
			rep, cust := newSignal(rate, 12), newSignal(rate, 12)
			rep.noise(-66, 1)
			tc.build(rep)
			cust.noise(-66, 2).voice(9.5, 11.5, 200, -22, 6)
			segs := analyze(t, rep, cust, 320).Segments.Rep
			without := analyzeWith(t, off, rep, cust, 320).Segments.Rep
			if in, was := covered(segs, tc.voiceFrom, tc.voiceTo), covered(without, tc.voiceFrom, tc.voiceTo); in < was-0.1 || in < 0.7*(tc.voiceTo-tc.voiceFrom) {
				t.Errorf("%s, %d Hz: %.2f s of speech found in %.1f-%.1f s (%.2f s without the rule); segments %v", tc.name, rate, in, tc.voiceFrom, tc.voiceTo, was, segs)
			}
			if tc.roomTo == 0 {
				continue
			}
			for _, r := range []struct {
				rules string
				segs  []tally.Segment
			}{{"both rules", segs}, {"the fall rule alone", analyzeWith(t, fallOnly, rep, cust, 320).Segments.Rep},
				{"the tail rule alone", analyzeWith(t, tailOnly, rep, cust, 320).Segments.Rep}} {
				if out := covered(r.segs, tc.roomFrom, tc.roomTo); out > 0 {
					t.Errorf("%s, %d Hz, %s: %.2f s of speech in the room's sound at %.1f-%.1f s; segments %v", tc.name, rate, r.rules, out, tc.roomFrom, tc.roomTo, r.segs)
				}
			}
			// Without the rules the room's sound passes for speech: the
			// signal tests what it means to.
			if out := covered(without, tc.roomFrom, tc.roomTo); out < 0.5*(tc.roomTo-tc.roomFrom) {
				t.Errorf("%s, %d Hz: without the rules only %.2f s of the room's sound is speech; segments %v", tc.name, rate, out, without)
			}
		}
	}
}

// Speech starts with the voice, not with the sound just before it: a
// recording's room that opens 120 ms before its first word (or a breath)
// lies far under the 400 ms level around it, which already holds the
// voice.
func TestStartFollowsVoice(t *testing.T) {
	off := DefaultConfig()
	off.StartUnderSmoothDB = 100
	for _, rate := range []int{8000, 16000} {
		rep, cust := newSignal(rate, 10), newSignal(rate, 10)
		rep.noise(-66, 1).noiseAt(3.38, 5.6, -48, 3).voice(3.5, 5.5, 130, -20, 4)
		cust.noise(-66, 2).voice(7, 9, 200, -22, 6)
		segs := analyze(t, rep, cust, 320).Segments.Rep
		without := analyzeWith(t, off, rep, cust, 320).Segments.Rep
		if len(segs) == 0 || segs[0].Start < 3.43 || segs[0].Start > 3.55 {
			t.Errorf("%d Hz: rep segments %v, want the first to start with the voice at 3.5 s (pre-roll allowed), not with the room at 3.38 s", rate, segs)
		}
		if len(without) == 0 || without[0].Start > 3.4 {
			t.Errorf("%d Hz: without the rule rep segments %v start after the room's onset: the signal does not test the rule", rate, without)
		}
	}
}

// total is the summed length of disjoint segments.
func total(segs []tally.Segment) float64 {
	t := 0.0
	for _, s := range segs {
		t += s.Dur()
	}
	return t
}

// clippedTotal sums the parts of disjoint segments inside [from, to).
func clippedTotal(segs []tally.Segment, from, to float64) float64 {
	sum := 0.0
	for _, s := range segs {
		sum += tally.Segment{Start: max(s.Start, from), End: min(s.End, to)}.Dur()
	}
	return sum
}

// The hangover grows from HangoverMS to NoisyHangoverMS as the voice sinks
// from cleanSNRDB to noisySNRDB over the noise floor, and stays put
// outside that range (an unknown level, -Inf or NaN, counts as noisy).
func TestHangoverFor(t *testing.T) {
	a, err := NewAnalyzer(DefaultConfig(), tally.DefaultConfig(), 16000)
	if err != nil {
		t.Fatal(err)
	}
	clean, noisy := int64(DefaultConfig().HangoverMS/10), int64(DefaultConfig().NoisyHangoverMS/10)
	mid := int64(math.Round(float64(clean+noisy) / 2))
	for _, tc := range []struct {
		snr  float64
		want int64
	}{
		{60, clean}, {cleanSNRDB, clean}, {(cleanSNRDB + noisySNRDB) / 2, mid},
		{noisySNRDB, noisy}, {0, noisy}, {-20, noisy}, {math.Inf(-1), noisy}, {math.NaN(), noisy},
	} {
		if got := a.hangoverFor(tc.snr); got != tc.want {
			t.Errorf("hangoverFor(%g dB) = %d frames, want %d", tc.snr, got, tc.want)
		}
	}
}
