package audiohook_test

import (
	"encoding/base64"
	"encoding/json"
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

	"talkratio/audiohook"
	"talkratio/ingest"
	"talkratio/ingest/ingesttest"
)

type rig struct {
	parent  *ingesttest.Parent
	handler *audiohook.Handler
	srv     *httptest.Server
	metrics *audiohook.Metrics
	url     string
}

func newRig(t *testing.T, mod func(*audiohook.Config)) *rig {
	t.Helper()
	secret, _ := base64.StdEncoding.DecodeString(testSecretB64)
	r := &rig{parent: ingesttest.NewParent(), metrics: audiohook.NewMetrics()}
	cfg := audiohook.Config{
		Parent:  r.parent,
		Keys:    map[string][]byte{testKey: secret, "unsigned-key": nil},
		Metrics: r.metrics,
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if testing.Verbose() {
		cfg.Log = slog.Default()
	}
	if mod != nil {
		mod(&cfg)
	}
	h, err := audiohook.NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := ingest.Register(prometheus.NewPedanticRegistry(), r.metrics.Collectors()...); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ingest/audiohook", h)
	r.handler, r.srv = h, httptest.NewServer(mux)
	r.url = "ws" + strings.TrimPrefix(r.srv.URL, "http") + "/ingest/audiohook?region=eu"
	t.Cleanup(func() {
		h.Close()
		r.srv.Close()
	})
	return r
}

func (r *rig) errors(reason string) float64 {
	return testutil.ToFloat64(r.metrics.Errors.Collector().(*prometheus.CounterVec).WithLabelValues(reason))
}

func (r *rig) dial(t *testing.T) *client {
	t.Helper()
	c, status, err := dial(t, r.url, signedHeaders(r.url, testKey, testSecretB64, uuid4(), time.Now(), nonce()))
	if err != nil {
		t.Fatalf("dial: %v (status %d)", err, status)
	}
	return c
}

// TestEndToEnd publishes the stereo test call as Genesys does, in real
// time with pings, and holds the delivered audio's listen % to analyze's
// on the same call.
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
	c := r.dial(t)
	m, err := c.open(testConversation)
	if err != nil || m.Type != "opened" {
		t.Fatalf("open: %v %+v", err, m)
	}
	var opened struct {
		Media []map[string]any `json:"media"`
	}
	if err := json.Unmarshal(m.Parameters, &opened); err != nil || len(opened.Media) != 1 {
		t.Fatalf("opened parameters %s", m.Parameters)
	}
	if got := fmt.Sprint(opened.Media[0]); got != "map[channels:[external internal] format:PCMU rate:8000 type:audio]" {
		t.Errorf("opened media %s", got)
	}
	// Frames of 100 ms, as Genesys sends; a ping every 5 s.
	const frame = 800
	start := time.Now()
	for i := 0; i*frame < len(rep); i++ {
		end := min(len(rep), (i+1)*frame)
		if err := c.audio(rep[i*frame:end], cust[i*frame:end]); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			if err := c.send("ping", map[string]any{"rtt": "PT0.05S"}); err != nil {
				t.Fatal(err)
			}
			c.expect("pong")
		}
		if wait := time.Duration(float64((i+1)*100)*float64(time.Millisecond)/speed) - time.Since(start); wait > 0 {
			time.Sleep(wait)
		}
	}
	if err := c.closeSession("end"); err != nil {
		t.Fatal(err)
	}
	call := r.parent.Next(t, time.Second)
	if reason := call.Wait(t, 5*time.Second); reason != ingest.EndClosed {
		t.Errorf("ended %q", reason)
	}
	if mt := call.Meta; mt.Source != "audiohook" || mt.ExternalID != testConversation || mt.Customer != "John Doe" {
		t.Errorf("meta %+v", mt)
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
	if tl.MissingS(ingest.Rep) > 0 || tl.MissingS(ingest.Customer) > 0 {
		t.Errorf("missing audio: rep %.2f s, customer %.2f s", tl.MissingS(0), tl.MissingS(1))
	}
	if n := testutil.ToFloat64(r.metrics.Frames); n != float64((len(rep)+frame-1)/frame) {
		t.Errorf("frames %v", n)
	}
}

