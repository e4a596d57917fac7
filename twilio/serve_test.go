package twilio_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"talkratio/disk"
	"talkratio/ingest"
	"talkratio/ingest/ingesttest"
	"talkratio/server"
	"talkratio/twilio"
)

// TestServe publishes the stereo test call into `talkratio serve`'s
// service with Twilio on, in real time, as Twilio's Media Streams do: the
// call is a live call like any other (in the call list while live, its
// websocket sending snapshots, its audio recorded), and the record stored
// at its end has analyze's listen % within 1 pp. A bad signature gets 403
// from the service.
func TestServe(t *testing.T) {
	if testing.Short() {
		t.Skip("a 31 s call in real time; run without -short")
	}
	t.Parallel()
	rep, cust, err := ingesttest.Fixture()
	if err != nil {
		t.Fatal(err)
	}
	want, err := ingesttest.AnalyzeChannels(rep, cust, ingesttest.FixtureRate)
	if err != nil {
		t.Fatal(err)
	}
	lib, err := disk.Open(t.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Store:  lib, Audio: lib, RecordAudio: true,
		Ingest: server.Ingest{Twilio: &twilio.Config{AuthToken: []byte(testToken)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/ingest/twilio"

	if _, status, err := dial(t, url, "not the auth token"); err == nil || status != http.StatusForbidden {
		t.Errorf("a wrong signature: status %d, err %v; want 403", status, err)
	}
	if _, status, err := dial(t, url, ""); err == nil || status != http.StatusForbidden {
		t.Errorf("no signature: status %d, err %v; want 403", status, err)
	}

	c, status, err := dial(t, url, testToken)
	if err != nil {
		t.Fatalf("dial: %v (status %d)", err, status)
	}
	for _, step := range []func() error{
		c.connected,
		func() error { return c.start(map[string]string{"rep": "Dana", "customer": "Acme"}) },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	published := make(chan error, 1)
	go func() {
		err := c.publish(1, nil)
		if err == nil {
			err = c.stop()
		}
		published <- err
	}()
	// While it runs, the call is live on the dashboard's websocket.
	live := ingesttest.WaitLive(t, hs.URL, ingest.SourceTwilio, 10*time.Second)
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+"/ws/calls/"+live.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	var snap struct {
		Call struct {
			State, Rep string
		}
		NowS float64 `json:"now_s"`
	}
	for snap.NowS < 3 {
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		if err := ws.ReadJSON(&snap); err != nil {
			t.Fatalf("websocket of the live call: %v", err)
		}
	}
	ws.Close()
	if snap.Call.State != "live" || snap.Call.Rep != "Dana" {
		t.Errorf("snapshot %+v", snap)
	}
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	got := ingesttest.WaitStored(t, hs.URL, ingest.SourceTwilio, 1, 20*time.Second)[0]
	if res, err := http.Get(hs.URL + "/api/calls/" + got.ID + "/audio"); err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("recorded audio: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	if got.Rep != "Dana" || got.Customer != "Acme" || got.ListenPct == nil {
		t.Fatalf("stored %+v", got)
	}
	d := *got.ListenPct - *want.ListenPct
	t.Logf("stored listen %.1f%% vs analyze %.1f%% (delta %+.2f pp); duration %.2f s vs %.2f s, missing %.2f s",
		*got.ListenPct, *want.ListenPct, d, got.DurationS, want.DurationS, got.MissingS)
	if d > 1 || d < -1 {
		t.Errorf("stored listen %% differs from analyze by %.2f pp", d)
	}
	if got.MissingS > 0.1 {
		t.Errorf("missing audio %.2f s", got.MissingS)
	}
}
