package tally

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

func pct(v float64) *float64 { return &v }

func segs(xs ...float64) []Segment {
	var out []Segment
	for i := 0; i+1 < len(xs); i += 2 {
		out = append(out, Segment{xs[i], xs[i+1]})
	}
	return out
}

// report runs a tally over complete segment lists, the way the analyzer
// ends a call.
func report(rep, cust []Segment, dur float64) Metrics {
	t := New(DefaultConfig())
	for _, s := range rep {
		t.Add(Rep, s)
	}
	for _, s := range cust {
		t.Add(Customer, s)
	}
	t.Settle(dur)
	return t.Report(dur)
}

func TestTallyHandComputed(t *testing.T) {
	tests := []struct {
		name      string
		rep, cust []Segment
		dur       float64
		check     func(t *testing.T, m Metrics)
	}{
		{
			// rep 0-10, customer 11-15, rep 16-20.
			name: "alternation",
			rep:  segs(0, 10, 16, 20), cust: segs(11, 15), dur: 20,
			check: func(t *testing.T, m Metrics) {
				want := Metrics{
					DurationS: 20, RepTalkS: 14, CustomerTalkS: 4,
					ListenPct: pct(22.2), RepSharePct: 70, CustomerSharePct: 20,
					OverlapS: 0, MutualSilenceS: 2,
					LongestRepMonologue:  Run{0, 10, 10},
					LongestCustomerStory: Run{11, 15, 4},
					TurnSwitches:         2, TurnSwitchesPerMinute: 6,
					RepReplies: 1, RepReplyPauseMeanS: 1, RepReplyPauseMedianS: 1,
					LongSilences: []Segment{}, TargetListen: 80, Interruptions: []Event{},
					LongMonologues: []Run{},
				}
				if !reflect.DeepEqual(m, want) {
					t.Errorf("got  %+v\nwant %+v", m, want)
				}
			},
		},
		{
			// The customer backchannels at 3 s (no turn), interrupts at 7 s
			// while the rep talks until 8 s, the rep says "mm" at 12.5 s
			// (no turn), 4 s of dead air, then the rep replies at 17 s.
			name: "interruption, backchannels, dead air",
			rep:  segs(0, 8, 12.5, 13, 17, 20), cust: segs(3, 3.4, 7, 12), dur: 20,
			check: func(t *testing.T, m Metrics) {
				want := Metrics{
					DurationS: 20, RepTalkS: 11.5, CustomerTalkS: 5.4,
					ListenPct: pct(32), RepSharePct: 57.5, CustomerSharePct: 27,
					OverlapS: 1.4, MutualSilenceS: 4.5,
					LongestRepMonologue:  Run{0, 8, 8},
					LongestCustomerStory: Run{7, 12, 5},
					TurnSwitches:         2, TurnSwitchesPerMinute: 6,
					RepReplies: 1, RepReplyPauseMeanS: 5, RepReplyPauseMedianS: 5,
					InterruptionsByCustomer: 1,
					LongSilences:            segs(13, 17), LongSilenceS: 4,
					TargetListen:   80,
					Interruptions:  []Event{{At: 7, Role: "customer"}},
					LongMonologues: []Run{},
				}
				if !reflect.DeepEqual(m, want) {
					t.Errorf("got  %+v\nwant %+v", m, want)
				}
			},
		},
		{
			// Pauses under 1 s stay in one monologue; a customer word in a
			// pause ends it; a pause of 1.5 s ends it too.
			name: "monologue merging",
			rep:  segs(0, 5, 5.5, 9, 9.8, 12, 13.5, 15, 20, 25, 25.8, 30), cust: segs(25.2, 25.5), dur: 30,
			check: func(t *testing.T, m Metrics) {
				if m.LongestRepMonologue != (Run{0, 12, 12}) {
					t.Errorf("longest monologue %+v, want 0-12", m.LongestRepMonologue)
				}
				if m.TurnSwitches != 0 {
					t.Errorf("turn switches %d, want 0 (the customer only backchannels)", m.TurnSwitches)
				}
			},
		},
		{
			// Both speak over each other for 0.1 s at a turn boundary:
			// latching, not an interruption; the reply pause is 0.
			name: "latching is no interruption",
			rep:  segs(0, 5), cust: segs(4.9, 9), dur: 10,
			check: func(t *testing.T, m Metrics) {
				if m.InterruptionsByCustomer != 0 || m.TurnSwitches != 1 {
					t.Errorf("interruptions %d switches %d, want 0 and 1", m.InterruptionsByCustomer, m.TurnSwitches)
				}
			},
		},
		{
			// Runs of a minute and more are listed for replay markers; a
			// customer story of any length is not a monologue.
			name: "long monologues",
			rep:  segs(0, 40, 40.5, 70, 75, 85, 90, 150, 152, 211), cust: segs(71, 73, 151, 151.5, 212, 290), dur: 290,
			check: func(t *testing.T, m Metrics) {
				want := []Run{{0, 70, 70}, {90, 150, 60}}
				if !reflect.DeepEqual(m.LongMonologues, want) {
					t.Errorf("long monologues %+v, want %+v", m.LongMonologues, want)
				}
			},
		},
		{
			name: "silence only",
			dur:  30,
			check: func(t *testing.T, m Metrics) {
				if m.ListenPct != nil || m.OnTarget || m.MutualSilenceS != 30 || len(m.LongSilences) != 0 {
					t.Errorf("got %+v, want no talk, not on target, 30 s of silence, no long silences (no speech around them)", m)
				}
			},
		},
		{
			name: "customer only is on target",
			cust: segs(1, 9), dur: 10,
			check: func(t *testing.T, m Metrics) {
				if m.ListenPct == nil || *m.ListenPct != 100 || !m.OnTarget {
					t.Errorf("listen %v on target %v, want 100 and true", m.ListenPct, m.OnTarget)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, report(tc.rep, tc.cust, tc.dur))
		})
	}
}

