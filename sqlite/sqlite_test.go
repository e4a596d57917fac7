package sqlite

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"talkratio/call"
	"talkratio/internal/storetest"
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
