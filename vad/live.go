package vad

import "sort"

// Live is the state of a call in progress, for the live meter: the metrics
// so far (open segments counted up to now), plus what is happening right
// now and the recent segments for a scrolling timeline.
type Live struct {
	Metrics
	NowS float64
	// RecentListenPct is the listen % over the last RecentWindowSec;
	// RecentOK is false when nobody spoke in that window.
	RecentListenPct float64
	RecentOK        bool
	// Talking says whether each role is speaking at this moment.
	Talking [2]bool
	Moment
	// Timeline holds each role's segments that reach into the last
	// window seconds (see Live's argument), the one in progress last.
	Timeline [2][]Segment
	// Missing holds the stretches of missing audio in that window.
	Missing []Segment
}

// Live returns the call so far. window is how many seconds of segments to
// include in Timeline.
//
// The detectors decide each frame half a smoothing window late (they wait
// for the frames after it), and a call's first frames only after the
// warm-up (Config.WarmupMS). A live meter should not lag that much, so
// Live runs copies of the detectors ahead over the undecided frames, with
// the smoothing windows cut short as at the end of a call: the last
// fraction of a second, and the first seconds of a call, are provisional
// and may still change.
func (a *Analyzer) Live(window float64) Live {
	now := a.Now()
	dets := [2]detector{a.ch[0].det, a.ch[1].det}
	var pending [2][]Segment
	for t := a.decided; t < a.frames; t++ {
		lv, _, _, _ := a.classify(t, a.frames)
		for c := range dets {
			if sp, ok := dets[c].push(lv[c]); ok {
				pending[c] = append(pending[c], a.segment(sp))
			}
		}
	}
	var l Live
	for c := range dets {
		if sp, ok := dets[c].open(); ok {
			pending[c] = append(pending[c], a.segment(sp))
		}
		l.Talking[c] = dets[c].talking()
	}
	l.Metrics, l.Moment = a.tally.snapshot(now, pending)
	l.NowS = now
	l.RecentListenPct, l.RecentOK = a.tally.recentListenPct(now, pending)
	from := now - window
	for _, r := range Roles {
		segs := a.tally.Segments(r)
		i := sort.Search(len(segs), func(i int) bool { return segs[i].End > from })
		l.Timeline[r] = append(append(l.Timeline[r], segs[i:]...), pending[r]...)
	}
	miss := a.tally.Missing()
	i := sort.Search(len(miss), func(i int) bool { return miss[i].End > from })
	l.Missing = append(l.Missing, miss[i:]...)
	return l
}