// randomCall makes a plausible call: alternating turns with gaps,
// backchannels and overlaps, on a 10 ms grid.
func randomCall(r *rand.Rand, dur float64) (rep, cust []Segment) {
	var out [2][]Segment
	t := 0.0
	who := 0
	grid := func(x float64) float64 { return math.Round(x*100) / 100 }
	for t < dur {
		start := grid(t + r.Float64()*2 - 0.5)
		end := grid(start + 0.2 + r.Float64()*8)
		if n := len(out[who]); n > 0 && start <= out[who][n-1].End {
			start = out[who][n-1].End + 0.01
		}
		if start < 0 {
			start = 0
		}
		if end > dur {
			end = dur
		}
		if end > start {
			out[who] = append(out[who], Segment{start, end})
		}
		t = end
		if r.Float64() < 0.8 {
			who = 1 - who
		}
	}
	return out[0], out[1]
}

// The incremental tally (settling as it goes, snapshots on the way) must
// end where the batch one does, whatever the interleaving of the roles.
func TestTallyIncrementalMatchesBatch(t *testing.T) {
	for seed := range uint64(50) {
		r := rand.New(rand.NewPCG(seed, 1))
		rep, cust := randomCall(r, 300)
		want := report(rep, cust, 300)

		tl := New(DefaultConfig())
		i, j := 0, 0
		for i < len(rep) || j < len(cust) {
			// Add whichever role comes next, sometimes lagging one role.
			if j == len(cust) || (i < len(rep) && (rep[i].Start < cust[j].Start || r.IntN(4) == 0)) {
				tl.Add(Rep, rep[i])
				i++
			} else {
				tl.Add(Customer, cust[j])
				j++
			}
			// Settle up to where both roles are known to be final.
			h := 300.0
			if i < len(rep) {
				h = min(h, rep[i].Start)
			}
			if j < len(cust) {
				h = min(h, cust[j].Start)
			}
			tl.Settle(h)
			_ = tl.Snapshot(h, [2]Segment{}) // must not disturb the tally
		}
		tl.Settle(300)
		if got := tl.Report(300); !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: incremental\n%+v\nbatch\n%+v", seed, got, want)
		}
	}
}

// A snapshot at time now equals the report of the call cut at now.
func TestTallySnapshotIsReportOfThePast(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	rep, cust := randomCall(r, 200)
	cut := func(s []Segment, now float64) []Segment {
		var out []Segment
		for _, x := range s {
			if x.Start < now {
				out = append(out, Segment{x.Start, min(x.End, now)})
			}
		}
		return out
	}
	for _, now := range []float64{17.3, 60, 123.45, 199.99} {
		tl := New(DefaultConfig())
		// Everything that started before now, with the segment in
		// progress at now passed as open.
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
		h := now
		for _, o := range open {
			if o.End > o.Start {
				h = min(h, o.Start)
			}
		}
		tl.Settle(h)
		got := tl.Snapshot(now, open)
		want := report(cut(rep, now), cut(cust, now), now)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("now=%v: snapshot\n%+v\nreport of the past\n%+v", now, got, want)
		}
	}
}

