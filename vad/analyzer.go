package vad

import (
	"fmt"
	"math"

	"talkratio/tally"
	"talkratio/vad/internal/dsp"
)

// Sample rates the analyzer accepts: narrowband telephony up to full-band
// WebRTC audio.
const (
	MinSampleRate = 8000
	MaxSampleRate = 48000
)

// The band filter is built for rates up to dsp.MaxRate: this stops
// compiling if MaxSampleRate ever goes beyond it.
const _ = uint(dsp.MaxRate - MaxSampleRate)

// Analyzer runs voice activity detection on a call's two channels (rep and
// customer) at one sample rate and feeds the segments it finds to a Tally.
// Feed it with Write in blocks of any size; call Close at the end.
type Analyzer struct {
	cfg        Config
	rate, hop  int
	frameSec   float64
	ch         [2]channel
	filt       *dsp.BandFilter // both channels' band filter
	pending    [2][]float32    // samples of an incomplete frame, per channel
	energy     [2][]float64    // band power of a block's frames, per channel
	frames     int64
	samples    int64 // per channel, partial frames included
	tally      *tally.Tally
	absFloor   float64 // linear power of Config.AbsFloorDBFS
	startRatio float64
	stayRatio  float64
	margin     float64 // linear factor for Config.BleedMarginDB
	learnRatio float64
	dominance  float64    // linear factor for dominanceDB
	peakDecay  float64    // Config.PeakDecayDBPerSec per frame
	steadyHalf int64      // fallSteadyMS in frames
	tailAhead  int64      // tailAheadMS in frames
	hangover   [2]float64 // HangoverMS and NoisyHangoverMS in frames
	closed     bool
	half       int // decision delay in frames: half the smoothing window
	// warm is how many frames the first decisions wait for (see
	// Config.WarmupMS); decided is the next frame to decide. Until the
	// warm-up is over, wsp keeps each channel's speech power per frame, so
	// that the leak can be predicted again with the model learned by then.
	warm    int64
	warmed  bool
	decided int64
	wsp     [2][]float64
	// from is the first frame after the latest missing audio (missing.go):
	// smoothing windows start there, as at a call's start.
	from int64
	// trace, when set (by tests), sees every frame the background models
	// learn from, with what was decided: the golden tests digest it to
	// show that a change leaves every decision as it was.
	trace func(t int64, lv [2]level, m [2]frameMeasure, smDB [2]float64)
}

// NewAnalyzer returns an analyzer for audio at sampleRate Hz.
func NewAnalyzer(cfg Config, tcfg tally.Config, sampleRate int) (*Analyzer, error) {
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
		tally:      tally.New(tcfg),
		absFloor:   dsp.DBToPower(cfg.AbsFloorDBFS),
		startRatio: dsp.DBToPower(cfg.StartSNRDB),
		stayRatio:  dsp.DBToPower(cfg.StaySNRDB),
		margin:     dsp.DBToPower(cfg.BleedMarginDB),
		learnRatio: dsp.DBToPower(cfg.BleedLearnSNRDB),
		dominance:  dsp.DBToPower(dominanceDB),
	}
	a.filt = dsp.NewBandFilter(cfg.BandLowHz, cfg.BandHighHz, sampleRate, hop)
	a.peakDecay = cfg.PeakDecayDBPerSec * a.frameSec
	a.steadyHalf = int64(math.Round(fallSteadyMS / 1000 / a.frameSec))
	a.tailAhead = int64(math.Round(tailAheadMS / 1000 / a.frameSec))
	a.hangover = [2]float64{float64(cfg.HangoverMS) / 1000 / a.frameSec, float64(cfg.NoisyHangoverMS) / 1000 / a.frameSec}
	histLen := 1 + int(math.Round(float64(cfg.BleedWindowMS)/1000/a.frameSec))
	a.half = int(math.Round(float64(cfg.SmoothMS) / 2000 / a.frameSec))
	a.warm = int64(math.Round(float64(cfg.WarmupMS) / 1000 / a.frameSec))
	for c := range a.ch {
		a.ch[c] = channel{
			floor:      dsp.NewFloorTracker(int(math.Round(float64(cfg.NoiseWindowMS)/1000/a.frameSec)), cfg.NoiseBiasDB),
			hist:       newHistory(histLen),
			leak:       newLeakModel(histLen - 1),
			background: newBackgroundModel(int(math.Round(float64(cfg.IsolationMS)/1000/a.frameSec)), a.frameSec),
			det:        newDetector(cfg, a.frameSec),
			lag:        newMeasureRing(int(a.warm) + 2*a.half + 1),
			minSmooth:  math.Inf(1),
			peakSmooth: math.Inf(-1),
			smFloor:    dsp.NewFloorTracker(int(math.Round(float64(cfg.NoiseWindowMS)/1000/a.frameSec)), 0),
		}
		a.pending[c] = make([]float32, 0, hop)
		a.wsp[c] = make([]float64, 0, a.warm)
	}
	return a, nil
}

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
		a.energies([2][]float32{a.pending[0], a.pending[1]})
		a.pending[0], a.pending[1] = a.pending[0][:0], a.pending[1][:0]
	}
	whole := len(x[0]) / a.hop * a.hop
	a.energies([2][]float32{x[0][:whole], x[1][:whole]})
	for c := range x {
		a.pending[c] = append(a.pending[c], x[c][whole:]...)
	}
	a.settle()
	return nil
}

// energies measures the whole frames of a block (both channels the same
// length, a multiple of the hop) and analyzes them frame by frame.
func (a *Analyzer) energies(x [2][]float32) {
	n := len(x[0]) / a.hop
	for c := range a.energy {
		if cap(a.energy[c]) < n {
			a.energy[c] = make([]float64, n)
		}
		a.energy[c] = a.energy[c][:n]
	}
	a.filt.FramesF32(x, a.energy)
	for i := range n {
		a.frame([2]float64{a.energy[0][i], a.energy[1][i]})
	}
}

func (a *Analyzer) segment(s span) tally.Segment {
	return tally.Segment{Start: float64(s.start) * a.frameSec, End: float64(s.end) * a.frameSec}
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
	if !a.warmed {
		a.endWarmup()
	}
	a.decideUpTo(a.frames, a.frames)
	for c := range a.ch {
		if s, ok := a.ch[c].det.flush(); ok {
			a.tally.Add(tally.Role(c), a.segment(s))
		}
	}
	a.tally.Settle(a.Now())
}

// Duration is the length of the audio written so far, in seconds.
func (a *Analyzer) Duration() float64 { return float64(a.samples) / float64(a.rate) }

// Report returns the final metrics; call it after Close.
func (a *Analyzer) Report() tally.Metrics { return a.tally.Report(a.Duration()) }

// Segments returns a role's finished segments.
func (a *Analyzer) Segments(r tally.Role) []tally.Segment { return a.tally.Segments(r) }
