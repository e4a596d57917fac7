package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

// offerSDP builds a minimal offer with one m-line per codec list.
func offerSDP(media ...string) string {
	var b strings.Builder
	b.WriteString("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE")
	for i := range media {
		b.WriteString(" " + string(rune('0'+i)))
	}
	b.WriteString("\r\n")
	for i, m := range media {
		b.WriteString(m)
		b.WriteString("a=mid:" + string(rune('0'+i)) + "\r\n")
	}
	return b.String()
}

const (
	opusMedia = "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\na=sendonly\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\na=setup:actpass\r\na=rtcp-mux\r\n"
	g722Media = "m=audio 9 UDP/TLS/RTP/SAVPF 9 13\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:9 G722/8000\r\na=rtpmap:13 CN/8000\r\na=sendonly\r\n"
	pcmuMedia = "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\na=sendonly\r\n"
	videoOnly = "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 VP8/90000\r\na=sendonly\r\n"
)

func newTestServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	// Tests fire requests faster than any client should; the limits have
	// a test of their own.
	if cfg.WHIPRate == 0 {
		cfg.WHIPRate = 1000
	}
	if cfg.UploadRate == 0 {
		cfg.UploadRate = 1000
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	return srv, ts
}

// Every bad WHIP request gets a 4xx with a message, and the server stays
// up and serves the next one.
func TestWHIPBadRequests(t *testing.T) {
	_, ts := newTestServer(t, Config{WHIPRate: 1000})
	tests := []struct {
		name        string
		contentType string
		query       string
		body        string
		code        int
		msg         string
	}{
		{"wrong content type", "application/json", "", `{"sdp": "v=0"}`, 415, "application/sdp"},
		{"no content type", "", "", opusMedia, 415, "application/sdp"},
		{"malformed SDP", "application/sdp", "", "this is not SDP", 400, "malformed"},
		{"truncated SDP", "application/sdp", "", offerSDP(opusMedia)[:40], 400, "SDP"},
		{"no audio", "application/sdp", "", offerSDP(videoOnly), 422, "no audio"},
		{"only unsupported codecs", "application/sdp", "", offerSDP(g722Media), 422, "no supported audio codec"},
		{"three audio tracks", "application/sdp", "", offerSDP(opusMedia, opusMedia, opusMedia), 422, "3 audio tracks"},
		{"huge body", "application/sdp", "", strings.Repeat("a=x:y\r\n", 20000), 413, "larger than"},
		{"bad role", "application/sdp", "role=boss", offerSDP(opusMedia), 400, "rep or customer"},
		{"bad call id", "application/sdp", "role=rep&call=../../etc", offerSDP(opusMedia), 400, "ids are"},
		{"PCMU without role", "application/sdp", "", offerSDP(pcmuMedia), 422, "role=rep"},
		{"role with two tracks", "application/sdp", "role=rep", offerSDP(opusMedia, opusMedia), 422, "one audio track"},
		{"bad rep-channel", "application/sdp", "rep-channel=up", offerSDP(opusMedia), 400, "left or right"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/whip?"+tc.query, strings.NewReader(tc.body))
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e struct{ Error string }
			json.NewDecoder(resp.Body).Decode(&e)
			if resp.StatusCode != tc.code || !strings.Contains(e.Error, tc.msg) {
				t.Errorf("%d %q, want %d with %q", resp.StatusCode, e.Error, tc.code, tc.msg)
			}
		})
	}
	// Still alive.
	if resp, err := http.Get(ts.URL + "/livez"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("livez after bad requests: %v %v", resp, err)
	}
}

func TestUnknownCallAndSession(t *testing.T) {
	_, ts := newTestServer(t, Config{Static: nil})
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/calls/nope"},
		{"GET", "/ws/calls/nope"},
		{"DELETE", "/whip/sessions/nope"},
		{"OPTIONS", "/whip/sessions/nope"},
	} {
		req, _ := http.NewRequest(c.method, ts.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 || !strings.Contains(string(b), "no such") {
			t.Errorf("%s %s: %d %s", c.method, c.path, resp.StatusCode, b)
		}
	}
	req, _ := http.NewRequest("OPTIONS", ts.URL+"/whip", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 204 || !strings.Contains(resp.Header.Get("Accept-Post"), "application/sdp") {
		t.Errorf("OPTIONS /whip: %v %v", resp, err)
	}
}

// The metrics pass promlint: base units, _total on counters, help on all.
func TestMetricsLint(t *testing.T) {
	m := newMetrics(nil)
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.NewWithMetricFamilies(fams).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
	ours := 0
	for _, f := range fams {
		if strings.HasPrefix(f.GetName(), "talkratio_") {
			ours++
			for _, mt := range f.Metric {
				for _, l := range mt.Label {
					if l.GetName() == "call" || l.GetName() == "id" {
						t.Errorf("%s has a per-call label", f.GetName())
					}
				}
			}
		}
	}
	if ours < 12 {
		t.Errorf("only %d talkratio_ metrics registered", ours)
	}
}
