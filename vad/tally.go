package vad

import (
	"math"
	"slices"
)

// TallyConfig holds the rules that turn speech segments into call metrics.
type TallyConfig struct {
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

// DefaultLongMonologueSec is the default TallyConfig.LongMonologueSec.
const DefaultLongMonologueSec = 60

// DefaultTallyConfig returns the documented defaults.
func DefaultTallyConfig() TallyConfig {
	return TallyConfig{
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
	cfg      TallyConfig
	segs     [2][]Segment // every segment so far, per role, in time order
	next     [2]int       // first segment per role not yet swept to its end
	miss     []Segment    // missing audio, in time order, disjoint
	nextMiss int          // first missing stretch not yet swept to its end
	sweep    sweeper
}

// NewTally returns an empty tally.
func NewTally(cfg TallyConfig) *Tally {
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

// runState follows one role's current run (monologue or story).
type runState struct {
	active     bool
	start, end float64 // first and last moment of speech in the run
	// otherInGap: the other side started to speak in the run's current
	// pause. floorLost: the other side held the floor (a run of
	// TurnMinSec) while speaking in it. Speech of the other side that
	// began over this side's (a backchannel, or this side's own voice
	// leaking into the other channel, trailing into the pause) is talk
	// over the run and leaves it whole, unless it becomes a turn.
	otherInGap  bool
	floorLost   bool
	qualified   bool    // the run has lasted TurnMinSec: it is a turn
	overlapped  bool    // the other side was speaking when the run began
	overlap     float64 // time both spoke, within the run's first TurnMinSec
	otherEndAt0 float64 // when the other side last stopped, as the run began
	// pauseMissing: audio went missing between the other side's last
	// speech and this run's start, so the reply pause is not known.
	pauseMissing bool
}

// sweeper folds constant-state stretches of the call ("atoms": who is
// speaking does not change inside one) into the metrics, in time order.
type sweeper struct {
	cfg TallyConfig
	t   float64 // swept up to here

	talk         [2]float64
	overlap      float64
	silence      float64
	missing      float64
	speechSeen   bool
	silenceStart float64 // first silent moment of the current mutual silence
	silenceEnd   float64 // and its last so far
	silenceKnown float64 // its silent time, missing audio left out
	inSilence    bool
	// missingEnd is the end of the latest missing audio swept.
	missingEnd     float64
	longSilences   []Segment
	longSilenceS   float64
	lastEnd        [2]float64 // end of each role's latest speech
	speechStart    [2]float64 // start of each role's current stretch of speech
	wasOn          [2]bool    // who spoke in the previous atom
	run            [2]runState
	longest        [2]Run
	longMonologues []Run
	floor          Role
	hasFloor       bool
	switches       int
	replyPauses    []float64
	interruptions  [2]int
	interruptEvent []Event
}

func newSweeper(cfg TallyConfig) sweeper { return sweeper{cfg: cfg} }

// clone copies the sweeper so that a snapshot can run ahead on the copy.
func (s *sweeper) clone() sweeper {
	c := *s
	c.longSilences = slices.Clone(s.longSilences)
	c.replyPauses = slices.Clone(s.replyPauses)
	c.interruptEvent = slices.Clone(s.interruptEvent)
	c.longMonologues = slices.Clone(s.longMonologues)
	return c
}

// advance sweeps [s.t, to) given each role's segments and the missing
// audio that may reach into it (each sorted, disjoint; parts before s.t are
// ignored).
func (s *sweeper) advance(segs [2][]Segment, miss []Segment, to float64) {
	var i [2]int
	j := 0
	for s.t < to {
		// Who speaks at s.t, is audio missing, and when does that change
		// next?
		var on [2]bool
		next := to
		for _, r := range Roles {
			for i[r] < len(segs[r]) && segs[r][i[r]].End <= s.t {
				i[r]++
			}
			if i[r] == len(segs[r]) {
				continue
			}
			g := segs[r][i[r]]
			if g.Start <= s.t {
				on[r] = true
				next = min(next, g.End)
			} else {
				next = min(next, g.Start)
			}
		}
		for j < len(miss) && miss[j].End <= s.t {
			j++
		}
		missing := false
		if j < len(miss) {
			if g := miss[j]; g.Start <= s.t {
				missing = true
				next = min(next, g.End)
			} else {
				next = min(next, g.Start)
			}
		}
		s.atom(s.t, next, on, missing)
		s.t = next
	}
}

// atom folds in [t0, t1) during which on[r] tells whether role r speaks and
// missing whether audio is missing. Speech the detector found over missing
// audio (it bridges a short gap) is talk; missing audio where nobody speaks
// is not silence: it pauses a mutual silence without ending it.
func (s *sweeper) atom(t0, t1 float64, on [2]bool, missing bool) {
	d := t1 - t0
	anyone := on[Rep] || on[Customer]
	if missing {
		s.missing += d
	}
	switch {
	case on[Rep] && on[Customer]:
		s.overlap += d
	case !anyone && !missing:
		s.silence += d
	}
	switch {
	case anyone:
		s.endSilence()
		s.speechSeen = true
	case !missing:
		if !s.inSilence {
			s.inSilence, s.silenceStart, s.silenceKnown = true, t0, 0
		}
		s.silenceKnown += d
		s.silenceEnd = t1
	}
	for _, r := range Roles {
		o := r.other()
		if !on[r] {
			continue
		}
		s.talk[r] += d
		ru := &s.run[r]
		if !ru.active || t0-ru.end >= s.cfg.RunGapSec || ru.broken() {
			s.endRun(r)
			*ru = runState{active: true, start: t0, end: t0, overlapped: on[o], otherEndAt0: s.lastEnd[o],
				pauseMissing: s.missingEnd > s.lastEnd[o]}
		}
		ru.otherInGap, ru.floorLost = false, false // the pause, if any, is over
		if on[o] && t0 < ru.start+s.cfg.TurnMinSec {
			ru.overlap += min(t1, ru.start+s.cfg.TurnMinSec) - t0
		}
		ru.end = t1
		if !ru.qualified && ru.end-ru.start >= s.cfg.TurnMinSec {
			ru.qualified = true
			s.takeTurn(r, ru)
		}
	}
	// The other side speaking in a run's pause: after the turns above, so
	// that a run that became a turn in this atom counts.
	for _, r := range Roles {
		o := r.other()
		if !on[o] {
			continue
		}
		if !s.wasOn[o] {
			s.speechStart[o] = t0
		}
		if ru := &s.run[r]; ru.active && !on[r] {
			ru.otherInGap = ru.otherInGap || s.speechStart[o] >= ru.end
			ru.floorLost = ru.floorLost || s.run[o].qualified
		}
	}
	s.wasOn = on
	for _, r := range Roles {
		if on[r] {
			s.lastEnd[r] = t1
		}
	}
	if missing {
		s.missingEnd = t1
	}
}

// broken reports whether the other side broke into the run's current
// pause: it started to speak there, or held a turn there.
func (ru *runState) broken() bool { return ru.floorLost || ru.otherInGap }

// takeTurn handles a run that has just become a turn.
func (s *sweeper) takeTurn(r Role, ru *runState) {
	if !s.hasFloor {
		s.floor, s.hasFloor = r, true
		return
	}
	if s.floor == r {
		return
	}
	s.switches++
	s.floor = r
	if ru.overlapped && ru.overlap >= s.cfg.InterruptMinOverlapSec {
		s.interruptions[r]++
		s.interruptEvent = append(s.interruptEvent, Event{At: ru.start, Role: r.String()})
		return
	}
	// A pause with missing audio in it has no known length.
	if r == Rep && !ru.pauseMissing {
		s.replyPauses = append(s.replyPauses, max(0, ru.start-ru.otherEndAt0))
	}
}

// endRun closes a role's current run and keeps it if it is the longest.
func (s *sweeper) endRun(r Role) {
	ru := &s.run[r]
	if !ru.active {
		return
	}
	run := Run{Start: ru.start, End: ru.end, Dur: ru.end - ru.start}
	if run.Dur > s.longest[r].Dur {
		s.longest[r] = run
	}
	if r == Rep && run.Dur >= s.cfg.LongMonologueSec {
		s.longMonologues = append(s.longMonologues, run)
	}
	ru.active = false
}

// endSilence closes a mutual silence as speech starts; only silences
// between speech count as long silences, not the lead-in before anyone
// spoke. A long silence is judged by its silent time: missing audio inside
// it neither ends it nor counts, so it spans from its first silent moment
// to its last.
func (s *sweeper) endSilence() {
	if !s.inSilence {
		return
	}
	s.inSilence = false
	if s.speechSeen && s.silenceKnown > s.cfg.LongSilenceSec {
		s.longSilences = append(s.longSilences, Segment{s.silenceStart, s.silenceEnd})
		s.longSilenceS += s.silenceKnown
	}
}

// finish turns the swept state into metrics at time now. It ends open runs,
// so it must run on a clone or at the very end.
func (s *sweeper) finish(now float64) Metrics {
	for _, r := range Roles {
		s.endRun(r)
	}
	m := Metrics{
		DurationS:               now,
		RepTalkS:                s.talk[Rep],
		CustomerTalkS:           s.talk[Customer],
		OverlapS:                s.overlap,
		MutualSilenceS:          s.silence,
		MissingAudioS:           s.missing,
		LongSilenceS:            s.longSilenceS,
		LongestRepMonologue:     s.longest[Rep],
		LongestCustomerStory:    s.longest[Customer],
		TurnSwitches:            s.switches,
		RepReplies:              len(s.replyPauses),
		InterruptionsByRep:      s.interruptions[Rep],
		InterruptionsByCustomer: s.interruptions[Customer],
		LongSilences:            s.longSilences,
		LongMonologues:          s.longMonologues,
		TargetListen:            100 * s.cfg.TargetListen,
		Interruptions:           s.interruptEvent,
	}
	if m.LongSilences == nil {
		m.LongSilences = []Segment{}
	}
	if m.Interruptions == nil {
		m.Interruptions = []Event{}
	}
	if m.LongMonologues == nil {
		m.LongMonologues = []Run{}
	}
	m.ListenPct = ListenShare(m.CustomerTalkS, m.RepTalkS)
	// Shares and rates are of the time heard: missing audio may have held
	// anything.
	if heard := now - s.missing; heard > 0 {
		m.RepSharePct = 100 * m.RepTalkS / heard
		m.CustomerSharePct = 100 * m.CustomerTalkS / heard
		m.TurnSwitchesPerMinute = float64(m.TurnSwitches) / (heard / 60)
	}
	if len(s.replyPauses) > 0 {
		p := slices.Clone(s.replyPauses)
		slices.Sort(p)
		sum := 0.0
		for _, v := range p {
			sum += v
		}
		m.RepReplyPauseMeanS = sum / float64(len(p))
		m.RepReplyPauseMedianS = median(p)
	}
	m.round()
	m.OnTarget = OnTarget(m.ListenPct, m.TargetListen)
	return m
}

// round trims the figures to what they can mean: times to the millisecond
// (boundaries sit on a 10 ms grid), percentages to a hundredth (the listen %
// is already rounded by its own rule, ListenShare). Sums of many segment
// lengths otherwise print as 42.57999999999999.
func (m *Metrics) round() {
	for _, p := range []*float64{&m.DurationS, &m.RepTalkS, &m.CustomerTalkS, &m.OverlapS, &m.MutualSilenceS, &m.MissingAudioS,
		&m.RepReplyPauseMeanS, &m.RepReplyPauseMedianS, &m.LongSilenceS,
		&m.LongestRepMonologue.Start, &m.LongestRepMonologue.End, &m.LongestRepMonologue.Dur,
		&m.LongestCustomerStory.Start, &m.LongestCustomerStory.End, &m.LongestCustomerStory.Dur} {
		*p = roundTime(*p)
	}
	for i := range m.LongMonologues {
		r := &m.LongMonologues[i]
		r.Start, r.End, r.Dur = roundTime(r.Start), roundTime(r.End), roundTime(r.Dur)
	}
	for i := range m.LongSilences {
		s := &m.LongSilences[i]
		s.Start, s.End = roundTime(s.Start), roundTime(s.End)
	}
	for i := range m.Interruptions {
		m.Interruptions[i].At = roundTime(m.Interruptions[i].At)
	}
	for _, p := range []*float64{&m.RepSharePct, &m.CustomerSharePct, &m.TurnSwitchesPerMinute, &m.TargetListen} {
		*p = math.Round(*p*100) / 100
	}
}

// median of sorted values, averaging the middle pair.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
