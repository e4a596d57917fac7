package tally

import (
	"slices"
)

// Config holds the rules that turn speech segments into call metrics.
type Config struct {
	// TargetListen is the listen share (0-1) a rep should reach; 0.8 is the
	// classic 80/20 rule for discovery calls.
	TargetListen float64
	// RunGapSec: a speaker's pauses shorter than this, during which the
	// other side says nothing, stay inside one run. A run is a monologue
	// (rep) or a story (customer). 1 s matches the eval scorer's rule.
	RunGapSec float64
	// TurnMinSec: a run must last this long to take the floor. Shorter
	// runs ("uh-huh", "right") are backchannels: they switch no turn and
	// interrupt nobody.
	TurnMinSec float64
	// InterruptMinOverlapSec: a turn that starts while the other side is
	// speaking counts as an interruption only if both talk at once for at
	// least this long in the turn's first TurnMinSec; less is the normal
	// latching at a turn boundary.
	InterruptMinOverlapSec float64
	// LongSilenceSec: a pause where nobody speaks, between speech, longer
	// than this is reported as a long silence (dead air).
	LongSilenceSec float64
	// RecentWindowSec is the window of the "recent" listen % the live
	// meter shows beside the whole-call figure.
	RecentWindowSec float64
	// LongMonologueSec: rep runs at least this long are listed as long
	// monologues. The service uses one threshold for them, the live nudge
	// and the reps page's flags (call.Rules.MonologueNudge): a minute of
	// uninterrupted pitching is where a coach wants to look.
	LongMonologueSec float64
}

// DefaultLongMonologueSec is the default Config.LongMonologueSec.
const DefaultLongMonologueSec = 60

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		TargetListen:           0.8,
		RunGapSec:              1.0,
		TurnMinSec:             1.0,
		InterruptMinOverlapSec: 0.25,
		LongSilenceSec:         3.0,
		RecentWindowSec:        120,
		LongMonologueSec:       DefaultLongMonologueSec,
	}
}

// Metrics are the call figures at one moment (a live snapshot) or at the
// end (the report). Times are seconds; percentages are 0-100.
type Metrics struct {
	DurationS     float64 `json:"duration_s"`
	RepTalkS      float64 `json:"rep_talk_s"`
	CustomerTalkS float64 `json:"customer_talk_s"`
	// ListenPct is customer talk / (rep talk + customer talk) x 100,
	// rounded to a tenth (see ListenShare); nil when nobody has spoken.
	// Overlap counts for both.
	ListenPct *float64 `json:"listen_pct"`
	// RepSharePct and CustomerSharePct are each role's talk as a share of
	// the call time heard (the duration less missing audio), silences
	// included.
	RepSharePct      float64 `json:"rep_share_pct"`
	CustomerSharePct float64 `json:"customer_share_pct"`
	OverlapS         float64 `json:"overlap_s"`
	// MutualSilenceS is the time nobody spoke, in audio that arrived:
	// missing audio is not silence.
	MutualSilenceS float64 `json:"mutual_silence_s"`
	// MissingAudioS is call time for which the audio of at least one side
	// never arrived (a stalled sender, a network drop-out, lost packets,
	// a side not connected). Offline analysis never has any.
	MissingAudioS float64 `json:"missing_audio_s"`

	LongestRepMonologue  Run `json:"longest_rep_monologue"`
	LongestCustomerStory Run `json:"longest_customer_story"`
	// LongMonologues lists the rep's runs of LongMonologueSec or more.
	LongMonologues        []Run   `json:"long_monologues"`
	TurnSwitches          int     `json:"turn_switches"`
	TurnSwitchesPerMinute float64 `json:"turn_switches_per_min"`

	// RepReplyPause* describe the gap from the end of a customer turn to
	// the start of the rep's next turn (0 when the rep starts while the
	// customer is still finishing).
	RepReplies           int     `json:"rep_replies"`
	RepReplyPauseMeanS   float64 `json:"rep_reply_pause_mean_s"`
	RepReplyPauseMedianS float64 `json:"rep_reply_pause_median_s"`

	InterruptionsByRep      int `json:"interruptions_by_rep"`
	InterruptionsByCustomer int `json:"interruptions_by_customer"`

	// LongSilences span each long silence from its first to its last
	// silent moment; missing audio inside one neither ends it nor counts
	// toward its length. LongSilenceS sums their silent time.
	LongSilences []Segment `json:"long_silences"`
	LongSilenceS float64   `json:"long_silence_s"`
	TargetListen float64   `json:"target_listen_pct"`
	// OnTarget is OnTarget(ListenPct, TargetListen): the one verdict rule.
	OnTarget      bool    `json:"on_target"`
	Interruptions []Event `json:"interruptions"`
}

// Run is a monologue or story: its span and length.
type Run struct {
	Start float64 `json:"start_s"`
	End   float64 `json:"end_s"`
	Dur   float64 `json:"duration_s"`
}

// Event is a moment in the call attributed to a role.
type Event struct {
	At   float64 `json:"at_s"`
	Role string  `json:"by"`
}

// Tally accumulates the two roles' segments as they are found and gives
// call metrics at any moment. Segments that can no longer change are swept
// once, into running totals; a snapshot only replays the unsettled tail on a
// copy, so its cost does not grow with the call's length.
type Tally struct {
	cfg      Config
	segs     [2][]Segment // every segment so far, per role, in time order
	next     [2]int       // first segment per role not yet swept to its end
	miss     []Segment    // missing audio, in time order, disjoint
	nextMiss int          // first missing stretch not yet swept to its end
	sweep    sweeper
}

