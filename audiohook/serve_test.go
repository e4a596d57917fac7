package audiohook_test

import (
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"talkratio/audiohook"
	"talkratio/ingest"
	"talkratio/ingest/ingesttest"
	"talkratio/server"
)

// TestServe publishes the stereo test call into `talkratio serve`'s
// service with AudioHook on, in real time, as Genesys does: once whole,
// and once with a 3 s pause (paused, then resumed with the time
// discarded). Each is a live call like any other; the records stored at
// their ends have analyze's listen % within 1 pp, the paused one with the
// pause as missing audio. A wrong key or signature gets 401.
func TestServe(t *testing.T) {
	if testing.Short() {
		t.Skip("31 s calls in real time; run without -short")
	}
	t.Parallel()
	rep, cust, err := ingesttest.Fixture()
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := base64.StdEncoding.DecodeString(testSecretB64)
	srv, err := server.New(server.Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Ingest: server.Ingest{AudioHook: &audiohook.Config{Keys: map[string][]byte{testKey: secret}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/ingest/audiohook"

	for _, h := range []http.Header{
		signedHeaders(url, "not-a-key", testSecretB64, uuid4(), time.Now(), nonce()),
		signedHeaders(url, testKey, base64.StdEncoding.EncodeToString([]byte("not the secret")), uuid4(), time.Now(), nonce()),
	} {
		if _, status, err := dial(t, url, h); err == nil || status != http.StatusUnauthorized {
			t.Errorf("a wrong key or signature: status %d, err %v; want 401", status, err)
		}
	}

	const pauseFrom, pauseS = 12.0, 3.0
	publish := func(conversation string, pause bool) {
		c, status, err := dial(t, url, signedHeaders(url, testKey, testSecretB64, uuid4(), time.Now(), nonce()))
		if err != nil {
			t.Errorf("dial: %v (status %d)", err, status)
			return
		}
		if m, err := c.open(conversation); err != nil || m.Type != "opened" {
			t.Errorf("open: %v %+v", err, m)
			return
		}
		const frame = 800 // 100 ms, as Genesys sends
		start := time.Now()
		// Frames [first, last] are not sent.
		first, last := int(pauseFrom*10), int((pauseFrom+pauseS)*10)-1
		for i := 0; i*frame < len(rep); i++ {
			if pause && i >= first && i <= last {
				if i == first {
					if err := c.send("paused", struct{}{}); err != nil {
						t.Error(err)
						return
					}
				}
				c.pos += frame * time.Second / 8000
				if i == last {
					if err := c.send("resumed", map[string]any{"start": duration(time.Duration(pauseFrom * float64(time.Second))), "discarded": duration(time.Duration(pauseS * float64(time.Second)))}); err != nil {
						t.Error(err)
						return
					}
				}
			} else {
				end := min(len(rep), (i+1)*frame)
				if err := c.audio(rep[i*frame:end], cust[i*frame:end]); err != nil {
					t.Error(err)
					return
				}
			}
			time.Sleep(time.Until(start.Add(time.Duration(i+1) * 100 * time.Millisecond)))
		}
		if err := c.closeSession("end"); err != nil {
			t.Error(err)
		}
	}
	done := make(chan struct{})
	go func() { defer close(done); publish("11111111-72fa-480a-83e0-8667ff89c0ec", true) }()
	publish(testConversation, false)
	<-done
	if t.Failed() {
		return
	}
	calls := ingesttest.WaitStored(t, hs.URL, ingest.SourceAudioHook, 2, 20*time.Second)
	for _, got := range calls {
		paused := strings.HasPrefix(got.Name, "audiohook 1111")
		var gaps [][2]float64
		if paused {
			gaps = append(gaps, [2]float64{pauseFrom, pauseFrom + pauseS})
		}
		tl, err := ingesttest.Expected(rep, cust, ingesttest.FixtureRate, gaps...)
		if err != nil {
			t.Fatal(err)
		}
		want, err := tl.Analyze()
		if err != nil {
			t.Fatal(err)
		}
		if got.ListenPct == nil || got.Customer != "John Doe" {
			t.Fatalf("stored %+v", got)
		}
		d := *got.ListenPct - *want.ListenPct
		t.Logf("%s (paused %v): stored listen %.1f%% vs analyze %.1f%% (delta %+.2f pp); missing %.2f s vs %.2f s",
			got.Name, paused, *got.ListenPct, *want.ListenPct, d, got.MissingS, want.MissingAudioS)
		if d > 1 || d < -1 {
			t.Errorf("stored listen %% differs from analyze by %.2f pp", d)
		}
		if got.MissingS < want.MissingAudioS-0.1 || got.MissingS > want.MissingAudioS+0.1 {
			t.Errorf("missing audio %.2f s, want %.2f s", got.MissingS, want.MissingAudioS)
		}
	}
}
