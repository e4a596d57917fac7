package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"talkratio/call"
	"talkratio/disk"
	"talkratio/whipclient"
)

// Issue 10, point 2: a live call that ends while the store is full is
// never reported stored: its WHIP DELETE gets 507, the failure is counted,
// the call is kept and retried, and it is in the library, ended, once
// there is room again.
func TestLiveCallEndsOnFullDisk(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st, err := disk.Open(dir, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	e := &enospc{Store: st}
	srv, ts := newTestServer(t, Config{Store: e})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pub, err := whipclient.Publish(ctx, whipclient.PublishOptions{
		Endpoint: ts.URL + "/whip?name=full",
		Tracks:   []whipclient.TrackSpec{{StreamID: "rep", TrackID: "rep"}, {StreamID: "customer", TrackID: "customer"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	pkts := oggPackets(t, "testdata/rep.opus")[:100]
	sendPaced(t, pub, pkts, pkts)
	e.full.Store(true)
	code, body := do(t, "DELETE", pub.Location(), "", nil, nil)
	if code != http.StatusInsufficientStorage || !strings.Contains(body, "kept") || strings.Contains(body, "/abs") {
		t.Fatalf("WHIP DELETE on a full disk: %d %s", code, body)
	}
	if testutil.ToFloat64(srv.m.storeErrors) < 1 {
		t.Error("the refused write is not counted")
	}
	// Meanwhile the call is not lost from view: its record from the start
	// (and last checkpoint) stands, listed as live, never as stored.
	if rec, err := st.Get(ctx, pub.CallID()); err != nil || rec.State != call.StateLive {
		t.Fatalf("while the store is full: %+v %v, want the live record kept", rec, err)
	}
	if m := getCall(t, ts.URL, pub.CallID()); m["state"] != call.StateLive {
		t.Errorf("listed while the store is full: %v", m["state"])
	}
	// Should the process die now, with the disk still full, a restart on
	// its data directory lists the call as interrupted. (The first service
	// runs on here, but its retries write nothing while the store is full.)
	_, restarted := newDiskServer(t, dir, Config{})
	if m := getCall(t, restarted, pub.CallID()); m["state"] != call.StateInterrupted {
		t.Errorf("after a restart on the full disk: %v, want interrupted", m["state"])
	}
	e.full.Store(false)
	for {
		rec, err := st.Get(ctx, pub.CallID())
		if err == nil && rec.State == call.StateEnded {
			if rec.DurationS < 1.5 || rec.Result == nil {
				t.Errorf("stored after the disk had room: %v s, %+v", rec.DurationS, rec.Result)
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("never stored once there was room: %+v %v", rec, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for srv.calls.Get(pub.CallID()) != nil {
		if ctx.Err() != nil {
			t.Fatal("the stored call is still registered")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Issue 10, point 2: /readyz fails while the space left is below the
// threshold, so that new calls go elsewhere before writes fail.
func TestReadyzLowOnSpace(t *testing.T) {
	free := int64(10 << 20)
	_, ts := newTestServer(t, Config{MinFreeSpace: 64 << 20, FreeSpace: func() (int64, error) { return free, nil }})
	if code, body := do(t, "GET", ts.URL+"/readyz", "", nil, nil); code != 503 || !strings.Contains(body, "10 MiB free") {
		t.Errorf("low on space: %d %s", code, body)
	}
	free = 1 << 30
	if code, _ := do(t, "GET", ts.URL+"/readyz", "", nil, nil); code != 200 {
		t.Errorf("with room: %d", code)
	}
}