// New returns an empty tally.
func New(cfg Config) *Tally {
	return &Tally{cfg: cfg, sweep: newSweeper(cfg)}
}

// Add appends a finished segment for a role. Segments of one role must come
// in time order and not overlap; the two roles may interleave freely.
// Segments that start before the settled horizon are clipped to it.
func (t *Tally) Add(r Role, s Segment) {
	s.Start = max(s.Start, t.sweep.t)
	if n := len(t.segs[r]); n > 0 {
		s.Start = max(s.Start, t.segs[r][n-1].End)
	}
	if s.End <= s.Start {
		return
	}
	t.segs[r] = append(t.segs[r], s)
}

// Segments returns a role's finished segments. The slice is the tally's own:
// do not modify it.
func (t *Tally) Segments(r Role) []Segment { return t.segs[r] }

// AddMissing records call time for which audio did not arrive, on one side
// or both. Stretches must come in time order; one that touches or overlaps
// the last is merged into it. Like segments, stretches before the settled
// horizon are clipped to it.
func (t *Tally) AddMissing(s Segment) {
	s.Start = max(s.Start, t.sweep.t)
	n := len(t.miss)
	if n > 0 {
		if last := &t.miss[n-1]; s.Start <= last.End {
			last.End = max(last.End, s.End)
			// The sweep skips what it already passed; the part added
			// after it must still be swept.
			t.nextMiss = min(t.nextMiss, n-1)
			return
		}
	}
	if s.End <= s.Start {
		return
	}
	t.miss = append(t.miss, s)
}

// Missing returns the stretches of missing audio so far. The slice is the
// tally's own: do not modify it.
func (t *Tally) Missing() []Segment { return t.miss }

// Settle promises that no segment starting before h will be added, for
// either role, and folds everything before h into the running totals.
func (t *Tally) Settle(h float64) {
	if h <= t.sweep.t {
		return
	}
	var tail [2][]Segment
	for _, r := range Roles {
		tail[r] = t.segs[r][t.next[r]:]
	}
	t.sweep.advance(tail, t.miss[t.nextMiss:], h)
	for _, r := range Roles {
		for t.next[r] < len(t.segs[r]) && t.segs[r][t.next[r]].End <= h {
			t.next[r]++
		}
	}
	for t.nextMiss < len(t.miss) && t.miss[t.nextMiss].End <= h {
		t.nextMiss++
	}
}

// Snapshot returns the metrics as of now. open holds each role's segment
// in progress, if any (zero Segment for none): it counts as talk up to its
// current end. The tally itself is not changed.
func (t *Tally) Snapshot(now float64, open [2]Segment) Metrics {
	m, _ := t.snapshot(now, openTail(open))
	return m
}

// openTail turns open segments (zero for none) into pending lists.
func openTail(open [2]Segment) (p [2][]Segment) {
	for r, o := range open {
		if o.End > o.Start {
			p[r] = []Segment{o}
		}
	}
	return p
}

// Moment is what is going on at the end of a snapshot, for the live meter.
type Moment struct {
	// RunS is how long each role's current run (monologue or story) has
	// lasted, 0 when it has none: its last speech is over RunGapSec ago,
	// or the other side spoke since.
	RunS [2]float64
	// SilenceS is how long nobody has spoken, 0 while someone does;
	// missing audio in that time does not count.
	SilenceS float64
}

// snapshot sweeps a copy up to now, with pending segments (not added yet,
// each role's in time order after its added ones) counted as talk.
func (t *Tally) snapshot(now float64, pending [2][]Segment) (Metrics, Moment) {
	s := t.sweep.clone()
	var tail [2][]Segment
	for _, r := range Roles {
		tail[r] = append(slices.Clip(t.segs[r][t.next[r]:]), pending[r]...)
	}
	s.advance(tail, t.miss[t.nextMiss:], now)
	var mo Moment
	for _, r := range Roles {
		if ru := s.run[r]; ru.active && !ru.broken() && now-ru.end < t.cfg.RunGapSec {
			mo.RunS[r] = ru.end - ru.start
		}
	}
	if s.inSilence {
		mo.SilenceS = s.silenceKnown
	}
	return s.finish(now), mo
}

// Report returns the final metrics for a call of the given duration, once
// every segment has been added.
func (t *Tally) Report(duration float64) Metrics {
	return t.Snapshot(duration, [2]Segment{})
}

// RecentListenPct is the listen % over the last RecentWindowSec before now,
// open segments included; ok is false when nobody spoke in that window.
func (t *Tally) RecentListenPct(now float64, open [2]Segment) (pct float64, ok bool) {
	return t.recentListenPct(now, openTail(open))
}

func (t *Tally) recentListenPct(now float64, pending [2][]Segment) (pct float64, ok bool) {
	from := now - t.cfg.RecentWindowSec
	var talk [2]float64
	for _, r := range Roles {
		talk[r] = clippedTotal(t.segs[r], from, now) + clippedTotal(pending[r], from, now)
	}
	p := ListenShare(talk[Customer], talk[Rep])
	if p == nil {
		return 0, false
	}
	return *p, true
}

// clippedTotal sums the parts of sorted, disjoint segments inside [from, to),
// walking back from the end so that a recent window costs only its own
// segments.
func clippedTotal(segs []Segment, from, to float64) float64 {
	sum := 0.0
	for i := len(segs) - 1; i >= 0 && segs[i].End > from; i-- {
		sum += Segment{max(segs[i].Start, from), min(segs[i].End, to)}.Dur()
	}
	return sum
}
