package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"talkratio/whip/whiptest"
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
		// An upload accepted (202) is still being analyzed and written
		// into the store's directory: as serve's Drain does, let it
		// finish, or the test's TempDir is removed under its feet
		// ("directory not empty", TestUploadOnFullDisk in CI).
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if !srv.uploads.Wait(ctx) {
			t.Error("upload analyses still running 30 s after the test")
		}
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
		{"no content type", "", "", whiptest.Opus, 415, "application/sdp"},
		{"malformed SDP", "application/sdp", "", "this is not SDP", 400, "malformed"},
		{"empty SDP", "application/sdp", "", "", 400, "empty"},
		{"blank SDP", "application/sdp", "", " \r\n", 400, "empty"},
		{"truncated SDP", "application/sdp", "", whiptest.Offer(whiptest.Opus)[:40], 400, "SDP"},
		{"no audio", "application/sdp", "", whiptest.Offer(whiptest.Video), 422, "no audio"},
		{"only unsupported codecs", "application/sdp", "", whiptest.Offer(whiptest.G722), 422, "no supported audio codec"},
		{"three audio tracks", "application/sdp", "", whiptest.Offer(whiptest.Opus, whiptest.Opus, whiptest.Opus), 422, "3 audio tracks"},
		{"huge body", "application/sdp", "", strings.Repeat("a=x:y\r\n", 20000), 413, "larger than"},
		{"bad role", "application/sdp", "role=boss", whiptest.Offer(whiptest.Opus), 400, "rep or customer"},
		{"bad call id", "application/sdp", "role=rep&call=../../etc", whiptest.Offer(whiptest.Opus), 400, "ids are"},
		{"PCMU without role", "application/sdp", "", whiptest.Offer(whiptest.PCMU), 422, "role=rep"},
		{"role with two tracks", "application/sdp", "role=rep", whiptest.Offer(whiptest.Opus, whiptest.Opus), 422, "one audio track"},
		{"bad rep-channel", "application/sdp", "rep-channel=up", whiptest.Offer(whiptest.Opus), 400, "left or right"},
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

// Every Opus answer asks the sender for audio up to 16 kHz (RFC 7587): the
// answer the endpoint actually sends carries it, in every Opus section.
func TestWHIPAnswerAsksForWideband(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	for _, tc := range []struct {
		name, query, offer string
		sections           int
	}{
		{"one stereo track", "", whiptest.Offer(whiptest.Opus), 1},
		{"two tracks", "", whiptest.Offer(whiptest.Opus, whiptest.Opus), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(ts.URL+"/whip?"+tc.query, "application/sdp", strings.NewReader(tc.offer))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if loc := resp.Header.Get("Location"); loc != "" {
				req, _ := http.NewRequest(http.MethodDelete, ts.URL+loc, nil)
				if r, err := http.DefaultClient.Do(req); err == nil {
					r.Body.Close()
				}
			}
			n := 0
			for _, l := range strings.Split(string(body), "\r\n") {
				if strings.HasPrefix(l, "a=fmtp:111 ") {
					n++
					for _, want := range []string{"maxplaybackrate=16000", "sprop-maxcapturerate=16000", "maxaveragebitrate=40000"} {
						if !strings.Contains(l, want) {
							t.Errorf("%q lacks %s", l, want)
						}
					}
				}
			}
			if n != tc.sections {
				t.Errorf("%d Opus fmtp lines in the answer, want %d:\n%s", n, tc.sections, body)
			}
		})
	}
}
