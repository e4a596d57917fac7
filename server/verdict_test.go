package server

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"talkratio/call"
	"talkratio/tally"
)

// verdictCall is an ended call whose customer talked 79.91% of the talk
// time: 79.9%, below an 80% target, on every surface. With no customer
// talk (customer false, rep false) it is a call with no speech.
func verdictCall(id string, speech bool) *call.Record {
	cfg := tally.DefaultConfig()
	tl := tally.New(cfg)
	dur := 100.0
	if speech {
		tl.Add(tally.Customer, tally.Segment{Start: 0, End: 79.91})
		tl.Add(tally.Rep, tally.Segment{Start: 79.91, End: 100})
	}
	tl.Settle(dur)
	nonNil := func(s []tally.Segment) []tally.Segment {
		if s == nil {
			return []tally.Segment{}
		}
		return s
	}
	res := tally.Result{Metrics: tl.Report(dur), Segments: tally.Segments{Rep: nonNil(tl.Segments(tally.Rep)), Customer: nonNil(tl.Segments(tally.Customer))}}
	meter := tally.MeterSeries(res.Segments, dur, call.MeterStepS, cfg)
	return &call.Record{ID: id, Name: id, Rep: "Dana", Customer: "Acme", Source: call.SourceUpload, State: call.StateEnded,
		StartedAt: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), DurationS: dur, Result: &res, Meter: &meter}
}

// One verdict: a call at 79.91% is 79.9% and below target in the API's
// call, list, reps, CSV and final snapshot; a call with no speech has no
// listen % anywhere and is never on target.
func TestOneVerdictEverySurface(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	for _, rec := range []*call.Record{verdictCall("close", true), verdictCall("silent", false)} {
		if err := srv.store.Put(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
	}
	type call struct {
		ListenPct *float64 `json:"listen_pct"`
		OnTarget  bool     `json:"on_target"`
		Verdict   string   `json:"verdict"`
	}
	for _, tc := range []struct {
		id      string
		listen  string // as JSON
		verdict string
	}{
		{"close", "79.9", "below target: the rep listened 79.9% of the talk time (target 80%) and talked 20.1%"},
		{"silent", "null", "no speech found"},
	} {
		t.Run(tc.id, func(t *testing.T) {
			var raw map[string]json.RawMessage
			getJSON(t, ts.URL+"/api/calls/"+tc.id, &raw)
			var c call
			b, _ := json.Marshal(raw)
			json.Unmarshal(b, &c)
			if string(raw["listen_pct"]) != tc.listen || string(raw["on_target"]) != "false" || c.Verdict != tc.verdict {
				t.Errorf("API call: listen_pct %s on_target %s verdict %q; want %s, false, %q", raw["listen_pct"], raw["on_target"], c.Verdict, tc.listen, tc.verdict)
			}
			row := csvRow(t, ts.URL+"/api/calls/"+tc.id+".csv")
			if want := strings.ReplaceAll(tc.listen, "null", ""); row["listen_pct"] != want || row["on_target"] != "false" {
				t.Errorf("CSV: listen_pct %q on_target %q, want %q and false", row["listen_pct"], row["on_target"], want)
			}
			var list struct {
				Calls []map[string]json.RawMessage `json:"calls"`
			}
			getJSON(t, ts.URL+"/api/calls?sort=name", &list)
			found := false
			for _, r := range list.Calls {
				if string(r["id"]) == `"`+tc.id+`"` {
					found = true
					if string(r["listen_pct"]) != tc.listen || string(r["on_target"]) != "false" {
						t.Errorf("list row: listen_pct %s on_target %s", r["listen_pct"], r["on_target"])
					}
				}
			}
			if !found {
				t.Errorf("call %s not in the list", tc.id)
			}
			snap := srv.rules.FinalSnapshot(mustGet(t, srv, tc.id))
			b, _ = json.Marshal(snap)
			var s map[string]json.RawMessage
			json.Unmarshal(b, &s)
			if string(s["listen_pct"]) != tc.listen || string(s["on_target"]) != "false" {
				t.Errorf("final snapshot: listen_pct %s on_target %s", s["listen_pct"], s["on_target"])
			}
		})
	}
	// The reps page: Dana's mean of one scored call is that call's figure,
	// judged the same; the silent call counts as a call, not as a figure.
	var reps struct {
		Reps []struct {
			Rep           string   `json:"rep"`
			Calls         int      `json:"calls"`
			MeanListenPct *float64 `json:"mean_listen_pct"`
			OnTargetShare float64  `json:"on_target_share"`
		} `json:"reps"`
	}
	getJSON(t, ts.URL+"/api/reps", &reps)
	if len(reps.Reps) != 1 || reps.Reps[0].Calls != 2 || reps.Reps[0].MeanListenPct == nil || *reps.Reps[0].MeanListenPct != 79.9 || reps.Reps[0].OnTargetShare != 0 {
		t.Errorf("reps: %+v", reps.Reps)
	}
}

func mustGet(t *testing.T, srv *Server, id string) *call.Record {
	t.Helper()
	rec, err := srv.store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// The configured rules reach every figure: with a 40% target, a call at
// 42.5% is on target in its record, the list, the CSV, the reps and its
// final snapshot, and each says the target is 40%.
func TestConfiguredRulesEverySurface(t *testing.T) {
	srv, base := newDiskServer(t, t.TempDir(), Config{Rules: call.Rules{TargetListen: 0.4}})
	p := filepath.Join(t.TempDir(), "call.wav")
	writeCallWAV(t, p, 8000, 12, testRep, testCust) // 42.5% as the goldens have it
	body, ctype := form(t, map[string]string{"rep": "Dana"}, map[string]string{"audio": p})
	resp, b := post(t, base+"/api/calls", body, ctype)
	if resp.StatusCode != 202 {
		t.Fatalf("%s %s", resp.Status, b)
	}
	var sum call.Summary
	json.Unmarshal(b, &sum)
	m := waitAnalyzed(t, base, sum.ID)
	if m["on_target"] != true || m["target_listen_pct"] != 40.0 || !strings.HasPrefix(m["verdict"].(string), "on target") {
		t.Errorf("record: on_target %v target %v verdict %q", m["on_target"], m["target_listen_pct"], m["verdict"])
	}
	var list struct {
		Calls  []call.Summary `json:"calls"`
		Target float64        `json:"target_listen_pct"`
	}
	getJSON(t, base+"/api/calls", &list)
	if len(list.Calls) != 1 || !list.Calls[0].OnTarget || list.Target != 40 {
		t.Errorf("list: %+v", list)
	}
	if row := csvRow(t, base+"/api/calls/"+sum.ID+".csv"); row["on_target"] != "true" || row["target_listen_pct"] != "40" {
		t.Errorf("CSV: %v", row)
	}
	var reps struct {
		Reps   []call.RepStats `json:"reps"`
		Target float64         `json:"target_listen_pct"`
	}
	getJSON(t, base+"/api/reps", &reps)
	if len(reps.Reps) != 1 || reps.Reps[0].OnTargetShare != 1 || reps.Target != 40 {
		t.Errorf("reps: %+v", reps)
	}
	rec := mustGet(t, srv, sum.ID)
	snap := srv.rules.FinalSnapshot(rec)
	if !snap.OnTarget || snap.TargetListenPct != 40 {
		t.Errorf("final snapshot: on target %v, target %v", snap.OnTarget, snap.TargetListenPct)
	}
}
