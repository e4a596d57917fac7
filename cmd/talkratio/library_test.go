package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
