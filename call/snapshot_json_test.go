package call

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"talkratio/tally"
)

// plainSnapshot is Snapshot without its MarshalJSON: what encoding/json
// writes for its fields.
type plainSnapshot Snapshot

// TestSnapshotJSONAsEncodingJSON: the hand-written encoder writes the bytes
// encoding/json writes, for snapshots of every shape.
func TestSnapshotJSONAsEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"", "Dana", "call <b>&</b>", "Zoë \u2028 \"quoted\" \\ \t\n\x01", "\xff\xfeinvalid", "日本語"}
	floats := []float64{0, 1, -1, 0.1, 12.345, 1e-7, -3e-9, 1e21, 1.5e22, 123456789.125, 1e20, 5e-324, math.MaxFloat64}
	f := func() float64 {
		if rng.IntN(3) == 0 {
			return floats[rng.IntN(len(floats))]
		}
		return math.Round(rng.Float64()*1e6) / 1e3
	}
	segs := func() []tally.Segment {
		switch rng.IntN(4) {
		case 0:
			return nil
		case 1:
			return []tally.Segment{}
		}
		out := make([]tally.Segment, rng.IntN(50))
		for i := range out {
			// Times of a call: rounding to the millisecond keeps them finite.
			st := rng.Float64() * 1e5
			out[i] = tally.Segment{Start: st, End: st + rng.Float64()*7}
		}
		return out
	}
	for i := range 2000 {
		s := Snapshot{
			Type: "snapshot", NowS: f(), TargetListenPct: f(), RecentWindowS: f(), RepTalkS: f(), CustomerTalkS: f(),
			RepSharePct: f(), CustomerSharePct: f(), OnTarget: rng.IntN(2) == 0, OverlapS: f(), MutualSilenceS: f(), MissingAudioS: f(),
			Speaking:        RoleFlags{rng.IntN(2) == 0, rng.IntN(2) == 0},
			Monologue:       Monologue{CurrentS: f(), NudgeAfterS: f(), Nudge: rng.IntN(2) == 0, LongestS: f()},
			CurrentSilenceS: f(), LongSilences: rng.IntN(100) - 3, Interruptions: RoleCount{rng.IntN(9), -rng.IntN(9)},
			TurnSwitches: rng.IntN(1000), TurnSwitchesPerMn: f(),
			Timeline: Timeline{FromS: f(), ToS: f(), Rep: segs(), Customer: segs(), Missing: segs()},
			Call: Info{
				ID: names[rng.IntN(len(names))], Name: names[rng.IntN(len(names))], Rep: names[rng.IntN(len(names))],
				Customer: names[rng.IntN(len(names))], State: StateLive,
				StartedAt: time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).In(time.FixedZone("x", 3600*(rng.IntN(25)-12))),
			},
		}
		if rng.IntN(2) == 0 {
			v := f()
			s.ListenPct = &v
		}
		if rng.IntN(2) == 0 {
			v := f()
			s.RecentListenPct = &v
		}
		want, err := json.Marshal(plainSnapshot(s))
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.AppendJSON([]byte("prefix"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got[len("prefix"):], want) {
			t.Fatalf("snapshot %d:\n got %s\nwant %s", i, got[len("prefix"):], want)
		}
	}
}

func TestSnapshotJSONRefusesWhatJSONCannotHold(t *testing.T) {
	for _, s := range []Snapshot{
		{NowS: math.NaN()},
		{RepTalkS: math.Inf(1)},
		{Timeline: Timeline{Rep: []tally.Segment{{Start: 0, End: math.Inf(1)}}}},
		{Call: Info{StartedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
	} {
		if b, err := json.Marshal(s); err == nil {
			t.Errorf("marshalled %s", b)
		}
	}
}

// BenchmarkSnapshotJSON: a snapshot with 60 segments per role, by
// AppendJSON and by encoding/json.
func BenchmarkSnapshotJSON(b *testing.B) {
	var l tally.Live
	l.NowS = 600.123
	p := 12.5
	l.Metrics.ListenPct = &p
	for i := range 60 {
		t := 300 + float64(i)*5
		l.Timeline[0] = append(l.Timeline[0], tally.Segment{Start: t, End: t + 1.234})
		l.Timeline[1] = append(l.Timeline[1], tally.Segment{Start: t + 2, End: t + 4.567})
	}
	s := Rules{}.WithDefaults().NewSnapshot(Info{ID: "abc", Name: "x", StartedAt: time.Now()}, l)
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf, _ = s.AppendJSON(buf[:0])
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(plainSnapshot(s))
		}
	})
}
