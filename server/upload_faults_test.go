package server

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"talkratio/call"
	"talkratio/disk"
)

// slowServer is a disk-backed service whose HTTP server has a short
// ReadTimeout, as `serve` has a 60 s one.
func slowServer(t *testing.T, readTimeout, stall time.Duration) (*Server, string, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := disk.Open(dir, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Logger: quietLogger(), Store: st, Audio: st, Staging: st, UploadRate: 1000, UploadStallTimeout: stall})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.Config.ReadTimeout = readTimeout
	ts.Start()
	t.Cleanup(func() { ts.Close(); srv.Close() })
	return srv, ts.URL, dir
}

// pipeUpload posts an upload whose body is written by send, as it goes.
func pipeUpload(t *testing.T, url string, send func(w io.Writer)) (*http.Response, []byte, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		fw, _ := mw.CreateFormFile("audio", "slow.wav")
		send(fw)
		mw.Close()
		pw.Close()
	}()
	resp, err := http.Post(url+"/api/calls", mw.FormDataContentType(), pr)
	pr.CloseWithError(io.ErrClosedPipe) // unblocks a sender the server stopped reading
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b, nil
}

// Issue 10, point 1: an upload that takes far longer to send than the
// server's ReadTimeout, but keeps coming, is received and analyzed; one
// that stalls is cut with 408 and leaves nothing.
func TestSlowUploads(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "c.wav")
	writeCallWAV(t, p, 8000, 3, testRep, testCust)
	wav, _ := os.ReadFile(p)

	// 6x the ReadTimeout to send, in 30 pieces.
	const readTimeout = 250 * time.Millisecond
	_, base, _ := slowServer(t, readTimeout, 5*time.Second)
	start := time.Now()
	resp, b, err := pipeUpload(t, base, func(w io.Writer) {
		piece := len(wav)/30 + 1
		for i := 0; i < len(wav); i += piece {
			w.Write(wav[i:min(i+piece, len(wav))])
			time.Sleep(50 * time.Millisecond)
		}
	})
	if err != nil || resp.StatusCode != 202 {
		t.Fatalf("slow steady upload: %v %v %s", err, resp, b)
	}
	took := time.Since(start)
	if took < 4*readTimeout {
		t.Fatalf("the upload took %v: not slower than the ReadTimeout, so this proves nothing", took)
	}
	var sum call.Summary
	json.Unmarshal(b, &sum)
	if m := waitAnalyzed(t, base, sum.ID); m["state"] != call.StateEnded {
		t.Errorf("the slow upload: %v", m["state"])
	}
	t.Logf("a %d-byte upload sent over %v (ReadTimeout %v) was stored", len(wav), took.Round(time.Millisecond), readTimeout)

	// A stalled one.
	srv2, base2, dir2 := slowServer(t, time.Minute, 300*time.Millisecond)
	stop := make(chan struct{})
	resp, b, err = pipeUpload(t, base2, func(w io.Writer) {
		w.Write(wav[:len(wav)/2])
		<-stop
	})
	close(stop)
	if err == nil && resp.StatusCode == 202 {
		t.Fatalf("a stalled upload was taken: %s", b)
	}
	if err == nil && (resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), "stalled")) {
		t.Errorf("stalled upload: %d %s", resp.StatusCode, b)
	}
	if _, total, _ := srv2.store.List(context.Background(), call.ListQuery{}); total != 0 {
		t.Errorf("a stalled upload left %d calls", total)
	}
	if files := dirFiles(t, filepath.Join(dir2, "tmp")); len(files) != 0 {
		t.Errorf("a stalled upload left %v", files)
	}
}

// enospc is a staging and store that run out of room on demand.
type enospc struct {
	*disk.Store
	full atomic.Bool
}

func (e *enospc) err(op string) error {
	return &fs.PathError{Op: op, Path: "/abs/secret/data/tmp/upload-1.wav", Err: syscall.ENOSPC}
}

func (e *enospc) Stage(ctx context.Context, r io.Reader) (call.Staged, error) {
	if e.full.Load() {
		io.CopyN(io.Discard, r, 1<<10)
		return nil, e.err("write")
	}
	return e.Store.Stage(ctx, r)
}

func (e *enospc) Put(ctx context.Context, r *call.Record) error {
	if e.full.Load() {
		return e.err("write")
	}
	return e.Store.Put(ctx, r)
}

// Issue 10, point 13: a full disk while an upload comes in is the
// server's fault: 507 with Retry-After, a message with no path, a count
// in talkratio_store_errors_total; nothing is half stored.
func TestUploadOnFullDisk(t *testing.T) {
	st, err := disk.Open(t.TempDir(), quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	e := &enospc{Store: st}
	srv, ts := newTestServer(t, Config{Store: e, Audio: st, Staging: e})
	p := filepath.Join(t.TempDir(), "c.wav")
	writeCallWAV(t, p, 8000, 2, testRep, testCust)
	e.full.Store(true)
	for range 2 {
		body, ctype := form(t, nil, map[string]string{"audio": p})
		resp, b := post(t, ts.URL+"/api/calls", body, ctype)
		if resp.StatusCode != http.StatusInsufficientStorage || resp.Header.Get("Retry-After") == "" || strings.Contains(string(b), "/abs") || !strings.Contains(string(b), "no room") {
			t.Errorf("upload on a full disk: %d %s", resp.StatusCode, b)
		}
	}
	if got := testutil.ToFloat64(srv.m.storeErrors); got != 2 {
		t.Errorf("talkratio_store_errors_total %v, want 2", got)
	}
	e.full.Store(false)
	body, ctype := form(t, nil, map[string]string{"audio": p})
	if resp, b := post(t, ts.URL+"/api/calls", body, ctype); resp.StatusCode != 202 {
		t.Errorf("once there is room: %d %s", resp.StatusCode, b)
	}
}
