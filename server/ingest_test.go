package server

import (
	"context"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"talkratio/audiohook"
	"talkratio/siprec"
	"talkratio/twilio"
)

// The phone-system adapters are off by default; turned on, each has its
// route (or SIP listener) and its metrics on the service's registry, its
// own authentication in front of everything else, and the draining check.
func TestIngestWiring(t *testing.T) {
	get := func(url string) (int, string) {
		t.Helper()
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	off, tsOff := newTestServer(t, Config{})
	for _, path := range []string{"/ingest/twilio", "/ingest/audiohook"} {
		if code, _ := get(tsOff.URL + path); code != http.StatusNotFound {
			t.Errorf("off: %s answers %d", path, code)
		}
	}
	if udp, _, _ := off.SIPAddrs(); udp != nil {
		t.Errorf("off: SIP on %v", udp)
	}

	srv, ts := newTestServer(t, Config{Ingest: Ingest{
		SIPREC:    &siprec.Config{Addr: "127.0.0.1:0", Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}},
		Twilio:    &twilio.Config{AuthToken: []byte("token")},
		AudioHook: &audiohook.Config{Keys: map[string][]byte{"key": []byte("secret")}},
	}})
	if udp, tcp, _ := srv.SIPAddrs(); udp == nil || tcp == nil {
		t.Errorf("SIP on %v and %v", udp, tcp)
	}
	if code, body := get(ts.URL + "/ingest/twilio"); code != http.StatusForbidden || !strings.Contains(body, "X-Twilio-Signature") {
		t.Errorf("twilio unsigned: %d %s", code, body)
	}
	if code, body := get(ts.URL + "/ingest/audiohook"); code != http.StatusUnauthorized {
		t.Errorf("audiohook without a key: %d %s", code, body)
	}
	_, metrics := get(ts.URL + "/metrics")
	for _, name := range []string{
		`talkratio_twilio_errors_total{reason="signature"} 1`,
		`talkratio_audiohook_errors_total{reason="key"} 1`,
		`talkratio_siprec_requests_total{method="INVITE"} 0`,
	} {
		if !strings.Contains(metrics, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	if err := srv.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, _ := get(ts.URL + "/ingest/twilio"); code != http.StatusServiceUnavailable {
		t.Errorf("twilio while draining: %d", code)
	}
	if _, err := New(Config{Logger: quietLogger(), Ingest: Ingest{Twilio: &twilio.Config{}}}); err == nil {
		t.Error("Twilio without an auth token: no error")
	}
	if _, err := New(Config{Logger: quietLogger(), Ingest: Ingest{SIPREC: &siprec.Config{Addr: "127.0.0.1:0"}}}); err == nil {
		t.Error("SIPREC without an allow list: no error")
	}
}
