package disk

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"talkratio/call"
	"talkratio/tally"
)

// A live call's record left by a service that stopped without ending it
// is kept, with its figures, as interrupted: never lost, never listed as
// live again.
func TestLiveRecordInterruptedAtRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := Open(dir, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	checkpoint := &call.Record{ID: "crashed", Name: "n", Rep: "Dana", Source: call.SourceLive, State: call.StateLive, StartedAt: start, DurationS: 42.5,
		Result: &tally.Result{Metrics: tally.Metrics{ListenPct: pct(61.5), RepTalkS: 10, CustomerTalkS: 16}}}
	for _, r := range []*call.Record{checkpoint, {ID: "started", Source: call.SourceLive, State: call.StateLive, StartedAt: start},
		{ID: "done", Source: call.SourceLive, State: call.StateEnded, StartedAt: start}} {
		if err := st.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if rows, _, _ := st.List(ctx, call.ListQuery{State: call.StateLive}); len(rows) != 2 {
		t.Fatalf("before the restart, %d live rows, want 2", len(rows))
	}
	for range 2 { // and it stays so
		st, err = Open(dir, quietLogger())
		if err != nil {
			t.Fatal(err)
		}
		rec, err := st.Get(ctx, "crashed")
		if err != nil {
			t.Fatal(err)
		}
		if rec.State != call.StateInterrupted || rec.DurationS != 42.5 || rec.ListenPct == nil || *rec.ListenPct != 61.5 || rec.RepTalkS != 10 ||
			rec.Segments.Rep == nil || rec.Segments.Customer == nil {
			t.Errorf("after a restart: %+v %+v", rec, rec.Result)
		}
		if rec, _ := st.Get(ctx, "started"); rec.State != call.StateInterrupted || rec.Result != nil {
			t.Errorf("a call interrupted before its first checkpoint: %+v", rec)
		}
		if rec, _ := st.Get(ctx, "done"); rec.State != call.StateEnded {
			t.Errorf("an ended call: %+v", rec)
		}
		if rows, total, _ := st.List(ctx, call.ListQuery{State: call.StateLive}); total != 0 {
			t.Errorf("live rows after a restart: %+v", rows)
		}
		if rows, total, _ := st.List(ctx, call.ListQuery{State: call.StateInterrupted}); total != 2 {
			t.Errorf("interrupted rows: %+v", rows)
		}
	}
}

// Audio is seen only once committed; a blob seeks and knows its size and
// time, which HTTP Range needs.
func TestAudioFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := Open(dir, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.CreateAudio(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "RIFF....data")
	if _, err := st.OpenAudio(ctx, "c1"); !errors.Is(err, call.ErrNotFound) {
		t.Errorf("audio seen before Commit: %v", err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	b, err := st.OpenAudio(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	b.Seek(4, io.SeekStart)
	rest, _ := io.ReadAll(b)
	b.Close()
	if string(rest) != "....data" || b.Size() != 12 || time.Since(b.ModTime()) > time.Minute {
		t.Errorf("read back %q, size %d, modified %v", rest, b.Size(), b.ModTime())
	}
	aborted, _ := st.CreateAudio(ctx, "c2")
	io.WriteString(aborted, "x")
	aborted.Abort()
	if _, err := st.OpenAudio(ctx, "c2"); !errors.Is(err, call.ErrNotFound) {
		t.Errorf("aborted audio: %v", err)
	}
	if err := st.DeleteAudio(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteAudio(ctx, "c1"); err != nil {
		t.Errorf("deleting audio that is gone: %v", err)
	}
	if _, err := st.OpenAudio(ctx, "../c1"); !errors.Is(err, call.ErrNotFound) {
		t.Errorf("a path for an id: %v", err)
	}
	if left := dirFiles(t, filepath.Join(dir, "tmp")); len(left) != 0 {
		t.Errorf("files left in tmp: %v", left)
	}
}

// An upload's file is received into tmp/, kept in its call's directory
// (where a restart finds it), and discarded once analyzed; a failed
// receive leaves nothing.
func TestStaging(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := Open(dir, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	f, err := st.Stage(ctx, strings.NewReader("RIFF"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(f.Name(), "upload-") || !strings.HasSuffix(f.Name(), ".wav") {
		t.Errorf("staged name %q", f.Name())
	}
	if err := f.Keep(ctx, "c1", "rep_audio"); err != nil {
		t.Fatal(err)
	}
	st.Put(ctx, &call.Record{ID: "c1", State: call.StateAnalyzing})
	st, _ = Open(dir, quietLogger()) // a restart
	kept, err := st.Kept(ctx, "c1")
	if err != nil || len(kept) != 1 || kept["rep_audio"] == nil {
		t.Fatalf("kept: %v %v", kept, err)
	}
	b, err := kept["rep_audio"].Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(b)
	b.Close()
	if string(data) != "RIFF" {
		t.Errorf("kept file holds %q", data)
	}
	if err := kept["rep_audio"].Discard(ctx); err != nil {
		t.Fatal(err)
	}
	if kept, _ := st.Kept(ctx, "c1"); len(kept) != 0 {
		t.Errorf("discarded file still kept: %v", kept)
	}
	if _, err := st.Stage(ctx, io.MultiReader(strings.NewReader("RIFF"), failing{})); err == nil {
		t.Error("a failed receive staged a file")
	}
	if left := dirFiles(t, filepath.Join(dir, "tmp")); len(left) != 0 {
		t.Errorf("files left in tmp: %v", left)
	}
}

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errors.New("connection reset") }
