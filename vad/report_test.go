package vad

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The stored meter series must show, at every sample, what a live
// snapshot of the same call showed at that moment.
func TestMeterSeriesMatchesSnapshots(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	rep, cust := randomCall(r, 400)
	cfg := DefaultTallyConfig()
	m := MeterSeries(Segments{Rep: rep, Customer: cust}, 400, 1, cfg)
	if len(m.ListenPct) != 401 {
		t.Fatalf("%d samples, want 401", len(m.ListenPct))
	}
	for _, i := range []int{0, 1, 17, 100, 250, 399, 400} {
		now := float64(i)
		tl := NewTally(cfg)
		var open [2]Segment
		for ri, list := range [][]Segment{rep, cust} {
			for _, s := range list {
				switch {
				case s.End <= now:
					tl.Add(Role(ri), s)
				case s.Start < now:
					open[ri] = Segment{s.Start, now}
				}
			}
		}
		snap := tl.Snapshot(now, open)
		recent, ok := tl.RecentListenPct(now, open)
		if math.Abs(m.RepTalkS[i]-snap.RepTalkS) > 0.002 || math.Abs(m.CustomerTalkS[i]-snap.CustomerTalkS) > 0.002 {
			t.Errorf("t=%d: talk %v/%v, snapshot %v/%v", i, m.RepTalkS[i], m.CustomerTalkS[i], snap.RepTalkS, snap.CustomerTalkS)
		}
		if (m.ListenPct[i] == nil) != (snap.RepTalkS+snap.CustomerTalkS == 0) || (m.ListenPct[i] != nil && math.Abs(*m.ListenPct[i]-snap.ListenPct) > 0.02) {
			t.Errorf("t=%d: listen %v, snapshot %v", i, m.ListenPct[i], snap.ListenPct)
		}
		if (m.RecentListenPct[i] == nil) != !ok || (ok && math.Abs(*m.RecentListenPct[i]-recent) > 0.02) {
			t.Errorf("t=%d: recent %v, snapshot %v (%v)", i, m.RecentListenPct[i], recent, ok)
		}
	}
}

func TestVerdictAndCSV(t *testing.T) {
	m := Metrics{RepTalkS: 30, CustomerTalkS: 70, ListenPct: 70, TargetListen: 80}
	if v := m.Verdict(); v != "below target: the rep listened 70% of the talk time (target 80%) and talked 30%" {
		t.Errorf("verdict %q", v)
	}
	if len(m.CSVRow()) != len(CSVHeader()) {
		t.Errorf("CSV row has %d fields, header %d", len(m.CSVRow()), len(CSVHeader()))
	}
	if (Metrics{}).Verdict() != "no speech found" {
		t.Error("empty call verdict")
	}
}
