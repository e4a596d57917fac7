// Package blobtest is the conformance suite every call.BlobStore passes,
// and the audio and staging built on it (blobfiles) with it.
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"talkratio/blobfiles"
	"talkratio/call"
)

// Open returns an empty blob store; the suite calls it once per test.
type Open func(t *testing.T) call.BlobStore

// Run runs the suite.
func Run(t *testing.T, open Open) {
	t.Run("WriteSeekCommit", func(t *testing.T) { testWrite(t, open(t)) })
	t.Run("MoveDeleteList", func(t *testing.T) { testMove(t, open(t)) })
	t.Run("RangeReplay", func(t *testing.T) { testRange(t, open(t)) })
	t.Run("AudioAndStaging", func(t *testing.T) { testFiles(t, open(t)) })
}

func put(t *testing.T, b call.BlobStore, key string, data []byte) {
	t.Helper()
	w, err := b.Create(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, b call.BlobStore, key string) []byte {
	t.Helper()
	r, err := b.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("open %s: %v", key, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(data)) != r.Size() {
		t.Errorf("%s: read %d bytes, Size says %d", key, len(data), r.Size())
	}
	return data
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

// A blob is written with a seek back (a WAV header last), appears only on
// Commit and whole, replaces the one before; an aborted one leaves nothing.
func testWrite(t *testing.T, b call.BlobStore) {
	ctx := context.Background()
	body := pattern(300_000)
	w, err := b.Create(ctx, "audio/a.wav")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, 44)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(body[44:]); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Open(ctx, "audio/a.wav"); !errors.Is(err, call.ErrNotFound) {
		t.Errorf("before Commit: %v, want ErrNotFound", err)
	}
	if _, err := w.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(body[:44]); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := read(t, b, "audio/a.wav"); !bytes.Equal(got, body) {
		t.Errorf("read back %d bytes, not what was written", len(got))
	}
	put(t, b, "audio/a.wav", []byte("second"))
	if got := read(t, b, "audio/a.wav"); string(got) != "second" {
		t.Errorf("replaced: %q", got)
	}
	w, err = b.Create(ctx, "audio/b.wav")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("never"))
	w.Abort()
	w.Abort()
	if _, err := b.Open(ctx, "audio/b.wav"); !errors.Is(err, call.ErrNotFound) {
		t.Errorf("after Abort: %v, want ErrNotFound", err)
	}
	if keys, err := b.List(ctx, ""); err != nil || !slices.Equal(keys, []string{"audio/a.wav"}) {
		t.Errorf("after Abort the store holds %v (%v)", keys, err)
	}
	for _, bad := range []string{"../x", "/etc/passwd", "a/../../x"} {
		if w, err := b.Create(ctx, bad); err == nil {
			w.Abort()
			t.Errorf("Create(%q): no error", bad)
		}
		if _, err := b.Open(ctx, bad); !errors.Is(err, call.ErrNotFound) {
			t.Errorf("Open(%q): %v, want ErrNotFound", bad, err)
		}
	}
}

func testMove(t *testing.T, b call.BlobStore) {
	ctx := context.Background()
	for _, k := range []string{"kept/c1/rep.wav", "kept/c1/customer.wav", "kept/c10/x.wav", "staging/u1", "audio/c1.wav"} {
		put(t, b, k, []byte(k))
	}
	if keys, err := b.List(ctx, "kept/c1/"); err != nil || !slices.Equal(keys, []string{"kept/c1/customer.wav", "kept/c1/rep.wav"}) {
		t.Errorf("List kept/c1/: %v %v", keys, err)
	}
	if keys, err := b.List(ctx, "kept/c"); err != nil || len(keys) != 3 {
		t.Errorf("List kept/c: %v %v", keys, err)
	}
	if keys, err := b.List(ctx, "nothing/"); err != nil || len(keys) != 0 {
		t.Errorf("List nothing/: %v %v", keys, err)
	}
	if err := b.Move(ctx, "staging/u1", "kept/c2/stereo.wav"); err != nil {
		t.Fatal(err)
	}
	if got := read(t, b, "kept/c2/stereo.wav"); string(got) != "staging/u1" {
		t.Errorf("moved: %q", got)
	}
	if _, err := b.Open(ctx, "staging/u1"); !errors.Is(err, call.ErrNotFound) {
		t.Errorf("moved from: %v", err)
	}
	if err := b.Move(ctx, "staging/none", "kept/x"); !errors.Is(err, call.ErrNotFound) {
		t.Errorf("Move of nothing: %v, want ErrNotFound", err)
	}
	if err := b.Delete(ctx, "audio/c1.wav"); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, "audio/c1.wav"); err != nil {
		t.Errorf("Delete twice: %v", err)
	}
	if _, err := b.Open(ctx, "audio/c1.wav"); !errors.Is(err, call.ErrNotFound) {
		t.Errorf("deleted: %v", err)
	}
}

