package tally

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The stored meter series must show, at every sample, what a live
// snapshot of the same call showed at that moment.
func TestMeterSeriesMatchesSnapshots(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	rep, cust := randomCall(r, 400)
	cfg := DefaultConfig()
	m := MeterSeries(Segments{Rep: rep, Customer: cust}, 400, 1, cfg)
	if len(m.ListenPct) != 401 {
		t.Fatalf("%d samples, want 401", len(m.ListenPct))
	}
	for _, i := range []int{0, 1, 17, 100, 250, 399, 400} {
		now := float64(i)
		tl := New(cfg)
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
		// The same rounded figure, or nil for both.
		if (m.ListenPct[i] == nil) != (snap.ListenPct == nil) || (m.ListenPct[i] != nil && *m.ListenPct[i] != *snap.ListenPct) {
			t.Errorf("t=%d: listen %v, snapshot %v", i, m.ListenPct[i], snap.ListenPct)
		}
		if (m.RecentListenPct[i] == nil) != !ok || (ok && *m.RecentListenPct[i] != recent) {
			t.Errorf("t=%d: recent %v, snapshot %v (%v)", i, m.RecentListenPct[i], recent, ok)
		}
	}
}

// The one verdict: every figure of the call's listen % comes from
// ListenShare and every judgement from OnTarget, through the tally, the
// verdict string and the CSV row alike.
func TestListenRule(t *testing.T) {
	tests := []struct {
		name           string
		customer, rep  float64 // talk seconds
		want           *float64
		onTarget       bool
		verdict, csvPc string
	}{
		{"79.91% is 79.9% and below", 79.91, 20.09, pct(79.9), false,
			"below target: the rep listened 79.9% of the talk time (target 80%) and talked 20.1%", "79.9"},
		{"79.96% is 80.0% and on target", 79.96, 20.04, pct(80), true,
			"on target: the rep listened 80.0% of the talk time (target 80%)", "80"},
		{"exactly the target", 80, 20, pct(80), true,
			"on target: the rep listened 80.0% of the talk time (target 80%)", "80"},
		{"customer only", 10, 0, pct(100), true,
			"on target: the rep listened 100.0% of the talk time (target 80%)", "100"},
		{"rep only", 0, 10, pct(0), false,
			"below target: the rep listened 0.0% of the talk time (target 80%) and talked 100.0%", "0"},
		{"no speech", 0, 0, nil, false, "no speech found", ""},
	}
	col := slices.Index(CSVHeader(), "listen_pct")
	onCol := slices.Index(CSVHeader(), "on_target")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ListenShare(tc.customer, tc.rep)
			if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
				t.Fatalf("ListenShare = %v, want %v", deref(got), deref(tc.want))
			}
			if OnTarget(got, 80) != tc.onTarget {
				t.Errorf("OnTarget = %v, want %v", !tc.onTarget, tc.onTarget)
			}
			// The same through a tally: the customer talks first, the
			// rep after, on one line.
			tl := New(DefaultConfig())
			if tc.customer > 0 {
				tl.Add(Customer, Segment{0, tc.customer})
			}
			if tc.rep > 0 {
				tl.Add(Rep, Segment{tc.customer, tc.customer + tc.rep})
			}
			m := tl.Report(tc.customer + tc.rep + 1)
			if (m.ListenPct == nil) != (tc.want == nil) || (m.ListenPct != nil && *m.ListenPct != *tc.want) || m.OnTarget != tc.onTarget {
				t.Errorf("tally: listen %v on target %v, want %v %v", deref(m.ListenPct), m.OnTarget, deref(tc.want), tc.onTarget)
			}
			if v := m.Verdict(); v != tc.verdict {
				t.Errorf("verdict %q, want %q", v, tc.verdict)
			}
			row := m.CSVRow()
			if len(row) != len(CSVHeader()) {
				t.Fatalf("CSV row has %d fields, header %d", len(row), len(CSVHeader()))
			}
			if row[col] != tc.csvPc || row[onCol] != strconv.FormatBool(tc.onTarget) {
				t.Errorf("CSV listen_pct %q on_target %q, want %q %v", row[col], row[onCol], tc.csvPc, tc.onTarget)
			}
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			var j struct {
				ListenPct *float64 `json:"listen_pct"`
				OnTarget  bool     `json:"on_target"`
			}
			if err := json.Unmarshal(b, &j); err != nil || (j.ListenPct == nil) != (tc.want == nil) || j.OnTarget != tc.onTarget {
				t.Errorf("JSON %s", b)
			}
			if tc.want == nil && !strings.Contains(string(b), `"listen_pct":null`) {
				t.Errorf("JSON of a call with no speech: %s, want listen_pct null", b)
			}
		})
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// A target that is not a whole percent prints as given.
func TestVerdictTargetPrinted(t *testing.T) {
	m := Metrics{ListenPct: pct(75.5), TargetListen: 75.5, OnTarget: true}
	if v := m.Verdict(); v != "on target: the rep listened 75.5% of the talk time (target 75.5%)" {
		t.Errorf("verdict %q", v)
	}
}

func TestLogPct(t *testing.T) {
	v := 76.6666
	for _, tc := range []struct {
		in   *float64
		want any
	}{{nil, "none"}, {&v, 76.7}} {
		if got := LogPct(tc.in); got != tc.want {
			t.Errorf("LogPct(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
