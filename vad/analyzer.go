package vad

import (
	"fmt"
	"math"
)

// Sample rates the analyzer accepts: narrowband telephony up to full-band
// WebRTC audio.
const (
	MinSampleRate = 8000
	MaxSampleRate = 48000
)

// dominanceDB: the other side dominates a frame when its level over its
// noise floor beats this side's by this much.
const dominanceDB = 10.0

// provisionalOverMinDB: until the smoothed background is known (the first
// seconds of a call, longer in babble), the smoothed level must clear the
// lowest smoothed level seen so far by this much. The quietest moment is
// background, and even babble rarely dips 3 dB under its own 90th
// percentile for a whole smoothing window; a clean or steady line loses
// nothing to this gate.
const provisionalOverMinDB = 3.0

// channel is the per-channel state of the analyzer.
type channel struct {
	filt       *bandFilter
	floor      floorTracker
	hist       history   // speech power of the latest frames, to predict the leak into the other channel
	leak       leakModel // how the other channel leaks into this one
	background backgroundModel
	lag        measureRing // the latest frames' measures, for smoothing and the decision delay
	det        detector
	minSmooth  float64 // lowest smoothed level (dB) so far, for the provisional gate
}

// frameMeasure is what the decision needs of one frame of one channel.
type frameMeasure struct {
	p   float64 // band power
	fl  float64 // noise floor
	own float64 // band power less the predicted leak from the other side
}

// measureRing holds the measures of the latest frames.
type measureRing struct {
	m []frameMeasure
	n int64 // frames pushed
}

func newMeasureRing(n int) measureRing { return measureRing{m: make([]frameMeasure, n)} }

func (r *measureRing) push(m frameMeasure) {
	r.m[r.n%int64(len(r.m))] = m
	r.n++
}

// at returns frame t's measure; t must be one of the latest len(m) frames.
func (r *measureRing) at(t int64) frameMeasure { return r.m[t%int64(len(r.m))] }

// mean returns the mean own power (negative values, left by the leak
// subtraction, as 0) of frames [from, to), which must all be in the ring.
func (r *measureRing) mean(from, to int64) float64 {
	sum := 0.0
	for t := from; t < to; t++ {
		sum += max(r.m[t%int64(len(r.m))].own, 0)
	}
	return sum / float64(to-from)
}

// Analyzer runs voice activity detection on a call's two channels (rep and
// customer) at one sample rate and feeds the segments it finds to a Tally.
// Feed it with Write in blocks of any size; call Close at the end.
type Analyzer struct {
	cfg        Config
	rate, hop  int
	frameSec   float64
	ch         [2]channel
	pending    [2][]float32 // samples of an incomplete frame, per channel
	scratch    []float64
	frames     int64
	samples    int64 // per channel, partial frames included
	tally      *Tally
	absFloor   float64 // linear power of Config.AbsFloorDBFS
	startRatio float64
	stayRatio  float64
	margin     float64 // linear factor for Config.BleedMarginDB
	learnRatio float64
	dominance  float64 // linear factor for dominanceDB
	closed     bool
	half       int // decision delay in frames: half the smoothing window
}

