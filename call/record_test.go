package call

import (
	"encoding/json"
	"testing"
	"time"

	"talkratio/tally"
)

// A 4:13 call written and read back (as every store does, through JSON)
// keeps its length: the final snapshot's clock and timeline end at the
// call's end, and its CSV row says how long it was.
func TestRecordReadBackKeepsDuration(t *testing.T) {
	rules := Rules{}.WithDefaults()
	segs := tally.Segments{
		Rep:      []tally.Segment{{Start: 1, End: 40}, {Start: 200, End: 250}},
		Customer: []tally.Segment{{Start: 41, End: 199}},
	}
	res := tally.Result{Segments: segs}
	res.DurationS, res.RepTalkS, res.CustomerTalkS = 253, 89, 158
	res.ListenPct = tally.ListenShare(158, 89)
	res.TargetListen = 80
	rec := &Record{ID: "c1", State: StateEnded, StartedAt: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), DurationS: 253, Result: &res}
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	var back Record
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	snap := rules.FinalSnapshot(&back)
	if snap.NowS != 253 || snap.Timeline.ToS != 253 || snap.Timeline.FromS != 0 {
		t.Errorf("final snapshot: now %v, timeline %v-%v; want 253, 0-253", snap.NowS, snap.Timeline.FromS, snap.Timeline.ToS)
	}
	if n := len(snap.Timeline.Rep); n != 2 {
		t.Errorf("timeline has %d rep segments, want 2 (the last at 200-250)", n)
	}
	if snap.RecentListenPct == nil {
		t.Errorf("recent listen %% of an ended call: null, want the last 2 minutes'")
	}
	row := back.CSVRow()
	for i, h := range CSVHeader() {
		if h == "duration_s" && row[i] != "253" {
			t.Errorf("CSV duration_s %q, want 253", row[i])
		}
	}
}
