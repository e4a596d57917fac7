package vad

import (
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"talkratio/tally"
)

// missingCall is a two-channel call at 16 kHz for the missing-audio tests:
// steady noise on both lines, the rep talking from 0.5 to 3 s, the customer
// (if customerTalks) from 6 to 9 s, 10 s in all.
func missingCall(customerTalks bool) (rep, cust []float32) {
	const rate = 16000
	n := 10 * rate
	r := rand.New(rand.NewPCG(8, 8))
	rep, cust = make([]float32, n), make([]float32, n)
	noise := float32(math.Pow(10, -50.0/20) * math.Sqrt(3))
	for i := range n {
		rep[i] = noise * float32(2*r.Float64()-1)
		cust[i] = noise * float32(2*r.Float64()-1)
	}
	talk := func(x []float32, from, to, f0 float64) {
		for i := int(from * rate); i < int(to*rate); i++ {
			t := float64(i) / rate
			// Syllables of 200 ms at a voice's level, -20 dBFS.
			env := math.Max(0, math.Sin(math.Pi*math.Mod(t, 0.2)/0.2))
			v := 0.0
			for k := 1; float64(k)*f0 < 3500; k++ {
				v += math.Sin(2*math.Pi*f0*float64(k)*t) / float64(k)
			}
			x[i] += float32(0.1 * env * v)
		}
	}
	talk(rep, 0.5, 3, 120)
	if customerTalks {
		talk(cust, 6, 9, 210)
	}
	return rep, cust
}

// liveFeed writes a call in 20 ms packets, as the live path does, with the
// stretch [gapFrom, gapTo) (seconds) given as missing audio, or as silence
// (zeros written) when asSilence is set.
func liveFeed(t *testing.T, rep, cust []float32, gapFrom, gapTo float64, asSilence bool) *Analyzer {
	t.Helper()
	const rate, packet = 16000, 320
	a, err := NewAnalyzer(DefaultConfig(), tally.DefaultConfig(), rate)
	if err != nil {
		t.Fatal(err)
	}
	g0, g1 := int(gapFrom*rate), int(gapTo*rate)
	for i := 0; i < len(rep); {
		if i == g0 && g1 > g0 {
			if asSilence {
				z := make([]float32, g1-g0)
				err = a.Write(z, z)
			} else {
				err = a.WriteMissing(g1 - g0)
			}
			if err != nil {
				t.Fatal(err)
			}
			i = g1
			continue
		}
		j := min(i+packet, len(rep))
		if i < g0 {
			j = min(j, g0)
		}
		if err := a.Write(rep[i:j], cust[i:j]); err != nil {
			t.Fatal(err)
		}
		i = j
	}
	a.Close()
	return a
}

// A second of missing audio between the two sides' speech: call time runs
// on as with audio, the second is counted as missing and not as silence,
// and the speech on either side is found as offline analysis of the whole
// audio finds it.
func TestWriteMissingCountsApart(t *testing.T) {
	rep, cust := missingCall(true)
	want, err := Analyze(&sliceSource{ch: [2][]float32{rep, cust}}, 16000, ChannelMap{Channels: 2, Rep: 0, Customer: 1}, DefaultConfig(), tally.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	a := liveFeed(t, rep, cust, 4, 5, false)
	got := a.Result()
	if got.DurationS != want.DurationS || a.Now() != 10 {
		t.Errorf("duration %v (now %v), want %v: missing audio is call time", got.DurationS, a.Now(), want.DurationS)
	}
	if got.MissingAudioS != 1 || len(got.Segments.Missing) != 1 || got.Segments.Missing[0] != (tally.Segment{Start: 4, End: 5}) {
		t.Errorf("missing %v s %v, want 1 s at [4, 5)", got.MissingAudioS, got.Segments.Missing)
	}
	if d := want.MutualSilenceS - got.MutualSilenceS; math.Abs(d-1) > 0.02 {
		t.Errorf("mutual silence %v, offline %v: the missing second must leave it, and only it", got.MutualSilenceS, want.MutualSilenceS)
	}
	if math.Abs(got.RepTalkS-want.RepTalkS) > 0.03 || math.Abs(got.CustomerTalkS-want.CustomerTalkS) > 0.03 {
		t.Errorf("talk rep %v customer %v, offline %v and %v", got.RepTalkS, got.CustomerTalkS, want.RepTalkS, want.CustomerTalkS)
	}
	if want.Segments.Missing != nil || want.MissingAudioS != 0 {
		t.Errorf("offline analysis has missing audio: %v", want.Segments.Missing)
	}
	b, _ := json.Marshal(want)
	if strings.Contains(string(b), `"missing"`) || !strings.Contains(string(b), `"missing_audio_s":0`) {
		t.Errorf("offline JSON: want missing_audio_s 0 and no missing segments: %.300s", b)
	}
}

// Missing audio teaches the models nothing. Early in a call, two seconds
// written as zeros drag the noise floor down, and the customer's line noise
// then reads as speech; given as missing, they leave the floor where the
// line put it.
func TestWriteMissingLeavesModelsAlone(t *testing.T) {
	rep, cust := missingCall(false) // the customer never talks
	asSilence := liveFeed(t, rep, cust, 0.2, 2.2, true).Result()
	asMissing := liveFeed(t, rep, cust, 0.2, 2.2, false).Result()
	if total(asSilence.Segments.Customer) == 0 {
		t.Fatal("zeros did not disturb the detector: the test shows nothing")
	}
	if s := total(asMissing.Segments.Customer); s != 0 {
		t.Errorf("%.2f s of speech found in the customer's line noise after missing audio (%v), want none", s, asMissing.Segments.Customer)
	}
	// The rep's speech after the gap is still found, and nothing inside
	// the gap: the detectors heard quiet frames there.
	if s := clippedTotal(asMissing.Segments.Rep, 2.2, 3); s < 0.6 {
		t.Errorf("rep speech after the gap %.2f s, want most of 0.8 s", s)
	}
	if s := clippedTotal(asMissing.Segments.Rep, 0.3, 2.2); s != 0 {
		t.Errorf("%.2f s of speech inside the missing audio", s)
	}
}

// Call time moves in whole frames: a gap that starts or ends inside a frame
// leaves the call exactly as long as the samples given.
func TestWriteMissingPartialFrames(t *testing.T) {
	a, err := NewAnalyzer(DefaultConfig(), tally.DefaultConfig(), 16000)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 250)
	for _, step := range []func() error{
		func() error { return a.Write(x, x) },        // 250: one frame and 90
		func() error { return a.WriteMissing(1000) }, // 70 complete the frame, 5 frames missing, 130 left
		func() error { return a.Write(x, x) },        // 1500 in all
		func() error { return a.WriteMissing(0) },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	if got := a.Duration(); got != 1500.0/16000 {
		t.Errorf("duration %v, want %v", got, 1500.0/16000)
	}
	a.Close()
	// Missing samples 250-1250, on the frame grid: frames 2-8.
	if got := a.Result().Segments.Missing; len(got) != 1 || math.Abs(got[0].Start-0.02) > 1e-9 || math.Abs(got[0].End-0.08) > 1e-9 {
		t.Errorf("missing %v, want [0.02, 0.08)", got)
	}
	if err := a.MarkMissing(10); err == nil {
		t.Error("MarkMissing after Close: no error")
	}
	if err := a.WriteMissing(10); err == nil {
		t.Error("WriteMissing after Close: no error")
	}
	if err := a.WriteMissing(-1); err == nil {
		t.Error("WriteMissing(-1): no error")
	}
}

// A snapshot across missing audio shows it in its window.
func TestLiveShowsMissing(t *testing.T) {
	a, err := NewAnalyzer(DefaultConfig(), tally.DefaultConfig(), 16000)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 16000)
	a.Write(x, x)
	a.WriteMissing(8000)
	a.Write(x[:800], x[:800])
	l := a.Live(300)
	if len(l.Missing) != 1 || l.Missing[0] != (tally.Segment{Start: 1, End: 1.5}) || l.MissingAudioS != 0.5 || l.NowS != 1.55 {
		t.Errorf("live: missing %v (%v s) now %v, want [1, 1.5) 0.5 s at 1.55", l.Missing, l.MissingAudioS, l.NowS)
	}
}

