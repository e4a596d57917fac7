package twilio_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"talkratio/ingest"
	"talkratio/ingest/ingesttest"
	"talkratio/twilio"
)

type rig struct {
	parent  *ingesttest.Parent
	handler *twilio.Handler
	srv     *httptest.Server
	metrics *twilio.Metrics
	url     string
}

func newRig(t *testing.T, mod func(*twilio.Config)) *rig {
	t.Helper()
	r := &rig{parent: ingesttest.NewParent(), metrics: twilio.NewMetrics()}
	cfg := twilio.Config{
		Parent: r.parent, AuthToken: []byte(testToken), Metrics: r.metrics,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if testing.Verbose() {
		cfg.Log = slog.Default()
	}
	if mod != nil {
		mod(&cfg)
	}
	h, err := twilio.NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	if err := ingest.Register(reg, r.metrics.Collectors()...); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ingest/twilio", h)
	r.handler, r.srv = h, httptest.NewServer(mux)
	r.url = "ws" + strings.TrimPrefix(r.srv.URL, "http") + "/ingest/twilio?team=east"
	t.Cleanup(func() {
		h.Close()
		r.srv.Close()
	})
	return r
}

func (r *rig) errors(reason string) float64 {
	return testutil.ToFloat64(r.metrics.Errors.Collector().(*prometheus.CounterVec).WithLabelValues(reason))
}

// TestEndToEnd publishes the stereo test call through the handler the
// way Twilio does, in real time, and holds the delivered audio's listen %
// to analyze's on the same call.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	rep, cust, err := ingesttest.Fixture()
	if err != nil {
		t.Fatal(err)
	}
	want, err := ingesttest.AnalyzeChannels(rep, cust, ingesttest.FixtureRate)
	if err != nil {
		t.Fatal(err)
	}
	speed := 1.0
	if testing.Short() {
		speed = 10
	}
	r := newRig(t, nil)
	c, status, err := dial(t, r.url, testToken)
	if err != nil {
		t.Fatalf("dial: %v (status %d)", err, status)
	}
	for _, step := range []func() error{
		c.connected,
		func() error {
			return c.start(map[string]string{"rep": "Dana", "customer": "Acme", "name": "discovery"})
		},
		func() error { return c.mark("greeting") },
		func() error { return c.dtmf("5") },
		func() error { return c.publish(speed, nil) },
		c.stop,
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	if code, _ := c.closeCode(5 * time.Second); code != websocket.CloseNormalClosure {
		t.Errorf("close code %d after stop", code)
	}
	call := r.parent.Next(t, time.Second)
	if reason := call.Wait(t, 5*time.Second); reason != ingest.EndClosed {
		t.Errorf("ended %q", reason)
	}
	m := call.Meta
	if m.Source != "twilio" || m.ExternalID != c.callSid || m.Rep != "Dana" || m.Customer != "Acme" || m.Name != "discovery" {
		t.Errorf("meta %+v", m)
	}
	got, tl, err := ingesttest.AnalyzeDelivered(call)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ingesttest.ListenDelta(got, want)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v; listen %.1f%% vs analyze %.1f%% (delta %.2f pp), missing %.2f s", call, *got.ListenPct, *want.ListenPct, d, got.MissingAudioS)
	if d > 1 {
		t.Errorf("listen %% differs from analyze by %.2f pp", d)
	}
	if tl.MissingS(ingest.Rep) > 0.03 || tl.MissingS(ingest.Customer) > 0.03 {
		t.Errorf("missing audio: rep %.2f s, customer %.2f s", tl.MissingS(0), tl.MissingS(1))
	}
	if n := testutil.ToFloat64(r.metrics.CallsStarted); n != 1 {
		t.Errorf("calls started %v", n)
	}
}

// TestGaps: a track that skips chunk numbers lost audio (missing); one
// whose timestamps jump with consecutive chunks sent nothing on purpose
// (silence).
func TestGaps(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	c, _, err := dial(t, r.url, testToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.start(nil); err != nil {
		t.Fatal(err)
	}
	pcm := make([]byte, 160)
	for i := range pcm {
		pcm[i] = 0xff // mu-law zero
	}
	for i := range 250 { // 5 s
		// outbound (rep): chunks 51-100 never arrive (1 s lost).
		if i < 50 || i >= 100 {
			c.chunk["outbound"] = i
			if err := c.media("outbound", i*20, pcm); err != nil {
				t.Fatal(err)
			}
		}
		// inbound: nothing sent for 1 s, chunks consecutive (silence).
		if i < 150 || i >= 200 {
			if err := c.media("inbound", i*20, pcm); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := c.stop(); err != nil {
		t.Fatal(err)
	}
	call := r.parent.Next(t, time.Second)
	call.Wait(t, 5*time.Second)
	tl, err := ingesttest.Place(call)
	if err != nil {
		t.Fatal(err)
	}
	if got := tl.MissingS(ingest.Rep); got < 0.99 || got > 1.01 {
		t.Errorf("rep missing %.3f s, want 1 (lost chunks)", got)
	}
	if got := tl.MissingS(ingest.Customer); got > 0.01 {
		t.Errorf("customer missing %.3f s, want 0 (consecutive chunks: silence)", got)
	}
}

// TestRefused: requests Twilio did not sign, or signed for another URL or
// token, get 403 before any websocket; a request that is no websocket 400.
func TestRefused(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	for _, tc := range []struct {
		name, url, token string
		status           int
	}{
		{"no signature", r.url, "", http.StatusForbidden},
		{"wrong token", r.url, "fedcba9876543210fedcba9876543210", http.StatusForbidden},
		{"signed for another query", r.url + "&extra=1", "", http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			switch {
			case tc.token != "":
				h.Set("X-Twilio-Signature", twilio.Signature([]byte(tc.token), tc.url))
			case tc.name == "signed for another query":
				h.Set("X-Twilio-Signature", twilio.Signature([]byte(testToken), r.url))
			}
			_, resp, err := websocket.DefaultDialer.Dial(tc.url, h)
			if err == nil {
				t.Fatal("connected")
			}
			if resp == nil || resp.StatusCode != tc.status {
				t.Fatalf("response %v, want %d", resp, tc.status)
			}
		})
	}
	if n := r.errors("signature"); n != 3 {
		t.Errorf("signature errors %v", n)
	}
	// Signed, but a plain GET.
	req, _ := http.NewRequest(http.MethodGet, r.srv.URL+"/ingest/twilio?team=east", nil)
	req.Header.Set("X-Twilio-Signature", twilio.Signature([]byte(testToken), r.url))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("plain GET: %d", resp.StatusCode)
	}
	if len(r.parent.Calls()) != 0 {
		t.Error("a refused request started a call")
	}
}

// TestProtocolErrors: each message outside the protocol closes the socket
// with a code and a reason, ends the call (if any) with reason error, and
// is counted.
func TestProtocolErrors(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	raw := func(s string) func(c *client) error {
		return func(c *client) error { return c.conn.WriteMessage(websocket.TextMessage, []byte(s)) }
	}
	started := func(then func(c *client) error) func(c *client) error {
		return func(c *client) error {
			if err := c.start(nil); err != nil {
				return err
			}
			return then(c)
		}
	}
	for _, tc := range []struct {
		name   string
		send   func(c *client) error
		code   int
		reason string // metric label
		call   bool   // a call was started (and must end with error)
	}{
		{"not json", raw(`{"event": "media", `), websocket.ClosePolicyViolation, "json", false},
		{"binary", func(c *client) error { return c.conn.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}) }, websocket.ClosePolicyViolation, "json", false},
		{"no event", raw(`{"streamSid": "MZ1"}`), websocket.ClosePolicyViolation, "json", false},
		{"media before start", func(c *client) error { return c.media("inbound", 0, make([]byte, 160)) }, websocket.ClosePolicyViolation, "order", false},
		{"start without callSid", raw(`{"event":"start","sequenceNumber":"1","start":{"streamSid":"MZ1","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}`), websocket.ClosePolicyViolation, "json", false},
		{"linear16", raw(`{"event":"start","sequenceNumber":"1","start":{"streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],"mediaFormat":{"encoding":"audio/l16","sampleRate":16000,"channels":1}},"streamSid":"MZ1"}`), websocket.CloseUnsupportedData, "format", false},
		{"unknown track", raw(`{"event":"start","sequenceNumber":"1","start":{"streamSid":"MZ1","callSid":"CA1","tracks":["both"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"streamSid":"MZ1"}`), websocket.ClosePolicyViolation, "track", false},
		{"bad rep_track", func(c *client) error { return c.start(map[string]string{"rep_track": "left"}) }, websocket.ClosePolicyViolation, "parameter", false},
		{"payload not base64", started(raw(`{"event":"media","sequenceNumber":"2","media":{"track":"inbound","chunk":"1","timestamp":"0","payload":"@@@@"},"streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0"}`)), websocket.ClosePolicyViolation, "payload", true},
		{"payload too long", started(func(c *client) error { return c.media("inbound", 0, make([]byte, 2000)) }), websocket.ClosePolicyViolation, "payload", true},
		{"negative chunk", started(raw(`{"event":"media","sequenceNumber":"2","media":{"track":"inbound","chunk":"-1","timestamp":"0","payload":"//8="},"streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0"}`)), websocket.ClosePolicyViolation, "json", true},
		{"other stream", started(raw(`{"event":"media","sequenceNumber":"2","media":{"track":"inbound","chunk":"1","timestamp":"0","payload":"//8="},"streamSid":"MZother"}`)), websocket.ClosePolicyViolation, "stream", true},
		{"second start", started(func(c *client) error { return c.start(nil) }), websocket.ClosePolicyViolation, "order", true},
		// The websocket library answers 1009 itself, before the handler's
		// close frame.
		{"huge message", started(raw(`{"event":"mark","mark":{"name":"` + strings.Repeat("x", 70000) + `"}}`)), websocket.CloseMessageTooBig, "json", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := r.errors(tc.reason)
			calls := len(r.parent.Calls())
			c, _, err := dial(t, r.url, testToken)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.send(c); err != nil {
				// The server may close on a message too big while the
				// client is still writing it.
				if tc.code != websocket.CloseMessageTooBig {
					t.Fatal(err)
				}
			} else {
				code, text := c.closeCode(5 * time.Second)
				if code != tc.code || (text == "" && code != websocket.CloseMessageTooBig) {
					t.Errorf("closed with %d %q, want %d and a reason", code, text, tc.code)
				}
				t.Logf("closed: %d %q", code, text)
			}
			all := r.parent.Calls()
			if tc.call {
				if len(all) != calls+1 {
					t.Fatalf("%d calls started", len(all)-calls)
				}
				if reason := all[len(all)-1].Wait(t, time.Second); reason != ingest.EndError {
					t.Errorf("call ended %q", reason)
				}
			} else if len(all) != calls {
				t.Errorf("a call started")
			}
			// Counted before the call ends (and before the handler's own
			// close frame).
			if n := r.errors(tc.reason) - before; n != 1 {
				t.Errorf("%s errors +%v", tc.reason, n)
			}
		})
	}
}

