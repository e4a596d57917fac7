package importer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"talkratio/blobdir"
	"talkratio/call"
	"talkratio/callgen"
	"talkratio/disk"
	"talkratio/sqlite"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// oldDir writes n calls with the old store itself (disk), so that the
// format is exactly what earlier versions left: some with audio, one live
// (its service crashed), one upload being analyzed with its kept file.
func oldDir(t *testing.T, n int) string {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := disk.Open(dir, quiet())
	if err != nil {
		t.Fatal(err)
	}
	g := callgen.New(5, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 90*24*time.Hour, 4)
	for i := range n {
		r := g.Record(i)
		switch i {
		case 1:
			r.State = call.StateLive
		case 2:
			r.State, r.Source, r.Result, r.Meter, r.HasAudio = call.StateAnalyzing, call.SourceUpload, nil, nil, false
		}
		if r.HasAudio {
			w, err := st.CreateAudio(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(w, "RIFF audio of %s %s", r.ID, strings.Repeat("x", i))
			if err := w.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			f, err := st.Stage(ctx, strings.NewReader("the upload"))
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Keep(ctx, r.ID, "stereo"); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

func newLibrary(t *testing.T) (*Config, func()) {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "t.db"), quiet())
	if err != nil {
		t.Fatal(err)
	}
	bs, err := blobdir.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	return &Config{Store: st, Blobs: bs, Log: quiet(), Batch: 7}, func() { st.Close() }
}

// Everything comes over, reads back the same, and a second run finds it
// all there; what a stopped run missed, the next one brings.
func TestImportIsCompleteAndResumable(t *testing.T) {
	ctx := context.Background()
	const n = 60
	old := oldDir(t, n)
	cfg, done := newLibrary(t)
	defer done()
	cfg.From = old
	rep, err := Run(ctx, *cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Found != n || rep.Imported != n || rep.Verified != n || rep.Failed != 0 || rep.Files == 0 {
		t.Fatalf("first run: %v", rep)
	}
	rows, total, err := cfg.Store.List(ctx, call.ListQuery{})
	if err != nil || total != n || len(rows) != n {
		t.Fatalf("listed %d, total %d, %v", len(rows), total, err)
	}
	live, err := cfg.Store.Get(ctx, callgen.New(5, time.Time{}, time.Hour, 4).ID(1))
	if err != nil || live.State != call.StateInterrupted {
		t.Errorf("the old live call: %+v %v", live, err)
	}
	upload := callgen.New(5, time.Time{}, time.Hour, 4).ID(2)
	if keys, err := cfg.Blobs.List(ctx, "kept/"+upload+"/"); err != nil || len(keys) != 1 {
		t.Errorf("the upload's kept file: %v %v", keys, err)
	}

	again, err := Run(ctx, *cfg)
	if err != nil || again.Skipped != n || again.Imported != 0 || again.Files != 0 {
		t.Fatalf("second run: %v %v", again, err)
	}

	// A run stopped after some files and before their records: the next
	// one finishes them.
	var withAudio string
	for _, r := range rows {
		if r.HasAudio {
			withAudio = r.ID
			break
		}
	}
	if err := cfg.Store.Delete(ctx, withAudio); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Blobs.Delete(ctx, "audio/"+withAudio+".wav"); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Store.Delete(ctx, rows[5].ID); err != nil {
		t.Fatal(err)
	}
	third, err := Run(ctx, *cfg)
	if err != nil || third.Imported != 2 || third.Skipped != n-2 || third.Files != 1 || third.Verified != n {
		t.Fatalf("third run: %v %v", third, err)
	}
}

// A call that cannot be imported fails the import, by name; the others
// are imported.
func TestImportReportsWhatItCannotTake(t *testing.T) {
	old := oldDir(t, 5)
	id := callgen.New(5, time.Time{}, time.Hour, 4).ID(3)
	os.WriteFile(filepath.Join(old, "calls", id, "notes.txt"), []byte("?"), 0o640)
	bad := callgen.New(5, time.Time{}, time.Hour, 4).ID(4)
	os.WriteFile(filepath.Join(old, "calls", bad, "call.json"), []byte(`{"id":`), 0o640)
	cfg, done := newLibrary(t)
	defer done()
	cfg.From = old
	rep, err := Run(context.Background(), *cfg)
	if err == nil || rep.Failed != 2 || rep.Imported != 3 {
		t.Errorf("got %v, %v", rep, err)
	}
}
