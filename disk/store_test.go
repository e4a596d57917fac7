package disk

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"talkratio/call"
	"talkratio/tally"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func pct(v float64) *float64 { return &v }

// dirFiles lists the files under dir, recursively.
func dirFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// A record is written whole or not at all; everything survives a restart.
func TestDiskStoreCrashSafeAndRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := Open(dir, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	var want []*call.Record
	for i := range 5 {
		res := &tally.Result{Metrics: tally.Metrics{ListenPct: pct(float64(60 + i)), RepTalkS: 10, CustomerTalkS: 15}, Segments: tally.Segments{Rep: []tally.Segment{{Start: 1, End: 2}}, Customer: []tally.Segment{}}}
		rec := &call.Record{ID: fmt.Sprintf("call%d", i), Name: "n", Rep: []string{"Dana", "Lee"}[i%2], Source: call.SourceLive, State: call.StateEnded,
			StartedAt: time.Date(2026, 11, 20+i, 10, 0, 0, 0, time.UTC), DurationS: 30, Result: res}
		if err := st.Put(ctx, rec); err != nil {
			t.Fatal(err)
		}
		want = append(want, rec)
	}
	// What a crash can leave: a directory whose record was never written
	// (audio present), a temporary record file, a half-received upload.
	os.MkdirAll(filepath.Join(dir, "calls", "halfdone"), 0o750)
	os.WriteFile(filepath.Join(dir, "calls", "halfdone", "audio.wav"), []byte("RIFF"), 0o640)
	os.WriteFile(filepath.Join(dir, "calls", "call0", ".tmp-123"), []byte(`{"id":"call0","state":"ended","name":"WRONG"`), 0o640)
	os.WriteFile(filepath.Join(dir, "tmp", "upload-999.wav"), []byte("RIFF...."), 0o640)

	st2, err := Open(dir, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	rows, total, _ := st2.List(ctx, call.ListQuery{})
	if total != 5 {
		t.Fatalf("after restart %d calls listed, want 5: %+v", total, rows)
	}
	for _, w := range want {
		got, err := st2.Get(ctx, w.ID)
		if err != nil || got.Name != "n" || *got.ListenPct != *w.ListenPct || len(got.Segments.Rep) != 1 || !got.StartedAt.Equal(w.StartedAt) {
			t.Errorf("%s after restart: %+v %v", w.ID, got, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "calls", "halfdone")); !os.IsNotExist(err) {
		t.Error("an incomplete call directory survived the restart")
	}
	if _, err := st2.Get(ctx, "halfdone"); err != call.ErrNotFound {
		t.Errorf("incomplete call: %v", err)
	}
	if left := dirFiles(t, filepath.Join(dir, "tmp")); len(left) != 0 {
		t.Errorf("tmp not emptied: %v", left)
	}
	// Filters, sorting and paging.
	_, total, _ = st2.List(ctx, call.ListQuery{Rep: "dana"})
	if total != 3 {
		t.Errorf("rep filter: %d", total)
	}
	rows, _, _ = st2.List(ctx, call.ListQuery{Sort: "listen_pct", Asc: true, Size: 2, Offset: 1})
	if len(rows) != 2 || rows[0].ID != "call1" || rows[1].ID != "call2" {
		t.Errorf("sorted page: %+v", rows)
	}
	rows, total, _ = st2.List(ctx, call.ListQuery{From: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)})
	if total != 2 {
		t.Errorf("date filter: %d %+v", total, rows)
	}
	// Delete removes the record and its directory, and stays deleted.
	if err := st2.Delete(ctx, "call3"); err != nil {
		t.Fatal(err)
	}
	st3, _ := Open(dir, quietLogger())
	if _, err := st3.Get(ctx, "call3"); err != call.ErrNotFound {
		t.Errorf("deleted call after restart: %v", err)
	}
	if err := st3.Delete(ctx, "call3"); err != call.ErrNotFound {
		t.Errorf("second delete: %v", err)
	}
	// Ids that would step out of the store are unknown, not paths.
	for _, id := range []string{"../call1", "..", "call1/../call2", ""} {
		if _, err := st3.Get(ctx, id); err != call.ErrNotFound {
			t.Errorf("Get(%q): %v", id, err)
		}
	}
}

// A record stored before the rule (a hundredth, 0 for no speech) is judged
// by it when read.
func TestStoredRecordsJudgedByTheRule(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := Open(dir, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	old := func(id string, listen, rep, cust float64, on bool) *call.Record {
		v := listen
		return &call.Record{ID: id, State: call.StateEnded, Source: call.SourceLive, StartedAt: time.Now(),
			Result: &tally.Result{Metrics: tally.Metrics{ListenPct: &v, RepTalkS: rep, CustomerTalkS: cust, TargetListen: 80, OnTarget: on}}}
	}
	for _, r := range []*call.Record{old("near", 79.96, 20.04, 79.96, false), old("none", 0, 0, 0, false), old("under", 79.91, 20.09, 79.91, false)} {
		if err := st.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	st2, err := Open(dir, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]struct {
		listen *float64
		on     bool
	}{"near": {pct(80), true}, "none": {nil, false}, "under": {pct(79.9), false}} {
		rec, err := st2.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if (rec.ListenPct == nil) != (want.listen == nil) || (rec.ListenPct != nil && *rec.ListenPct != *want.listen) || rec.OnTarget != want.on {
			t.Errorf("%s: listen %v on target %v, want %v %v", id, rec.ListenPct, rec.OnTarget, want.listen, want.on)
		}
	}
}

// A record written by an earlier version reads back with the figures it
// was written with: its duration (kept once, at the top level) is the
// analysis's too, and its rep named "right" is channel 1 of 2. A record
// read back and written again is the same record.
func TestDiskStoreReadsEarlierRecord(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := os.ReadFile("testdata/calls-v1/calls/c7f3a1b2c3d4e5f6/call.json")
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "calls", "c7f3a1b2c3d4e5f6"), 0o750)
	os.WriteFile(filepath.Join(dir, "calls", "c7f3a1b2c3d4e5f6", "call.json"), b, 0o640)
	st, err := Open(dir, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	rec, err := st.Get(ctx, "c7f3a1b2c3d4e5f6")
	if err != nil {
		t.Fatal(err)
	}
	if rec.DurationS != 100 || rec.Result == nil || rec.Result.DurationS != 100 {
		t.Fatalf("duration: record %v, analysis %v; want 100 for both", rec.DurationS, rec.Result.DurationS)
	}
	if !rec.RepOnRight() || rec.CustomerChannel == nil || *rec.CustomerChannel != 0 {
		t.Errorf("rep channel %v customer %v: want 1 and 0", rec.RepChannel, rec.CustomerChannel)
	}
	if err := st.Put(ctx, rec); err != nil {
		t.Fatal(err)
	}
	again, err := st.Get(ctx, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again.Result.DurationS != 100 || !again.RepOnRight() || again.CSVRow()[5] != "100" {
		t.Errorf("written again: duration %v, rep on right %v, CSV duration %q", again.Result.DurationS, again.RepOnRight(), again.CSVRow()[5])
	}
}

// Once Get shows a record's new state, List never shows its old one: a
// record's file and its row change together. (An upload's final Put was
// seen ended by GET and still analyzing in the list that followed.)
func TestGetAndListAgree(t *testing.T) {
	st, err := Open(t.TempDir(), quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const n = 200
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			r := &call.Record{ID: fmt.Sprintf("c%03d", i), State: call.StateAnalyzing}
			if err := st.Put(ctx, r); err != nil {
				t.Error(err)
				return
			}
			r.State = call.StateEnded
			if err := st.Put(ctx, r); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for i := range n {
		id := fmt.Sprintf("c%03d", i)
		for finished := false; ; {
			r, err := st.Get(ctx, id)
			if err == nil && r.State == call.StateEnded {
				break
			}
			if finished {
				t.Fatalf("%s: not ended after the writer finished: %v, %v", id, r, err)
			}
			select {
			case <-done:
				finished = true
			default:
				runtime.Gosched()
			}
		}
		rows, _, err := st.List(ctx, call.ListQuery{State: call.StateAnalyzing})
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows {
			if row.ID == id {
				t.Fatalf("%s: Get says ended, List says analyzing", id)
			}
		}
	}
	<-done
}