func TestBusyAndShutdown(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	r.parent.Busy = fmt.Errorf("at 100 calls: %w", ingest.ErrBusy)
	c, _, err := dial(t, r.url, testToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.start(nil); err != nil {
		t.Fatal(err)
	}
	if code, _ := c.closeCode(5 * time.Second); code != websocket.CloseTryAgainLater {
		t.Errorf("busy: close code %d", code)
	}
	if n := r.errors("busy"); n != 1 {
		t.Errorf("busy errors %v", n)
	}
	r.parent.Busy = nil

	c, _, err = dial(t, r.url, testToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.start(nil); err != nil {
		t.Fatal(err)
	}
	call := r.parent.Next(t, time.Second)
	r.handler.Close()
	if reason := call.Wait(t, time.Second); reason != ingest.EndShutdown {
		t.Errorf("ended %q", reason)
	}
	if code, _ := c.closeCode(5 * time.Second); code != websocket.CloseGoingAway {
		t.Errorf("shutdown: close code %d", code)
	}
	if _, status, err := dial(t, r.url, testToken); err == nil || status != http.StatusServiceUnavailable {
		t.Errorf("after Close: status %d, err %v", status, err)
	}
}

// TestServiceEndsCall: when the service ends the call, the socket closes.
func TestServiceEndsCall(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	c, _, err := dial(t, r.url, testToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.start(nil); err != nil {
		t.Fatal(err)
	}
	r.parent.Next(t, time.Second).End("deleted")
	if code, _ := c.closeCode(5 * time.Second); code != websocket.CloseNormalClosure {
		t.Errorf("close code %d", code)
	}
}

func TestIdle(t *testing.T) {
	t.Parallel()
	r := newRig(t, func(c *twilio.Config) { c.IdleTimeout = 200 * time.Millisecond })
	c, _, err := dial(t, r.url, testToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.start(nil); err != nil {
		t.Fatal(err)
	}
	if reason := r.parent.Next(t, time.Second).Wait(t, 2*time.Second); reason != ingest.EndFailed {
		t.Errorf("ended %q", reason)
	}
	if n := r.errors("idle"); n != 1 {
		t.Errorf("idle errors %v", n)
	}
}

// TestRepTrack: inbound is the rep when the option or the stream's
// rep_track parameter says so.
func TestRepTrack(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		option string
		param  string
		rep    string // the track that must arrive as the rep
	}{
		{"default", "", "", "outbound"},
		{"option", "inbound", "", "inbound"},
		{"parameter", "", "inbound", "inbound"},
		{"parameter over option", "inbound", "outbound", "outbound"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, func(c *twilio.Config) { c.RepTrack = tc.option })
			c, _, err := dial(t, r.url, testToken)
			if err != nil {
				t.Fatal(err)
			}
			var params map[string]string
			if tc.param != "" {
				params = map[string]string{"rep_track": tc.param}
			}
			if err := c.start(params); err != nil {
				t.Fatal(err)
			}
			loud := make([]byte, 160) // mu-law 0x00: full-scale negative
			if err := c.media(tc.rep, 0, loud); err != nil {
				t.Fatal(err)
			}
			if err := c.stop(); err != nil {
				t.Fatal(err)
			}
			call := r.parent.Next(t, time.Second)
			call.Wait(t, 5*time.Second)
			if n := call.Packets(); n != [2]int{1, 0} {
				t.Errorf("packets per role %v, want the rep's only", n)
			}
		})
	}
	if _, err := twilio.NewHandler(twilio.Config{Parent: ingesttest.NewParent(), AuthToken: []byte("x"), RepTrack: "both"}); err == nil {
		t.Error("rep track both: no error")
	}
	if _, err := twilio.NewHandler(twilio.Config{Parent: ingesttest.NewParent()}); err == nil {
		t.Error("no auth token: no error")
	}
}
