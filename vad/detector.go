package vad

import "math"

// level is how a frame compares with a channel's thresholds.
type level uint8

const (
	quiet level = iota // below the stay threshold
	warm               // at or above the stay threshold: keeps speech going
	hot                // at or above the start threshold: can start speech
)

// span is a half-open range of frames [start, end).
type span struct{ start, end int64 }

// detector turns one channel's per-frame levels into speech spans. It is a
// small state machine with hysteresis (hot to start, warm to stay), an onset
// count, pre-roll, hangover, gap bridging and a minimum length. It works
// frame by frame and never looks ahead, so the live path can use it as is;
// the price is that a span is only final some frames after it ends.
type detector struct {
	onset, minSpeech, preRoll, hangover, bridge int64 // in frames

	n         int64 // frames seen
	state     detState
	prevWarm  bool
	warmSince int64 // first frame of the current unbroken warm run
	hotRun    int64 // length of the current unbroken hot run
	hotStart  int64
	segStart  int64 // open span's start, pre-roll included
	coreStart int64 // open span's first hot frame
	lastWarm  int64 // open span's last warm frame
	prevEnd   int64 // end of the last emitted span: spans never overlap
}

type detState uint8

const (
	idle     detState = iota
	speaking          // inside speech, warm frames keep it going
	bridging          // past the hangover: only a new onset resumes the span
)

func newDetector(cfg Config, frameSec float64) detector {
	frames := func(ms int) int64 { return int64(math.Round(float64(ms) / 1000 / frameSec)) }
	return detector{
		onset:     max(1, frames(cfg.OnsetMS)),
		minSpeech: frames(cfg.MinSpeechMS),
		preRoll:   frames(cfg.PreRollMS),
		hangover:  frames(cfg.HangoverMS),
		bridge:    frames(cfg.BridgeMS),
	}
}

// push feeds the next frame's level. It returns a finished span, if this
// frame finished one.
func (d *detector) push(l level) (done span, ok bool) {
	i := d.n
	d.n++
	isWarm := l >= warm
	if isWarm && !d.prevWarm {
		d.warmSince = i
	}
	d.prevWarm = isWarm
	if l == hot {
		if d.hotRun == 0 {
			d.hotStart = i
		}
		d.hotRun++
	} else {
		d.hotRun = 0
	}
	onset := d.hotRun >= d.onset

	switch d.state {
	case idle:
		if onset {
			d.state = speaking
			d.coreStart = d.hotStart
			d.segStart = max(d.warmSince, d.hotStart-d.preRoll, d.prevEnd)
			d.lastWarm = i
		}
	case speaking:
		if isWarm {
			d.lastWarm = i
		} else if i-d.lastWarm > d.hangover {
			d.state = bridging
		}
	case bridging:
		// The pause is bridged when the new speech would start less than
		// bridge frames after this span's end, as both would be emitted:
		// a gap in the output is never shorter than bridge.
		end := d.lastWarm + 1 + d.hangover
		if onset && max(d.warmSince, d.hotStart-d.preRoll)-end < d.bridge {
			d.state = speaking
			d.lastWarm = i
		} else if i-d.onset-d.preRoll >= end+d.bridge {
			return d.close()
		}
	}
	return span{}, false
}

// close ends the open span and returns it unless it is too short.
func (d *detector) close() (span, bool) {
	d.state = idle
	end := min(d.lastWarm+1+d.hangover, d.n)
	if d.lastWarm+1-d.coreStart < d.minSpeech {
		return span{}, false
	}
	d.prevEnd = end
	return span{d.segStart, end}, true
}

// flush ends the stream: an open span is closed at the last frame.
func (d *detector) flush() (span, bool) {
	if d.state == idle {
		return span{}, false
	}
	return d.close()
}

// open returns the span in progress, as far as it has been heard, for live
// snapshots. It may still grow, be bridged to the next one, or be dropped as
// too short.
func (d *detector) open() (span, bool) {
	if d.state == idle {
		return span{}, false
	}
	return span{d.segStart, min(d.lastWarm+1+d.hangover, d.n)}, true
}

// talking reports whether the channel is in speech right now (not in the
// hangover or a bridged pause).
func (d *detector) talking() bool { return d.state == speaking && d.n-1-d.lastWarm <= d.hangover }

// horizon is the first frame at which a span not yet emitted could start:
// everything before it is final.
func (d *detector) horizon() int64 {
	if d.state != idle {
		return d.segStart
	}
	// A pending hot run is shorter than the onset, and pre-roll reaches back
	// at most preRoll frames before it.
	return max(d.prevEnd, d.n-d.onset-d.preRoll)
}
