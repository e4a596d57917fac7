package call

import (
	"time"

	"talkratio/tally"
)

// TimelineWindowS of segments go out with each snapshot.
const TimelineWindowS = 300.0

// Snapshot is the websocket message a call's viewers get, 10 a second
// while it is live and one final one; README's "Websocket schema" shows
// it.
type Snapshot struct {
	Type              string    `json:"type"`
	Call              Info      `json:"call"`
	NowS              float64   `json:"now_s"`
	TargetListenPct   float64   `json:"target_listen_pct"`
	ListenPct         *float64  `json:"listen_pct"`
	RecentListenPct   *float64  `json:"recent_listen_pct"`
	RecentWindowS     float64   `json:"recent_window_s"`
	RepTalkS          float64   `json:"rep_talk_s"`
	CustomerTalkS     float64   `json:"customer_talk_s"`
	RepSharePct       float64   `json:"rep_share_pct"`
	CustomerSharePct  float64   `json:"customer_share_pct"`
	OnTarget          bool      `json:"on_target"`
	OverlapS          float64   `json:"overlap_s"`
	MutualSilenceS    float64   `json:"mutual_silence_s"`
	MissingAudioS     float64   `json:"missing_audio_s"`
	Speaking          RoleFlags `json:"speaking"`
	Monologue         Monologue `json:"monologue"`
	CurrentSilenceS   float64   `json:"current_silence_s"`
	LongSilences      int       `json:"long_silences"`
	Interruptions     RoleCount `json:"interruptions"`
	TurnSwitches      int       `json:"turn_switches"`
	TurnSwitchesPerMn float64   `json:"turn_switches_per_min"`
	Timeline          Timeline  `json:"timeline"`
}

// Info is the call a snapshot is about.
type Info struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Rep       string    `json:"rep"`
	Customer  string    `json:"customer"`
	State     string    `json:"state"`
	StartedAt time.Time `json:"started_at"`
}

// InfoOf is the snapshot's view of a record, in the given state.
func InfoOf(r *Record, state string) Info {
	return Info{ID: r.ID, Name: r.Name, Rep: r.Rep, Customer: r.Customer, State: state, StartedAt: r.StartedAt}
}

// RoleFlags is a yes or no per role.
type RoleFlags struct {
	Rep      bool `json:"rep"`
	Customer bool `json:"customer"`
}

// RoleCount is a count per role.
type RoleCount struct {
	Rep      int `json:"rep"`
	Customer int `json:"customer"`
}

// Monologue is the rep's current run and the nudge.
type Monologue struct {
	CurrentS    float64 `json:"current_s"`
	NudgeAfterS float64 `json:"nudge_after_s"`
	Nudge       bool    `json:"nudge"`
	LongestS    float64 `json:"longest_s"`
}

// Timeline is the segments of the last TimelineWindowS.
type Timeline struct {
	FromS    float64         `json:"from_s"`
	ToS      float64         `json:"to_s"`
	Rep      []tally.Segment `json:"rep"`
	Customer []tally.Segment `json:"customer"`
	Missing  []tally.Segment `json:"missing"`
}

// NewSnapshot turns the analysis's view of a call into the message.
func (r Rules) NewSnapshot(info Info, l tally.Live) Snapshot {
	m := l.Metrics
	nudgeAfter := r.NudgeAfterS()
	msg := Snapshot{
		Type: "snapshot", Call: info, NowS: Round3(l.NowS), TargetListenPct: m.TargetListen,
		RecentWindowS: r.Tally().RecentWindowSec,
		RepTalkS:      m.RepTalkS, CustomerTalkS: m.CustomerTalkS,
		RepSharePct: m.RepSharePct, CustomerSharePct: m.CustomerSharePct,
		OnTarget: m.OnTarget, OverlapS: m.OverlapS, MutualSilenceS: m.MutualSilenceS, MissingAudioS: m.MissingAudioS,
		Speaking: RoleFlags{l.Talking[tally.Rep], l.Talking[tally.Customer]},
		Monologue: Monologue{
			CurrentS: Round3(l.RunS[tally.Rep]), NudgeAfterS: nudgeAfter,
			Nudge: nudgeAfter > 0 && l.RunS[tally.Rep] >= nudgeAfter, LongestS: m.LongestRepMonologue.Dur,
		},
		CurrentSilenceS: Round3(l.SilenceS),
		LongSilences:    len(m.LongSilences),
		Interruptions:   RoleCount{m.InterruptionsByRep, m.InterruptionsByCustomer},
		TurnSwitches:    m.TurnSwitches, TurnSwitchesPerMn: m.TurnSwitchesPerMinute,
		Timeline: Timeline{
			FromS: Round3(max(0, l.NowS-TimelineWindowS)), ToS: Round3(l.NowS),
			Rep: nonNil(l.Timeline[tally.Rep]), Customer: nonNil(l.Timeline[tally.Customer]), Missing: nonNil(l.Missing),
		},
	}
	msg.ListenPct = m.ListenPct
	if l.RecentOK {
		v := l.RecentListenPct
		msg.RecentListenPct = &v
	}
	return msg
}

// FinalSnapshot is a stored call's snapshot: what a viewer of an ended call
// gets, and a live call's viewers get last.
func (r Rules) FinalSnapshot(rec *Record) Snapshot {
	var l tally.Live
	if res := rec.Result; res != nil {
		l.Metrics = res.Metrics
		l.NowS = res.DurationS
		t := tally.New(r.Tally())
		for _, sg := range res.Segments.Rep {
			t.Add(tally.Rep, sg)
		}
		for _, sg := range res.Segments.Customer {
			t.Add(tally.Customer, sg)
		}
		l.RecentListenPct, l.RecentOK = t.RecentListenPct(res.DurationS, [2]tally.Segment{})
		from := res.DurationS - TimelineWindowS
		for role, segs := range [2][]tally.Segment{res.Segments.Rep, res.Segments.Customer} {
			for _, sg := range segs {
				if sg.End > from {
					l.Timeline[role] = append(l.Timeline[role], sg)
				}
			}
		}
		for _, sg := range res.Segments.Missing {
			if sg.End > from {
				l.Missing = append(l.Missing, sg)
			}
		}
	}
	return r.NewSnapshot(InfoOf(rec, rec.State), l)
}

// Round3 rounds seconds to the millisecond, as snapshots show them.
func Round3(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }

// nonNil makes an empty list show as [] rather than null.
func nonNil(s []tally.Segment) []tally.Segment {
	if s == nil {
		return []tally.Segment{}
	}
	return s
}