func TestRecentListenPct(t *testing.T) {
	tl := New(DefaultConfig()) // 120 s window
	tl.Add(Rep, Segment{0, 100})
	tl.Add(Customer, Segment{100, 130})
	tl.Add(Rep, Segment{130, 150})
	// Window 60-180: rep 40 (60-100) + 20 (130-150), customer 30, plus the
	// customer's open segment 170-180.
	got, ok := tl.RecentListenPct(180, [2]Segment{{}, {170, 180}})
	if want := 40.0; !ok || got != want {
		t.Errorf("recent listen %v %v, want %v", got, ok, want)
	}
	if _, ok := New(DefaultConfig()).RecentListenPct(10, [2]Segment{}); ok {
		t.Error("empty tally reports a recent listen %")
	}
}

func TestTallyAddIgnoresOverlapsAndSettledPast(t *testing.T) {
	tl := New(DefaultConfig())
	tl.Add(Rep, Segment{0, 5})
	tl.Add(Rep, Segment{4, 6}) // overlaps the previous: clipped to 5-6
	tl.Settle(10)
	tl.Add(Rep, Segment{8, 12}) // starts before the settled horizon: clipped to 10-12
	m := tl.Report(12)
	if m.RepTalkS != 8 {
		t.Errorf("rep talk %v, want 8", m.RepTalkS)
	}
}

// A monologue is not cut by the listener's backchannel when the "uh-huh"
// begins over the rep's speech and runs into a pause, nor by the rep's own
// voice leaking into the customer channel, which trails each phrase; it is
// cut when the customer starts to speak in the pause, or holds a turn there.
func TestTallyRunsAndBackchannels(t *testing.T) {
	tests := []struct {
		name      string
		rep, cust []Segment
		want      float64 // longest rep monologue
	}{
		{"backchannel over the end of a phrase", segs(0, 10, 10.6, 20), segs(9.8, 10.3), 20},
		{"leak trailing phrase ends", segs(0, 5, 5.5, 10, 10.5, 15), segs(4.9, 5.1, 9.9, 10.1), 15},
		{"customer speaks up in the pause", segs(0, 10, 10.7, 20), segs(10.1, 10.5), 10},
		{"customer takes a turn over the pause", segs(0, 10, 10.6, 20), segs(9.5, 11.5), 10},
		{"a pause of a second ends the run", segs(0, 10, 11, 20), nil, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := report(tc.rep, tc.cust, 25)
			if got := m.LongestRepMonologue.Dur; math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("longest rep monologue %.2f s (%+v), want %.2f", got, m.LongestRepMonologue, tc.want)
			}
			// The live path must agree with the final report.
			tl := New(DefaultConfig())
			for _, s := range tc.rep {
				tl.Add(Rep, s)
			}
			for _, s := range tc.cust {
				tl.Add(Customer, s)
			}
			if got := tl.Snapshot(25, [2]Segment{}).LongestRepMonologue.Dur; math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("snapshot: longest rep monologue %.2f s, want %.2f", got, tc.want)
			}
		})
	}
}

// reportMissing is report with stretches of missing audio.
func reportMissing(rep, cust, miss []Segment, dur float64) Metrics {
	t := New(DefaultConfig())
	for _, s := range miss {
		t.AddMissing(s)
	}
	for _, s := range rep {
		t.Add(Rep, s)
	}
	for _, s := range cust {
		t.Add(Customer, s)
	}
	t.Settle(dur)
	return t.Report(dur)
}