// TestPause: a pause, and audio the client discarded, are missing audio
// in the analysis, not silence.
func TestPause(t *testing.T) {
	t.Parallel()
	rep, cust, err := ingesttest.Fixture()
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, nil)
	c := r.dial(t)
	if m, err := c.open(testConversation); err != nil || m.Type != "opened" {
		t.Fatalf("open: %v %+v", err, m)
	}
	send := func(from, to time.Duration) {
		a, b := int(from.Seconds()*8000), int(to.Seconds()*8000)
		for i := a; i < b; i += 800 {
			if err := c.audio(rep[i:min(b, i+800)], cust[i:min(b, i+800)]); err != nil {
				t.Fatal(err)
			}
		}
	}
	send(0, 10*time.Second)
	// Paused for 2 s (a hold, a secure pause): nothing is sent, and
	// resumed says where and for how long.
	if err := c.send("paused", struct{}{}); err != nil {
		t.Fatal(err)
	}
	pauseAt := c.pos
	c.pos += 2 * time.Second
	if err := c.send("resumed", map[string]any{"start": duration(pauseAt), "discarded": "PT2S"}); err != nil {
		t.Fatal(err)
	}
	send(12*time.Second, 20*time.Second)
	// 0.5 s the client had to drop.
	if err := c.send("discarded", map[string]any{"start": duration(c.pos), "discarded": "PT0.5S"}); err != nil {
		t.Fatal(err)
	}
	c.pos += 500 * time.Millisecond
	send(20500*time.Millisecond, 25*time.Second)
	if err := c.closeSession("end"); err != nil {
		t.Fatal(err)
	}
	call := r.parent.Next(t, time.Second)
	call.Wait(t, 5*time.Second)
	got, tl, err := ingesttest.AnalyzeDelivered(call)
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range []ingest.Role{ingest.Rep, ingest.Customer} {
		if m := tl.MissingS(role); m != 2.5 {
			t.Errorf("%s missing %.3f s, want 2.5", role, m)
		}
	}
	if got.MissingAudioS < 2.48 || got.MissingAudioS > 2.52 {
		t.Errorf("analysis: missing audio %.2f s, want 2.5", got.MissingAudioS)
	}
	if got.DurationS < 24.9 || got.DurationS > 25.1 {
		t.Errorf("duration %.2f s, want 25", got.DurationS)
	}
	missing := r.metrics.Missing.Collector().(*prometheus.CounterVec)
	if p, d := testutil.ToFloat64(missing.WithLabelValues("paused")), testutil.ToFloat64(missing.WithLabelValues("discarded")); p != 2 || d != 0.5 {
		t.Errorf("missing seconds metric: paused %v, discarded %v", p, d)
	}
}

// TestRefused: a missing or unknown key, or a bad, stale, replayed or
// incomplete signature gets 401 before any websocket.
func TestRefused(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	now := time.Now()
	replayed := signedHeaders(r.url, testKey, testSecretB64, uuid4(), now, nonce())
	if c, status, err := dial(t, r.url, replayed); err != nil {
		t.Fatalf("first use of the signature: %v (%d)", err, status)
	} else {
		c.conn.Close()
	}
	otherSecret := base64.StdEncoding.EncodeToString([]byte("not the client secret, not at all"))
	for _, tc := range []struct {
		name   string
		h      http.Header
		reason string
	}{
		{"no key", func() http.Header {
			h := signedHeaders(r.url, testKey, testSecretB64, uuid4(), now, nonce())
			h.Del("X-API-KEY")
			return h
		}(), "key"},
		{"unknown key", signedHeaders(r.url, "someone-else", testSecretB64, uuid4(), now, nonce()), "key"},
		{"unsigned", signedHeaders(r.url, testKey, "", uuid4(), now, nonce()), "signature"},
		{"wrong secret", signedHeaders(r.url, testKey, otherSecret, uuid4(), now, nonce()), "signature"},
		{"stale", signedHeaders(r.url, testKey, testSecretB64, uuid4(), now.Add(-time.Minute), nonce()), "signature"},
		{"from the future", signedHeaders(r.url, testKey, testSecretB64, uuid4(), now.Add(time.Minute), nonce()), "signature"},
		{"short nonce", signedHeaders(r.url, testKey, testSecretB64, uuid4(), now, "abc"), "signature"},
		{"replayed", replayed, "signature"},
		{"signed for another path", signedHeaders(r.url+"&x=1", testKey, testSecretB64, uuid4(), now, nonce()), "signature"},
		{"header changed after signing", func() http.Header {
			h := signedHeaders(r.url, testKey, testSecretB64, uuid4(), now, nonce())
			h.Set("Audiohook-Session-Id", uuid4())
			return h
		}(), "signature"},
		{"a required component left out", func() http.Header {
			h := signedHeaders(r.url, testKey, testSecretB64, uuid4(), now, nonce())
			h.Set("Signature-Input", strings.Replace(h.Get("Signature-Input"), ` "x-api-key"`, "", 1))
			return h
		}(), "signature"},
		{"garbage signature input", func() http.Header {
			h := signedHeaders(r.url, testKey, testSecretB64, uuid4(), now, nonce())
			h.Set("Signature-Input", `sig1=("@request-target"`)
			return h
		}(), "signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := r.errors(tc.reason)
			_, status, err := dial(t, r.url, tc.h)
			if err == nil || status != http.StatusUnauthorized {
				t.Fatalf("status %d, err %v; want 401", status, err)
			}
			if n := r.errors(tc.reason) - before; n != 1 {
				t.Errorf("%s errors +%v", tc.reason, n)
			}
		})
	}
	// A key configured without a client secret takes unsigned requests.
	if _, status, err := dial(t, r.url, signedHeaders(r.url, "unsigned-key", "", uuid4(), now, "")); err != nil {
		t.Errorf("unsigned request with a key without secret: %v (%d)", err, status)
	}
	if len(r.parent.Calls()) != 0 {
		t.Error("a refused request started a call")
	}
}

