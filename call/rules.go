package call

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"talkratio/tally"
)

// Rules are how calls are judged, configured once (serve's -target and
// -monologue-nudge, analyze's --target): every figure, live or stored, in
// the API, a snapshot or a report, is computed with them.
type Rules struct {
	// TargetListen is the listen share (0-1) reps aim for; 0 for
	// DefaultTargetListen.
	TargetListen float64
	// MonologueNudge is the one monologue threshold: the dashboard nudges
	// the rep after talking this long in one run, the replay marks such
	// runs as long monologues, and the reps page flags calls with one. 0
	// for DefaultMonologueNudge; negative never nudges (and the markers
	// and flags keep the default).
	MonologueNudge time.Duration
}

// Defaults of Rules.
const (
	DefaultTargetListen   = 0.8
	DefaultMonologueNudge = time.Duration(tally.DefaultLongMonologueSec) * time.Second
)

// MeterStepS: a stored call's meter is sampled once a second, which is
// what a replay redraws it from.
const MeterStepS = 1.0

// WithDefaults fills in the defaults of zero fields.
func (r Rules) WithDefaults() Rules {
	if r.TargetListen == 0 {
		r.TargetListen = DefaultTargetListen
	}
	if r.MonologueNudge == 0 {
		r.MonologueNudge = DefaultMonologueNudge
	}
	return r
}

// Validate reports rules that cannot judge a call.
func (r Rules) Validate() error {
	if !(r.TargetListen > 0 && r.TargetListen <= 1) {
		return fmt.Errorf("target listen share %v: want 0-1", r.TargetListen)
	}
	return nil
}

// Tally is the tally configuration of these rules: the one place where
// the settings become the analysis's.
func (r Rules) Tally() tally.Config {
	t := tally.DefaultConfig()
	t.TargetListen = r.TargetListen
	if r.MonologueNudge > 0 {
		t.LongMonologueSec = r.MonologueNudge.Seconds()
	}
	return t
}

// NudgeAfterS is the monologue nudge in seconds (negative: never).
func (r Rules) NudgeAfterS() float64 { return r.MonologueNudge.Seconds() }

// Meter samples an analyzed call's meter for replay.
func (r Rules) Meter(res *tally.Result) tally.Meter {
	return tally.MeterSeries(res.Segments, res.DurationS, MeterStepS, r.Tally())
}

// ParseChannel reads a channel as people name one: left or right (l, r;
// any case), or a 0-based index.
func ParseChannel(s string) (int, error) {
	switch strings.ToLower(s) {
	case "left", "l":
		return 0, nil
	case "right", "r":
		return 1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q: want left, right or a channel index (0, 1, ...)", s)
	}
	return n, nil
}

// ErrNotASide is RepOnRight's answer to what names no side.
var ErrNotASide = errors.New("want left or right")

// RepOnRight reads which side of a stereo recording or track the rep is
// on, named as ParseChannel reads it; "" is the left. A channel other
// than the two sides is ErrNotASide.
func RepOnRight(s string) (bool, error) {
	if s == "" {
		return false, nil
	}
	ch, err := ParseChannel(s)
	if err != nil || ch > 1 {
		return false, ErrNotASide
	}
	return ch == 1, nil
}
