package sqlite

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"talkratio/call"
	"talkratio/callgen"
	"talkratio/internal/storetest"
	"talkratio/tally"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) call.Store {
		s, err := Open(context.Background(), filepath.Join(t.TempDir(), "calls.db"), quiet())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// Opening again runs no migration twice and keeps every call.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "calls.db")
	s, err := Open(ctx, path, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, &call.Record{ID: "one", State: call.StateEnded, Rep: "Dana"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, path, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Get(ctx, "one"); err != nil {
		t.Fatal(err)
	}
	reps, err := s.RepStats(ctx, "")
	if err != nil || len(reps) != 1 || reps[0].Calls != 1 {
		t.Errorf("reps after reopen: %+v %v", reps, err)
	}
}

func TestLoad(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "calls.db"), quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.RunLoader(t, s)
}

// BenchmarkCheckpoint is a live call's checkpoint: the record of one of
// 100 live calls (its metrics so far, no segments, as live.Call writes
// it) rewritten, as each is every 2 s while it lasts.
func BenchmarkCheckpoint(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "calls.db"), quiet())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	g := callgen.New(3, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 24*time.Hour, 1)
	recs := make([]*call.Record, 100)
	for i := range recs {
		r := g.Record(i)
		r.State, r.Meter = call.StateLive, nil
		r.Result = &tally.Result{Metrics: r.Result.Metrics}
		recs[i] = r
	}
	ctx := context.Background()
	i := 0
	for b.Loop() {
		if err := s.Put(ctx, recs[i%len(recs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