// Replay is served with HTTP Range from any blob store: seeks land where
// asked.
func testRange(t *testing.T, b call.BlobStore) {
	body := pattern(1 << 20)
	put(t, b, "audio/r.wav", body)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		blob, err := b.Open(r.Context(), "audio/r.wav")
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer blob.Close()
		http.ServeContent(w, r, "r.wav", blob.ModTime(), blob)
	}))
	defer ts.Close()
	for _, rg := range []struct {
		header   string
		from, to int
	}{{"bytes=0-99", 0, 100}, {"bytes=500000-500999", 500000, 501000}, {"bytes=-10", len(body) - 10, len(body)}, {"bytes=1048000-", 1048000, len(body)}} {
		req, _ := http.NewRequest("GET", ts.URL, nil)
		req.Header.Set("Range", rg.header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(got, body[rg.from:rg.to]) {
			t.Errorf("Range %s: status %d, %d bytes, want bytes %d-%d", rg.header, resp.StatusCode, len(got), rg.from, rg.to)
		}
	}
}

// Audio and staged uploads on the blob store behave as the disk's do.
func testFiles(t *testing.T, b call.BlobStore) {
	ctx := context.Background()
	f := blobfiles.New(b)
	w, err := f.CreateAudio(ctx, "call1")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("RIFFaudio"))
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	a, err := f.OpenAudio(ctx, "call1")
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	if _, err := f.OpenAudio(ctx, "call2"); !errors.Is(err, call.ErrNotFound) {
		t.Errorf("no audio: %v", err)
	}
	st, err := f.Stage(ctx, strings.NewReader("upload body"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.Stage(ctx, strings.NewReader("discarded"))
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Discard(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Keep(ctx, "call1", "stereo"); err != nil {
		t.Fatal(err)
	}
	if err := st.Keep(ctx, "call1", "../x"); err == nil {
		t.Error("Keep with a bad part: no error")
	}
	kept, err := f.Kept(ctx, "call1")
	if err != nil || len(kept) != 1 || kept["stereo"] == nil {
		t.Fatalf("kept: %v %v", kept, err)
	}
	r, err := kept["stereo"].Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if string(got) != "upload body" {
		t.Errorf("kept file: %q", got)
	}
	if err := f.DeleteAudio(ctx, "call1"); err != nil {
		t.Fatal(err)
	}
	if keys, err := b.List(ctx, ""); err != nil || len(keys) != 0 {
		t.Errorf("after DeleteAudio and Discard the store holds %v (%v)", keys, err)
	}
	testLegacyAudio(t, b, f)
}

// Audio stored as WAV before FLAC is still served and deleted, and new
// audio for the call replaces it.
func testLegacyAudio(t *testing.T, b call.BlobStore, f *blobfiles.Files) {
	ctx := context.Background()
	read := func() string {
		t.Helper()
		a, err := f.OpenAudio(ctx, "old")
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		got, _ := io.ReadAll(a)
		return string(got)
	}
	put(t, b, "audio/old.wav", []byte("RIFFold"))
	if got := read(); got != "RIFFold" {
		t.Errorf("legacy audio read as %q", got)
	}
	w, err := f.CreateAudio(ctx, "old")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("fLaCnew"))
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != "fLaCnew" {
		t.Errorf("after new audio: %q", got)
	}
	if keys, _ := b.List(ctx, "audio/"); !slices.Equal(keys, []string{"audio/old.flac"}) {
		t.Errorf("audio keys %v, want only the new audio", keys)
	}
	put(t, b, "audio/old.wav", []byte("RIFFold"))
	if err := f.DeleteAudio(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	if keys, _ := b.List(ctx, ""); len(keys) != 0 {
		t.Errorf("after DeleteAudio: %v", keys)
	}
}
