package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"talkratio/audio"
	"talkratio/auth"
	"talkratio/call"
	"talkratio/disk"
	"talkratio/server"
)

// writeToneWAV writes a short stereo call: a tone on the left, then on
// the right.
func writeToneWAV(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := audio.NewWAVWriter(f, 8000, 2)
	if err != nil {
		t.Fatal(err)
	}
	l, r := make([]float32, 16000), make([]float32, 16000)
	for i := range 8000 {
		l[i] = float32(0.2 * math.Sin(float64(i)*0.3))
		r[8000+i] = l[i]
	}
	if err := w.Write([][]float32{l, r}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// importService is a service on a data directory, behind a test HTTP
// server that counts the answers it gives to uploads.
type importService struct {
	url     string
	store   *disk.Store
	refused atomic.Int64 // uploads answered 429
}

func newImportService(t *testing.T, cfg server.Config) *importService {
	t.Helper()
	st, err := disk.Open(t.TempDir(), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store, cfg.Audio, cfg.Staging, cfg.Logger = st, st, st, quietLog()
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	is := &importService{store: st}
	h := srv.Handler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if r.Method == http.MethodPost && rec.code == http.StatusTooManyRequests {
			is.refused.Add(1)
		}
	}))
	t.Cleanup(func() {
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		srv.Drain(ctx)
		srv.Close()
	})
	is.url = ts.URL
	return is
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

// names lists the stored calls' names, sorted.
func (is *importService) names(t *testing.T) []string {
	t.Helper()
	rows, _, err := is.store.List(context.Background(), call.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, r.Name)
	}
	slices.Sort(out)
	return out
}

func runCapture(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// A directory is imported through the API, each call named after its
// file; a file that fails is reported and the rest go on; run again, the
// command uploads only what is not in yet.
func TestImportResumes(t *testing.T) {
	is := newImportService(t, server.Config{UploadRate: 1000})
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "week2"), 0o755)
	for _, n := range []string{"a.wav", "b.WAV", "week2/c.wav"} {
		writeToneWAV(t, filepath.Join(dir, n))
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not audio"), 0o644)
	broken := filepath.Join(dir, "broken.wav")
	os.WriteFile(broken, []byte("RIFF nonsense"), 0o644)
	state := filepath.Join(t.TempDir(), "state.tsv")

	code, out, errOut := runCapture("import", "-url", is.url, "-state", state, "-rep", "Dana", dir)
	if code != exitFail || !strings.Contains(errOut, "broken.wav: 400 Bad Request") || !strings.Contains(errOut, "3 uploaded, 0 imported before, 1 failed (of 4)") {
		t.Fatalf("first run: exit %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("first run: stdout %q, want a line per file imported", out)
	}
	for _, l := range lines {
		file, id, _ := strings.Cut(l, "\t")
		rec, err := is.store.Get(context.Background(), id)
		if err != nil {
			t.Fatalf("%q: the call %q: %v", l, id, err)
		}
		if want := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)); rec.Name != want || rec.Rep != "Dana" {
			t.Errorf("%s stored as %q by %q, want %q by Dana", file, rec.Name, rec.Rep, want)
		}
	}
	if got := is.names(t); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("stored %v", got)
	}

	// Again: nothing is uploaded twice; the broken file is tried again.
	code, out, errOut = runCapture("import", "-url", is.url, "-state", state, dir)
	if code != exitFail || strings.Count(out, "skipped: imported before as ") != 3 || !strings.Contains(errOut, "0 uploaded, 3 imported before, 1 failed") {
		t.Errorf("second run: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// Fixed, it goes in alone.
	writeToneWAV(t, broken)
	code, _, errOut = runCapture("import", "-url", is.url, "-state", state, dir)
	if code != exitOK || !strings.Contains(errOut, "1 uploaded, 3 imported before, 0 failed") {
		t.Errorf("third run: exit %d, stderr %q", code, errOut)
	}
	if got := is.names(t); !slices.Equal(got, []string{"a", "b", "broken", "c"}) {
		t.Errorf("stored %v", got)
	}
}

// A client held to the upload rate waits as the service asks (429 and
// Retry-After) and gets everything in; an admin token is not held to it.
func TestImportWaitsOutTheRateLimit(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	a, err := auth.New(key)
	if err != nil {
		t.Fatal(err)
	}
	mint := func(g auth.Grants) string {
		tok, err := a.Mint("importer", g, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "token")
		os.WriteFile(p, []byte(tok+"\n"), 0o600)
		return p
	}
	dir := t.TempDir()
	for _, n := range []string{"1.wav", "2.wav", "3.wav", "4.wav", "5.wav"} {
		writeToneWAV(t, filepath.Join(dir, n))
	}
	for _, tc := range []struct {
		name    string
		grants  auth.Grants
		limited bool
	}{
		{"publisher", auth.Grants{Publish: true}, true},
		{"admin", auth.Grants{Admin: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Burst 3, then one upload a second.
			is := newImportService(t, server.Config{Auth: a, UploadRate: 1})
			code, out, errOut := runCapture("import", "-url", is.url, "-token-file", mint(tc.grants), "-state", filepath.Join(t.TempDir(), "s"), dir)
			if code != exitOK || strings.Count(out, "\n") != 5 || len(is.names(t)) != 5 {
				t.Fatalf("exit %d, stdout %q, stderr %q, stored %v", code, out, errOut, is.names(t))
			}
			if refused := is.refused.Load(); tc.limited != (refused > 0) {
				t.Errorf("%d uploads refused with 429; limited %v", refused, tc.limited)
			}
		})
	}
}

func TestImportUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"import"}, "give a directory or files"},
		{[]string{"import", "-rep-channel", "middle", "x.wav"}, "want left or right"},
		{[]string{"import", "/nonexistent/dir"}, "no such file"},
	} {
		code, _, errOut := runCapture(tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d with %q", tc.args, code, errOut, exitUsage, tc.msg)
		}
	}
	empty := t.TempDir()
	if code, _, errOut := runCapture("import", empty); code != exitUsage || !strings.Contains(errOut, "no .wav files") {
		t.Errorf("empty dir: exit %d, stderr %q", code, errOut)
	}
}

func serverConfigOpen() server.Config { return server.Config{UploadRate: 1000} }