// Missing audio is counted apart: never silence, and it neither splits nor
// makes a long silence.
func TestTallyMissing(t *testing.T) {
	tests := []struct {
		name            string
		rep, cust, miss []Segment
		dur             float64
		missing, mutual float64
		long            []Segment
		longS           float64
		check           func(t *testing.T, m Metrics)
	}{
		{
			name: "missing is not mutual silence",
			rep:  segs(0, 5), miss: segs(5, 6), cust: segs(6, 10), dur: 10,
			missing: 1, mutual: 0, long: []Segment{},
			check: func(t *testing.T, m Metrics) {
				// Shares are of the 9 s heard.
				if m.RepSharePct != 55.56 || m.CustomerSharePct != 44.44 {
					t.Errorf("shares %v/%v, want 55.56/44.44", m.RepSharePct, m.CustomerSharePct)
				}
			},
		},
		{
			name: "a long silence is not split by missing audio",
			rep:  segs(0, 2), miss: segs(4, 5), cust: segs(7, 10), dur: 10,
			missing: 1, mutual: 4, long: segs(2, 7), longS: 4,
		},
		{
			name: "missing audio does not make a silence long",
			rep:  segs(0, 2), miss: segs(3.5, 8), cust: segs(9.4, 12), dur: 12,
			missing: 4.5, mutual: 2.9, long: []Segment{},
		},
		{
			name: "a long silence neither starts nor ends in missing audio",
			rep:  segs(0, 2), miss: segs(2, 3, 7, 8), cust: segs(8, 10), dur: 10,
			missing: 2, mutual: 4, long: segs(3, 7), longS: 4,
		},
		{
			name: "speech over a short gap is talk",
			rep:  segs(0, 5), miss: segs(2, 2.02), dur: 5,
			missing: 0.02, mutual: 0, long: []Segment{},
			check: func(t *testing.T, m Metrics) {
				if m.RepTalkS != 5 {
					t.Errorf("rep talk %v, want 5", m.RepTalkS)
				}
			},
		},
		{
			name: "missing lead-in",
			miss: segs(0, 3), cust: segs(3, 5), dur: 5,
			missing: 3, mutual: 0, long: []Segment{},
		},
		{
			name: "a reply pause with missing audio has no length",
			cust: segs(0, 5), miss: segs(5, 6), rep: segs(6.5, 10), dur: 10,
			missing: 1, mutual: 0.5, long: []Segment{},
			check: func(t *testing.T, m Metrics) {
				if m.TurnSwitches != 1 || m.RepReplies != 0 {
					t.Errorf("switches %d replies %d, want 1 and 0", m.TurnSwitches, m.RepReplies)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := reportMissing(tc.rep, tc.cust, tc.miss, tc.dur)
			if m.MissingAudioS != tc.missing || m.MutualSilenceS != tc.mutual {
				t.Errorf("missing %v mutual silence %v, want %v and %v", m.MissingAudioS, m.MutualSilenceS, tc.missing, tc.mutual)
			}
			if !reflect.DeepEqual(m.LongSilences, tc.long) || m.LongSilenceS != tc.longS {
				t.Errorf("long silences %v (%v s), want %v (%v s)", m.LongSilences, m.LongSilenceS, tc.long, tc.longS)
			}
			if tc.check != nil {
				tc.check(t, m)
			}
		})
	}
}

// The current silence of a live snapshot leaves missing audio out.
func TestCurrentSilenceLeavesMissingOut(t *testing.T) {
	tl := New(DefaultConfig())
	tl.Add(Rep, Segment{0, 2})
	tl.AddMissing(Segment{3, 4})
	_, mo := tl.snapshot(6, [2][]Segment{})
	if mo.SilenceS != 3 {
		t.Errorf("current silence %v, want 3 (2-3 and 4-6)", mo.SilenceS)
	}
}

// Missing audio added in pieces, across settles, counts whole; pieces that
// touch are one stretch.
func TestTallyAddMissingAcrossSettle(t *testing.T) {
	tl := New(DefaultConfig())
	tl.AddMissing(Segment{2, 3})
	tl.Settle(3)
	tl.AddMissing(Segment{3, 4})
	tl.AddMissing(Segment{6, 7})
	tl.Settle(10)
	if m := tl.Report(10); m.MissingAudioS != 3 {
		t.Errorf("missing %v s, want 3", m.MissingAudioS)
	}
	if got, want := tl.Missing(), segs(2, 4, 6, 7); !reflect.DeepEqual(got, want) {
		t.Errorf("missing stretches %v, want %v", got, want)
	}
}

// With missing audio too, the incremental tally ends where the batch one
// does.
func TestTallyIncrementalMatchesBatchWithMissing(t *testing.T) {
	for seed := range uint64(30) {
		r := rand.New(rand.NewPCG(seed, 5))
		rep, cust := randomCall(r, 300)
		var miss []Segment
		for at := r.Float64() * 20; at < 290; at += 5 + r.Float64()*40 {
			miss = append(miss, Segment{at, at + 0.02 + r.Float64()*4})
		}
		want := reportMissing(rep, cust, miss, 300)

		tl := New(DefaultConfig())
		i, j, k := 0, 0, 0
		for i < len(rep) || j < len(cust) || k < len(miss) {
			h := 300.0
			for _, next := range []float64{at(rep, i), at(cust, j), at(miss, k)} {
				h = min(h, next)
			}
			switch h {
			case at(miss, k):
				tl.AddMissing(miss[k])
				k++
			case at(rep, i):
				tl.Add(Rep, rep[i])
				i++
			default:
				tl.Add(Customer, cust[j])
				j++
			}
			tl.Settle(min(at(rep, i), at(cust, j), at(miss, k), 300))
			_ = tl.Snapshot(h, [2]Segment{})
		}
		tl.Settle(300)
		if got := tl.Report(300); !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: incremental\n%+v\nbatch\n%+v", seed, got, want)
		}
	}
}

// at is the start of segs[i], or +Inf past the end.
func at(segs []Segment, i int) float64 {
	if i < len(segs) {
		return segs[i].Start
	}
	return math.Inf(1)
}
