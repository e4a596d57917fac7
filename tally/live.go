package tally

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
	// window seconds (see Tally.Live), the one in progress last.
	Timeline [2][]Segment
	// Missing holds the stretches of missing audio in that window.
	Missing []Segment
}

// Live returns the call as of now, with pending segments (each role's not
// added yet, in time order after its added ones, the one in progress last)
// counted as talk; the tally itself is not changed. window is how many
// seconds of segments to include in Timeline; talking says who is speaking
// at this moment, which only the detector knows.
func (t *Tally) Live(now, window float64, pending [2][]Segment, talking [2]bool) Live {
	l := Live{Talking: talking}
	l.Metrics, l.Moment = t.snapshot(now, pending)
	l.NowS = now
	l.RecentListenPct, l.RecentOK = t.recentListenPct(now, pending)
	from := now - window
	for _, r := range Roles {
		segs := t.Segments(r)
		i := sort.Search(len(segs), func(i int) bool { return segs[i].End > from })
		l.Timeline[r] = append(append(l.Timeline[r], segs[i:]...), pending[r]...)
	}
	miss := t.Missing()
	i := sort.Search(len(miss), func(i int) bool { return miss[i].End > from })
	l.Missing = append(l.Missing, miss[i:]...)
	return l
}
