package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"talkratio/call"
	"talkratio/disk"
)

// serve on a data directory written by an earlier talkratio refuses to
// start, and says what to run.
func TestServeOnOldDataDirSaysMigrate(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "calls", "abc123"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "calls", "abc123", "call.json"), []byte(`{"id":"abc123"}`), 0o640); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"serve", "-addr", "127.0.0.1:0", "-data", dir}, &stdout, &stderr)
	if code != exitFail || !strings.Contains(stderr.String(), "talkratio migrate -from "+dir+" -data "+dir) {
		t.Errorf("exit %d, stderr:\n%s", code, stderr.String())
	}
}

// testLibrary opens a library as serve does, in a temporary data
// directory; blob "s3" puts its files in an in-process S3 fake.
func testLibrary(t *testing.T, blob string, log *slog.Logger) *library {
	t.Helper()
	url := ""
	if blob == "s3" {
		backend := s3mem.New()
		if err := backend.CreateBucket("calls"); err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(gofakes3.New(backend).Server())
		t.Cleanup(ts.Close)
		t.Setenv("S3_ENDPOINT", ts.URL)
		t.Setenv("AWS_ACCESS_KEY_ID", "key")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
		t.Setenv("AWS_REGION", "us-east-1")
		url = "s3://calls/replay"
	}
	lib, err := openLibrary(context.Background(), "", url, t.TempDir(), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lib.Close() })
	return lib
}

// migrate imports an old data directory in place; serve then starts on it.
func TestMigrateThenServe(t *testing.T) {
	dir := t.TempDir()
	old, err := disk.Open(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := old.Put(ctx, &call.Record{ID: "abc123", Rep: "Dana", State: call.StateEnded, StartedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"migrate", "-from", dir, "-data", dir}, &stdout, &stderr); code != exitOK {
		t.Fatalf("migrate: exit %d\n%s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "1 calls found: 1 imported") || !strings.Contains(stderr.String(), "importing") {
		t.Errorf("migrate said:\n%s\n%s", stdout.String(), stderr.String())
	}
	lib, err := openLibrary(ctx, "", "", dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	if oldFmt, err := lib.oldFormat(ctx, dir); oldFmt || err != nil {
		t.Errorf("after migrate, serve still sees an old library: %v", err)
	}
	if r, err := lib.store.Get(ctx, "abc123"); err != nil || r.Rep != "Dana" {
		t.Errorf("imported call: %+v %v", r, err)
	}
}
