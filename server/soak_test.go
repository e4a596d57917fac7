package server

import (
	"context"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"talkratio/call"
	"talkratio/disk"
	"talkratio/whipclient"
)

// A bounded soak: rounds of concurrent calls, each watched on its
// websocket, published, ended with DELETE or dropped without it; after
// the last round and the server's close, no goroutine is left behind.
// (The load tool's -soak mode runs the long version against a real
// process and reports goroutines and RSS; see README.)
func TestSoakLeavesNothingBehind(t *testing.T) {
	if testing.Short() {
		t.Skip("soak")
	}
	ignore := goleak.IgnoreCurrent()
	start := runtime.NumGoroutine()
	defer func() {
		// Connections wind down on timers of their own; give them a few
		// seconds before calling anything left a leak.
		for deadline := time.Now().Add(10 * time.Second); runtime.NumGoroutine() > start && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond)
		}
		goleak.VerifyNone(t, ignore)
	}()
	const rounds, callsPerRound = 3, 6
	dir := t.TempDir()
	st, err := disk.Open(dir, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Logger: quietLogger(), Store: st, Audio: st, WHIPRate: 1000, RecordAudio: true,
		ICEDisconnected: 300 * time.Millisecond, ICEFailed: 800 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	rep := oggPackets(t, "testdata/rep.opus")[:100] // 2 s
	base := runtime.NumGoroutine()
	for round := range rounds {
		var wg sync.WaitGroup
		for i := range callsPerRound {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				pub, err := whipclient.Publish(ctx, whipclient.PublishOptions{
					Endpoint: ts.URL + "/whip?name=soak",
					Tracks:   []whipclient.TrackSpec{{StreamID: "rep", TrackID: "rep"}, {StreamID: "customer", TrackID: "customer"}},
				})
				if err != nil {
					t.Error(err)
					return
				}
				_, final := watchCall(t, ts.URL, pub.CallID())
				for _, p := range rep {
					pub.WriteSample(0, p, 20*time.Millisecond)
					pub.WriteSample(1, p, 20*time.Millisecond)
					time.Sleep(5 * time.Millisecond)
				}
				if i%3 == 2 {
					pub.Abort() // gone without DELETE: ended at the ICE timeout
				} else if err := pub.Close(ctx); err != nil {
					t.Error(err)
				}
				final()
			}()
		}
		wg.Wait()
		deadline := time.Now().Add(10 * time.Second)
		for srv.calls.Len() > 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if n := srv.calls.Len(); n > 0 {
			t.Fatalf("round %d: %d calls still live", round, n)
		}
		t.Logf("round %d: goroutines %d (before the rounds: %d)", round, runtime.NumGoroutine(), base)
	}
	if _, total, _ := st.List(context.Background(), call.ListQuery{}); total != rounds*callsPerRound {
		t.Errorf("%d calls stored, want %d", total, rounds*callsPerRound)
	}
	ts.Close()
	srv.Close()
}
