package main

import (
	"bytes"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"talkratio/server"
)

// On a terminal, `talkratio import` shows each file's upload progress on
// one line of stderr (issue 11, point 11) and erases it before writing
// anything else: the screen ends with every file's line and the summary
// whole, and no progress left over.
func TestImportProgressOnTerminal(t *testing.T) {
	is := newImportService(t, server.Config{UploadRate: 1000})
	dir := t.TempDir()
	for _, n := range []string{"a.wav", "b.wav", "c.wav"} {
		writeToneWAV(t, filepath.Join(dir, n))
	}
	m, s := openPTY(t)
	defer m.Close()
	var got bytes.Buffer
	read := make(chan struct{})
	go func() {
		io.Copy(&got, m) // ends with EIO once the slave is closed
		close(read)
	}()
	code := run([]string{"import", "-url", is.url, "-state", filepath.Join(t.TempDir(), "state.tsv"), dir}, s, s)
	s.Close()
	<-read
	if code != exitOK {
		t.Fatalf("exit %d on a terminal:\n%q", code, got.String())
	}
	for _, f := range []string{"a.wav", "b.wav", "c.wav"} {
		if !regexp.MustCompile(`\r\033\[K[^\r\n]*` + regexp.QuoteMeta(f) + `: 100% of [0-9.]+ MB`).Match(got.Bytes()) {
			t.Errorf("no progress shown for %s:\n%q", f, got.String())
		}
	}
	shown := screen(got.Bytes())
	if len(shown) > 0 && shown[len(shown)-1] == "" {
		shown = shown[:len(shown)-1]
	}
	if len(shown) != 4 {
		t.Fatalf("the screen shows %d lines, want a line per file and the summary:\n%s", len(shown), strings.Join(shown, "\n"))
	}
	for i, f := range []string{"a.wav", "b.wav", "c.wav"} {
		file, id, ok := strings.Cut(shown[i], "\t")
		if !ok || file != filepath.Join(dir, f) || id == "" || strings.Contains(id, "%") {
			t.Errorf("line %d on the screen %q, want %s, a tab and its call's id", i+1, shown[i], filepath.Join(dir, f))
		}
	}
	if want := "talkratio import: 3 uploaded, 0 imported before, 0 failed (of 3)"; shown[3] != want {
		t.Errorf("last line on the screen %q, want %q", shown[3], want)
	}
}