// TestProtocolErrors: a message outside the protocol gets a disconnect
// with reason error, ends the call with reason error and is counted; the
// client's close is still answered.
func TestProtocolErrors(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	open := func(c *client) {
		if m, err := c.open(testConversation); err != nil || m.Type != "opened" {
			t.Fatalf("open: %v %+v", err, m)
		}
	}
	raw := func(s string) func(*client) error {
		return func(c *client) error {
			c.seq++
			return c.conn.WriteMessage(websocket.TextMessage, []byte(strings.ReplaceAll(s, "SESSION", c.sessionID)))
		}
	}
	for _, tc := range []struct {
		name   string
		opened bool
		send   func(*client) error
		reason string
	}{
		{"not json", false, raw(`{"version":"2",`), "json"},
		{"version 1", false, raw(`{"version":"1","id":"SESSION","type":"ping","seq":1,"serverseq":0,"position":"PT0S","parameters":{}}`), "json"},
		{"bad position", false, raw(`{"version":"2","id":"SESSION","type":"ping","seq":1,"serverseq":0,"position":"1.5s","parameters":{}}`), "json"},
		{"seq skips", false, raw(`{"version":"2","id":"SESSION","type":"ping","seq":3,"serverseq":0,"position":"PT0S","parameters":{}}`), "sequence"},
		{"serverseq ahead", false, raw(`{"version":"2","id":"SESSION","type":"ping","seq":1,"serverseq":7,"position":"PT0S","parameters":{}}`), "sequence"},
		{"other session", false, raw(`{"version":"2","id":"` + uuid4() + `","type":"ping","seq":1,"serverseq":0,"position":"PT0S","parameters":{}}`), "identity"},
		{"audio before open", false, func(c *client) error {
			return c.conn.WriteMessage(websocket.BinaryMessage, make([]byte, 320))
		}, "order"},
		{"no usable media", false, func(c *client) error {
			return c.sendOpen(testConversation, map[string]any{"type": "audio", "format": "L16", "channels": []string{"external", "internal"}, "rate": 16000})
		}, "media"},
		{"odd frame", true, func(c *client) error {
			return c.conn.WriteMessage(websocket.BinaryMessage, make([]byte, 321))
		}, "frame"},
		{"frame too big", true, func(c *client) error {
			return c.conn.WriteMessage(websocket.BinaryMessage, make([]byte, 40000))
		}, "frame"},
		{"resumed while active", true, func(c *client) error {
			return c.send("resumed", map[string]any{"start": "PT0S", "discarded": "PT1S"})
		}, "order"},
		{"second open", true, func(c *client) error { return c.sendOpen(testConversation) }, "order"},
		{"unknown type", true, func(c *client) error { return c.send("hello", struct{}{}) }, "json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := len(r.parent.Calls())
			before := r.errors(tc.reason)
			c := r.dial(t)
			if tc.opened {
				open(c)
			}
			if err := tc.send(c); err != nil {
				t.Fatal(err)
			}
			var m serverMessage
			for {
				var err error
				if m, err = c.read(5 * time.Second); err != nil {
					t.Fatalf("no disconnect: %v", err)
				}
				if m.Type != "opened" && m.Type != "pong" {
					break
				}
			}
			var p struct{ Reason, Info string }
			_ = json.Unmarshal(m.Parameters, &p)
			if m.Type != "disconnect" || p.Reason != "error" || p.Info == "" {
				t.Fatalf("got %s %s, want disconnect with reason error and info", m.Type, m.Parameters)
			}
			t.Logf("disconnect: %s", p.Info)
			if n := r.errors(tc.reason) - before; n != 1 {
				t.Errorf("%s errors +%v", tc.reason, n)
			}
			// The session still closes properly.
			if err := c.closeSession("disconnect"); err != nil {
				t.Errorf("close after disconnect: %v", err)
			}
			all := r.parent.Calls()
			if tc.opened {
				if len(all) != calls+1 {
					t.Fatalf("%d calls", len(all)-calls)
				}
				if reason := all[len(all)-1].Wait(t, time.Second); reason != ingest.EndError {
					t.Errorf("call ended %q", reason)
				}
			} else if len(all) != calls {
				t.Error("a call started")
			}
		})
	}
}

