package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
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