// sliceSource serves two channels from memory as a Reader.
type sliceSource struct {
	ch  [2][]float32
	pos int
}

func (r *sliceSource) Read(dst [][]float32) (int, error) {
	n := min(len(dst[0]), len(r.ch[0])-r.pos)
	if n <= 0 {
		return 0, io.EOF
	}
	for c := range dst {
		copy(dst[c], r.ch[c][r.pos:r.pos+n])
	}
	r.pos += n
	return n, nil
}

// After missing audio the frame rings' running sums stay finite: the
// windows after a gap measure the audio after it.
func TestWriteMissingKeepsSumsFinite(t *testing.T) {
	rep, cust := missingCall(true)
	a := liveFeed(t, rep, cust, 4, 5, false)
	for c := range a.ch {
		r := &a.ch[c].lag
		for _, v := range []float64{r.sum, r.sdb, r.sdb2} {
			if math.IsInf(v, 0) || math.IsNaN(v) {
				t.Fatalf("channel %d: running sums %v %v %v after missing audio", c, r.sum, r.sdb, r.sdb2)
			}
		}
	}
}

// MarkMissing: a stretch written with one side only is counted as missing,
// on the frame grid, while the written side is analyzed as usual.
func TestMarkMissing(t *testing.T) {
	rep, cust := missingCall(true)
	want := liveFeed(t, rep, cust, 0, 0, false).Result()
	a, err := NewAnalyzer(DefaultConfig(), tally.DefaultConfig(), 16000)
	if err != nil {
		t.Fatal(err)
	}
	silent := make([]float32, len(cust))
	copy(silent, cust)
	clear(silent[4*16000 : 5*16000]) // the customer's side never arrived for 4-5 s
	for i := 0; i < len(rep); i += 320 {
		if i >= 4*16000 && i < 5*16000 {
			if err := a.MarkMissing(320); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.Write(rep[i:i+320], silent[i:i+320]); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.MarkMissing(40); err != nil { // under half a frame: no stretch
		t.Fatal(err)
	}
	a.Close()
	got := a.Result()
	if got.MissingAudioS != 1 || len(got.Segments.Missing) != 1 || got.Segments.Missing[0] != (tally.Segment{Start: 4, End: 5}) {
		t.Errorf("missing %v s %v, want 1 s at [4, 5)", got.MissingAudioS, got.Segments.Missing)
	}
	// The second is out of the mutual silence. (A little more goes: the
	// customer's detector heard the gap's zeros, which lower its noise
	// floor, and it starts the customer's next speech a little earlier.
	// That is the price of writing one missing side as silence.)
	if d := want.MutualSilenceS - got.MutualSilenceS; got.RepTalkS != want.RepTalkS || d < 0.98 || d > 1.3 {
		t.Errorf("rep talk %v mutual silence %v; without the gap %v and %v", got.RepTalkS, got.MutualSilenceS, want.RepTalkS, want.MutualSilenceS)
	}
}