// NewAnalyzer returns an analyzer for audio at sampleRate Hz.
func NewAnalyzer(cfg Config, tcfg TallyConfig, sampleRate int) (*Analyzer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("vad config: %w", err)
	}
	if sampleRate < MinSampleRate || sampleRate > MaxSampleRate {
		return nil, fmt.Errorf("vad: sample rate %d Hz outside %d-%d Hz", sampleRate, MinSampleRate, MaxSampleRate)
	}
	hop := int(math.Round(float64(sampleRate) * float64(cfg.FrameMS) / 1000))
	a := &Analyzer{
		cfg:        cfg,
		rate:       sampleRate,
		hop:        hop,
		frameSec:   float64(hop) / float64(sampleRate),
		scratch:    make([]float64, hop),
		tally:      NewTally(tcfg),
		absFloor:   dbToPower(cfg.AbsFloorDBFS),
		startRatio: dbToPower(cfg.StartSNRDB),
		stayRatio:  dbToPower(cfg.StaySNRDB),
		margin:     dbToPower(cfg.BleedMarginDB),
		learnRatio: dbToPower(cfg.BleedLearnSNRDB),
		dominance:  dbToPower(dominanceDB),
	}
	histLen := 1 + int(math.Round(float64(cfg.BleedWindowMS)/1000/a.frameSec))
	a.half = int(math.Round(float64(cfg.SmoothMS) / 2000 / a.frameSec))
	for c := range a.ch {
		a.ch[c] = channel{
			filt:       newBandFilter(cfg.BandLowHz, cfg.BandHighHz, sampleRate),
			floor:      newFloorTracker(int(math.Round(float64(cfg.NoiseWindowMS)/1000/a.frameSec)), cfg.NoiseBiasDB),
			hist:       newHistory(histLen),
			leak:       newLeakModel(histLen - 1),
			background: newBackgroundModel(int(math.Round(float64(cfg.IsolationMS)/1000/a.frameSec)), a.frameSec),
			det:        newDetector(cfg, a.frameSec),
			lag:        newMeasureRing(2*a.half + 1),
			minSmooth:  math.Inf(1),
		}
		a.pending[c] = make([]float32, 0, hop)
	}
	return a, nil
}

func dbToPower(db float64) float64 { return math.Pow(10, db/10) }

func powerToDB(p float64) float64 {
	if p <= 0 {
		return math.Inf(-1)
	}
	return 10 * math.Log10(p)
}

// SampleRate is the rate the analyzer was built for.
func (a *Analyzer) SampleRate() int { return a.rate }

// Tally is where the segments go.
func (a *Analyzer) Tally() *Tally { return a.tally }

// Now is the call time analyzed so far, in seconds: whole frames only.
func (a *Analyzer) Now() float64 { return float64(a.frames) * a.frameSec }

// Write analyzes the next samples of both channels. rep and customer must
// have the same length: they are the same stretch of call time.
func (a *Analyzer) Write(rep, customer []float32) error {
	if len(rep) != len(customer) {
		return fmt.Errorf("vad: channel blocks differ in length (%d rep, %d customer samples)", len(rep), len(customer))
	}
	if a.closed {
		return fmt.Errorf("vad: write after close")
	}
	a.samples += int64(len(rep))
	x := [2][]float32{rep, customer}
	// Complete a frame left over from the previous write.
	if k := len(a.pending[0]); k > 0 {
		take := min(a.hop-k, len(rep))
		for c := range x {
			a.pending[c] = append(a.pending[c], x[c][:take]...)
			x[c] = x[c][take:]
		}
		if len(a.pending[0]) < a.hop {
			return nil
		}
		a.frame([2][]float32{a.pending[0], a.pending[1]})
		a.pending[0], a.pending[1] = a.pending[0][:0], a.pending[1][:0]
	}
	for len(x[0]) >= a.hop {
		a.frame([2][]float32{x[0][:a.hop], x[1][:a.hop]})
		x[0], x[1] = x[0][a.hop:], x[1][a.hop:]
	}
	for c := range x {
		a.pending[c] = append(a.pending[c], x[c]...)
	}
	a.settle()
	return nil
}

// frame analyzes one frame of both channels: it measures the frame and
// updates the floor and leak models at once, then decides the frame that
// is a half smoothing window old, whose window is now complete.
func (a *Analyzer) frame(x [2][]float32) {
	var p, fl, sp [2]float64
	for c := range a.ch {
		ch := &a.ch[c]
		p[c] = ch.filt.energy(x[c], a.scratch) / float64(a.hop)
		fl[c] = max(ch.floor.update(p[c]), a.absFloor)
		sp[c] = max(p[c]-fl[c], 0)
		ch.hist.push(sp[c])
	}
	for c := range a.ch {
		ch, o := &a.ch[c], &a.ch[1-c]
		own := p[c]
		if !a.cfg.DisableBleed {
			ch.leak.learn(sp[c], &o.hist, a.learnRatio*fl[1-c])
			own -= ch.leak.predict(&o.hist) * a.margin
		}
		ch.lag.push(frameMeasure{p: p[c], fl: fl[c], own: own})
	}
	a.frames++
	if t := a.frames - 1 - int64(a.half); t >= 0 {
		a.decide(t, a.frames)
	}
}

