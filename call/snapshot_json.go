package call

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"talkratio/tally"
)

// MarshalJSON writes the snapshot as AppendJSON does.
func (s Snapshot) MarshalJSON() ([]byte, error) { return s.AppendJSON(nil) }

// AppendJSON appends the snapshot's JSON: the bytes encoding/json would
// write for its fields (TestSnapshotJSONAsEncodingJSON holds it to that),
// without reflection. Every live call with a viewer marshals one ten
// times a second, and encoding/json took 10-15% of the service's CPU
// doing it, most of it on the timeline's segments.
func (s Snapshot) AppendJSON(b []byte) ([]byte, error) {
	w := jsonWriter{b: b}
	w.raw(`{"type":`)
	w.str(s.Type)
	w.raw(`,"call":{"id":`)
	w.str(s.Call.ID)
	w.raw(`,"name":`)
	w.str(s.Call.Name)
	w.raw(`,"rep":`)
	w.str(s.Call.Rep)
	w.raw(`,"customer":`)
	w.str(s.Call.Customer)
	w.raw(`,"state":`)
	w.str(s.Call.State)
	w.raw(`,"started_at":`)
	if t, err := s.Call.StartedAt.MarshalJSON(); err != nil {
		w.fail(err)
	} else {
		w.b = append(w.b, t...)
	}
	w.num(`},"now_s":`, s.NowS)
	w.num(`,"target_listen_pct":`, s.TargetListenPct)
	w.ptr(`,"listen_pct":`, s.ListenPct)
	w.ptr(`,"recent_listen_pct":`, s.RecentListenPct)
	w.num(`,"recent_window_s":`, s.RecentWindowS)
	w.num(`,"rep_talk_s":`, s.RepTalkS)
	w.num(`,"customer_talk_s":`, s.CustomerTalkS)
	w.num(`,"rep_share_pct":`, s.RepSharePct)
	w.num(`,"customer_share_pct":`, s.CustomerSharePct)
	w.flag(`,"on_target":`, s.OnTarget)
	w.num(`,"overlap_s":`, s.OverlapS)
	w.num(`,"mutual_silence_s":`, s.MutualSilenceS)
	w.num(`,"missing_audio_s":`, s.MissingAudioS)
	w.flag(`,"speaking":{"rep":`, s.Speaking.Rep)
	w.flag(`,"customer":`, s.Speaking.Customer)
	w.num(`},"monologue":{"current_s":`, s.Monologue.CurrentS)
	w.num(`,"nudge_after_s":`, s.Monologue.NudgeAfterS)
	w.flag(`,"nudge":`, s.Monologue.Nudge)
	w.num(`,"longest_s":`, s.Monologue.LongestS)
	w.num(`},"current_silence_s":`, s.CurrentSilenceS)
	w.int(`,"long_silences":`, s.LongSilences)
	w.int(`,"interruptions":{"rep":`, s.Interruptions.Rep)
	w.int(`,"customer":`, s.Interruptions.Customer)
	w.int(`},"turn_switches":`, s.TurnSwitches)
	w.num(`,"turn_switches_per_min":`, s.TurnSwitchesPerMn)
	w.num(`,"timeline":{"from_s":`, s.Timeline.FromS)
	w.num(`,"to_s":`, s.Timeline.ToS)
	w.segs(`,"rep":`, s.Timeline.Rep)
	w.segs(`,"customer":`, s.Timeline.Customer)
	w.segs(`,"missing":`, s.Timeline.Missing)
	w.raw(`}}`)
	if w.err != nil {
		return b, fmt.Errorf("snapshot: %w", w.err)
	}
	return w.b, nil
}

// jsonWriter appends JSON and keeps the first error.
type jsonWriter struct {
	b   []byte
	err error
}

func (w *jsonWriter) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

func (w *jsonWriter) raw(s string) { w.b = append(w.b, s...) }

func (w *jsonWriter) num(key string, f float64) {
	w.raw(key)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		w.fail(fmt.Errorf("%s is %v, which JSON cannot hold", key, f))
		f = 0
	}
	w.b = tally.AppendJSONFloat(w.b, f)
}

func (w *jsonWriter) ptr(key string, f *float64) {
	if f == nil {
		w.raw(key)
		w.raw("null")
		return
	}
	w.num(key, *f)
}

func (w *jsonWriter) flag(key string, v bool) {
	w.raw(key)
	if v {
		w.raw("true")
	} else {
		w.raw("false")
	}
}

func (w *jsonWriter) int(key string, n int) {
	w.raw(key)
	w.b = strconv.AppendInt(w.b, int64(n), 10)
}

func (w *jsonWriter) segs(key string, segs []tally.Segment) {
	w.raw(key)
	if segs == nil {
		w.raw("null")
		return
	}
	w.b = append(w.b, '[')
	for i, sg := range segs {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		var err error
		if w.b, err = sg.AppendJSON(w.b); err != nil {
			w.fail(err)
		}
	}
	w.b = append(w.b, ']')
}

// str appends a JSON string: printable ASCII that encoding/json would not
// escape goes straight in (ids, states, most names); anything else is left
// to encoding/json, whose escaping (HTML characters, U+2028, invalid
// UTF-8) it then matches by construction.
func (w *jsonWriter) str(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(s)
			if err != nil {
				w.fail(err)
			}
			w.b = append(w.b, q...)
			return
		}
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, s...)
	w.b = append(w.b, '"')
}
