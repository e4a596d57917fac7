package blobdir

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// Issue 10, point 3: what was being written when the process died is kept
// under partial/KEY, as far as it got; a temporary file that names no key
// goes.
func TestOpenKeepsPartialWrites(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w, err := s.Create(ctx, "audio/abc.flac")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("fLaC and some frames"))
	os.WriteFile(filepath.Join(dir, tmpDir, "stray"), []byte("x"), 0o600)
	// The process dies here: no Commit, no Abort.
	if s, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	b, err := s.Open(ctx, PartialPrefix+"audio/abc.flac")
	if err != nil {
		t.Fatalf("the partial write is gone: %v", err)
	}
	got, _ := io.ReadAll(b)
	b.Close()
	if string(got) != "fLaC and some frames" {
		t.Errorf("kept %q", got)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, tmpDir)); len(ents) != 0 {
		t.Errorf("left in %s: %v", tmpDir, ents)
	}
}