// TestProbe: a connection probe is answered and starts no call.
func TestProbe(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	c := r.dial(t)
	m, err := c.open("00000000-0000-0000-0000-000000000000")
	if err != nil || m.Type != "opened" {
		t.Fatalf("probe: %v %+v", err, m)
	}
	if err := c.closeSession("end"); err != nil {
		t.Fatal(err)
	}
	if len(r.parent.Calls()) != 0 {
		t.Error("a probe started a call")
	}
}

// TestDisconnects: a busy service, the call ended by the service, and the
// service shutting down each send disconnect; a client that never closes
// is dropped; a socket lost without close ends the call as failed.
func TestDisconnects(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	expectDisconnect := func(c *client, reason string) {
		t.Helper()
		m := c.expect("disconnect")
		var p struct{ Reason string }
		_ = json.Unmarshal(m.Parameters, &p)
		if p.Reason != reason {
			t.Errorf("disconnect reason %q, want %q", p.Reason, reason)
		}
	}

	r.parent.Busy = fmt.Errorf("at the limit: %w", ingest.ErrBusy)
	c := r.dial(t)
	if err := c.send("open", map[string]any{"organizationId": testOrg, "conversationId": testConversation,
		"participant": map[string]any{}, "media": []map[string]any{{"type": "audio", "format": "PCMU", "channels": []string{"external", "internal"}, "rate": 8000}}}); err != nil {
		t.Fatal(err)
	}
	expectDisconnect(c, "error")
	if n := r.errors("busy"); n != 1 {
		t.Errorf("busy errors %v", n)
	}
	r.parent.Busy = nil

	c = r.dial(t)
	if _, err := c.open(testConversation); err != nil {
		t.Fatal(err)
	}
	call := r.parent.Next(t, time.Second)
	call.End("deleted")
	expectDisconnect(c, "completed")
	if err := c.closeSession("disconnect"); err != nil {
		t.Error(err)
	}

	c = r.dial(t)
	if _, err := c.open(testConversation); err != nil {
		t.Fatal(err)
	}
	call = r.parent.Next(t, time.Second)
	c.conn.Close() // the network drops it
	if reason := call.Wait(t, 5*time.Second); reason != ingest.EndFailed {
		t.Errorf("dropped socket: ended %q", reason)
	}

	c = r.dial(t)
	if _, err := c.open(testConversation); err != nil {
		t.Fatal(err)
	}
	call = r.parent.Next(t, time.Second)
	go r.handler.Close()
	expectDisconnect(c, "completed")
	if reason := call.Wait(t, time.Second); reason != ingest.EndShutdown {
		t.Errorf("shutdown: ended %q", reason)
	}
	// This client never closes: the server drops it after its grace.
	if _, err := c.read(10 * time.Second); err == nil {
		t.Error("still connected after the grace")
	}
}

func TestIdle(t *testing.T) {
	t.Parallel()
	r := newRig(t, func(c *audiohook.Config) { c.IdleTimeout = 200 * time.Millisecond })
	c := r.dial(t)
	if _, err := c.open(testConversation); err != nil {
		t.Fatal(err)
	}
	if reason := r.parent.Next(t, time.Second).Wait(t, 2*time.Second); reason != ingest.EndFailed {
		t.Errorf("ended %q", reason)
	}
	if n := r.errors("idle"); n != 1 {
		t.Errorf("idle errors %v", n)
	}
}

func TestNewHandler(t *testing.T) {
	if _, err := audiohook.NewHandler(audiohook.Config{Parent: ingesttest.NewParent()}); err == nil {
		t.Error("no keys: no error")
	}
	if _, err := audiohook.NewHandler(audiohook.Config{Keys: map[string][]byte{"k": nil}}); err == nil {
		t.Error("no parent: no error")
	}
}
