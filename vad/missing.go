package vad

import (
	"fmt"
	"math"

	"talkratio/tally"
)

// WriteMissing tells the analyzer that n samples per channel of call time
// went by with no audio from either side: a stalled sender that never
// caught up, a network drop-out. It is not silence and is not evidence about
// the line: call time advances as Write would advance it, the detectors
// hear quiet frames (an utterance cut by the gap ends as it would in
// silence), the tally counts the stretch as missing, and no noise-floor,
// background or leak model learns from it. Smoothing windows do not reach
// across the gap: the frames before it are decided with their windows cut
// at its start, as at the end of a call, and those after start afresh, as
// at its beginning.
//
// Call time moves in whole frames, as with Write: a frame already begun is
// completed with silence, and a remainder shorter than a frame is kept as
// silence for the next Write to complete. The tally counts the stretch on
// the frame grid, as segments are (rounded to the nearest frame
// boundaries). Offline analysis (Analyze) never calls it.
func (a *Analyzer) WriteMissing(n int) error {
	switch {
	case n < 0:
		return fmt.Errorf("vad: %d samples of missing audio", n)
	case a.closed:
		return fmt.Errorf("vad: write after close")
	case n == 0:
		return nil
	}
	a.addMissing(n)
	silence := make([]float32, a.hop)
	if k := len(a.pending[0]); k > 0 {
		take := min(a.hop-k, n)
		if err := a.Write(silence[:take], silence[:take]); err != nil {
			return err
		}
		n -= take
	}
	whole := n / a.hop
	a.skipFrames(int64(whole))
	if rest := n - whole*a.hop; rest > 0 {
		return a.Write(silence[:rest], silence[:rest])
	}
	return nil
}

// MarkMissing tells the tally that the next n samples per channel, which
// the caller then writes with Write, hold audio from only one side: the
// other side's audio never arrived (lost packets, a side that has not
// joined or has dropped out) and is written as silence. The detectors
// analyze what was written; the tally keeps the stretch out of mutual
// silence and long silences and counts it as missing.
func (a *Analyzer) MarkMissing(n int) error {
	switch {
	case n < 0:
		return fmt.Errorf("vad: %d samples of missing audio", n)
	case a.closed:
		return fmt.Errorf("vad: write after close")
	}
	a.addMissing(n)
	return nil
}

// addMissing tells the tally that the next n samples are missing, on the
// frame grid that segments are on: a stretch is rounded to the nearest
// frame boundaries, and one shorter than half a frame is no stretch.
func (a *Analyzer) addMissing(n int) {
	hop := float64(a.hop)
	f0 := math.Round(float64(a.samples) / hop)
	f1 := math.Round(float64(a.samples+int64(n)) / hop)
	if f1 > f0 {
		a.tally.AddMissing(tally.Segment{Start: f0 * a.frameSec, End: f1 * a.frameSec})
	}
}

// skipFrames moves call time on by m frames of missing audio.
func (a *Analyzer) skipFrames(m int64) {
	if m <= 0 {
		return
	}
	// The frames before the gap are decided now, their windows cut at its
	// start, as at the end of a call (and a warm-up ends there too).
	if !a.warmed {
		a.endWarmup()
	}
	a.decideUpTo(a.frames, a.frames)
	for range m {
		for c := range a.ch {
			ch := &a.ch[c]
			// The frame rings stay in step with call time; what they
			// hold for the gap is never read (windows start after it)
			// or predicts no leak (nothing heard). The measure is
			// finite: the rings keep running sums.
			m := frameMeasure{fl: a.absFloor}
			m.setLevel()
			ch.lag.push(m)
			ch.hist.push(0)
			if s, ok := ch.det.push(quiet); ok {
				a.tally.Add(tally.Role(c), a.segment(s))
			}
		}
		a.frames++
	}
	a.samples += m * int64(a.hop)
	a.decided, a.from = a.frames, a.frames
	a.settle()
}