// classify decides the levels of frame t of both channels, with the frames
// before end (exclusive) available for its smoothing window. It changes
// nothing, so that a live snapshot can run it ahead on frames whose window
// is not complete yet.
//
// A frame is hot (can start speech) or warm (keeps it going) when both its
// own level and its smoothed level clear their thresholds. The frame level
// places the edges of speech to the frame; the smoothed level keeps babble
// and noise bursts out, which lets the frame thresholds sit low enough to
// follow quiet speech in steady noise.
func (a *Analyzer) classify(t, end int64) (lv [2]level, m [2]frameMeasure, sm [2]float64) {
	h := int64(a.half)
	for c := range a.ch {
		ch := &a.ch[c]
		m[c] = ch.lag.at(t)
		sm[c] = max(ch.lag.mean(max(0, t-h), min(end, t+h+1)), a.absFloor)
		smDB := powerToDB(sm[c])
		bg := &ch.background
		smBG := bg.smoothDB
		if math.IsInf(smBG, -1) {
			smBG = min(ch.minSmooth, smDB) + provisionalOverMinDB
		}
		own, fl := m[c].own, m[c].fl
		switch {
		case m[c].p < a.absFloor:
			lv[c] = quiet
		case own >= max(a.startRatio*fl, dbToPower(bg.bgDB+a.cfg.StartOverBackgroundDB)) &&
			smDB >= smBG+a.cfg.SmoothStartOverBackgroundDB:
			lv[c] = hot
		case own >= max(a.stayRatio*fl, dbToPower(bg.bgDB+a.cfg.StayOverBackgroundDB)) &&
			smDB >= smBG+a.cfg.SmoothStayOverBackgroundDB:
			lv[c] = warm
		}
	}
	return lv, m, sm
}

// decide classifies frame t for good: it updates the background models
// and feeds the detectors.
func (a *Analyzer) decide(t, end int64) {
	lv, m, sm := a.classify(t, end)
	for c := range a.ch {
		ch := &a.ch[c]
		ch.minSmooth = min(ch.minSmooth, powerToDB(sm[c]))
		// While the other side clearly speaks and dominates, this side
		// mostly listens: what this channel carries then is its background.
		// Dominance is judged over each side's own noise floor, so that a
		// channel full of babble does not pass for a talker over a clean
		// one.
		dominated := lv[1-c] == hot && m[1-c].own*m[c].fl >= a.dominance*m[c].own*m[1-c].fl
		ch.background.add(powerToDB(max(m[c].own, m[c].fl)), powerToDB(sm[c]), dominated)
		if s, ok := ch.det.push(lv[c]); ok {
			a.tally.Add(Role(c), a.segment(s))
		}
	}
}

func (a *Analyzer) segment(s span) Segment {
	return Segment{float64(s.start) * a.frameSec, float64(s.end) * a.frameSec}
}

// settle tells the tally how far both channels are final.
func (a *Analyzer) settle() {
	h := min(a.ch[0].det.horizon(), a.ch[1].det.horizon())
	a.tally.Settle(float64(h) * a.frameSec)
}

// Close ends the call: a trailing partial frame is dropped (it is shorter
// than the frame hop), open segments are closed, and everything settles.
func (a *Analyzer) Close() {
	if a.closed {
		return
	}
	a.closed = true
	for t := max(0, a.frames-int64(a.half)); t < a.frames; t++ {
		a.decide(t, a.frames)
	}
	for c := range a.ch {
		if s, ok := a.ch[c].det.flush(); ok {
			a.tally.Add(Role(c), a.segment(s))
		}
	}
	a.tally.Settle(a.Now())
}

// Duration is the length of the audio written so far, in seconds.
func (a *Analyzer) Duration() float64 { return float64(a.samples) / float64(a.rate) }

// Report returns the final metrics; call it after Close.
func (a *Analyzer) Report() Metrics { return a.tally.Report(a.Duration()) }

// Segments returns a role's finished segments.
func (a *Analyzer) Segments(r Role) []Segment { return a.tally.Segments(r) }
