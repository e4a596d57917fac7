package vad

import "talkratio/tally"

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
func (a *Analyzer) Live(window float64) tally.Live {
	now := a.Now()
	dets := [2]detector{a.ch[0].det, a.ch[1].det}
	var pending [2][]tally.Segment
	for t := a.decided; t < a.frames; t++ {
		lv, _, _, _ := a.classify(t, a.frames)
		for c := range dets {
			if sp, ok := dets[c].push(lv[c]); ok {
				pending[c] = append(pending[c], a.segment(sp))
			}
		}
	}
	var talking [2]bool
	for c := range dets {
		if sp, ok := dets[c].open(); ok {
			pending[c] = append(pending[c], a.segment(sp))
		}
		talking[c] = dets[c].talking()
	}
	return a.tally.Live(now, window, pending, talking)
}
