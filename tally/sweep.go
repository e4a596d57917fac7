package tally

import (
	"math"
	"slices"
)

// The sweep: the call cut into atoms of constant state (who speaks, whether
// audio is missing), folded in time order into the running figures: talk,
// overlap, silences, runs, turns, interruptions and reply pauses.

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
	cfg Config
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

func newSweeper(cfg Config) sweeper { return sweeper{cfg: cfg} }

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
