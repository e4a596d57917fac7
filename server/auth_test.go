package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gorilla/websocket"

	"talkratio/auth"
	"talkratio/call"
	"talkratio/disk"
	"talkratio/inmem"
	"talkratio/tally"
	"talkratio/whip"
	"talkratio/whip/whiptest"
	"talkratio/whipclient"
)

func testAuth(t *testing.T) *auth.Auth {
	t.Helper()
	a, err := auth.New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mint(t *testing.T, a *auth.Auth, g auth.Grants) string {
	t.Helper()
	tok, err := a.Mint("tester", g, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func listenPct(v float64) *float64 { return &v }

// storeCalls puts ended calls of two reps in a server's store.
func storeCalls(t *testing.T, srv *Server) {
	t.Helper()
	for i, rep := range []string{"Dana", "Lee"} {
		res := &tally.Result{Metrics: tally.Metrics{ListenPct: listenPct(70), RepTalkS: 3, CustomerTalkS: 7}}
		if err := srv.store.Put(context.Background(), &call.Record{ID: fmt.Sprintf("call-%s", strings.ToLower(rep)), Rep: rep, State: call.StateEnded, Source: call.SourceLive,
			StartedAt: time.Now().Add(-time.Duration(i) * time.Hour), Result: res}); err != nil {
			t.Fatal(err)
		}
	}
}

func do(t *testing.T, method, u, token string, body io.Reader, hdr map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Who may do what, endpoint by endpoint.
func TestAuthorization(t *testing.T) {
	a := testAuth(t)
	srv, err := New(Config{Logger: quietLogger(), Auth: a, Store: inmem.NewStore(), WHIPRate: 1000,
		Static: fstest.MapFS{"index.html": {Data: []byte("<p>hi")}, "call.html": {Data: []byte("<p>call")}, "login.html": {Data: []byte("<form>")}}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	storeCalls(t, srv)

	tokens := map[string]string{
		"anonymous":   "",
		"viewer":      mint(t, a, auth.Grants{View: true}),
		"dana-viewer": mint(t, a, auth.Grants{View: true, ViewRep: "Dana"}),
		"publisher":   mint(t, a, auth.Grants{Publish: true}),
		"admin":       mint(t, a, auth.Grants{Admin: true}),
		"bad":         "not.a.token",
	}
	sdp := whiptest.Offer(whiptest.G722) // refused for its codec (422) once past auth
	tests := []struct {
		method, path string
		body         string
		ctype        string
		want         map[string]int
	}{
		{"GET", "/livez", "", "", map[string]int{"anonymous": 200, "viewer": 200, "bad": 200}}, // health never needs a token
		{"GET", "/", "", "", map[string]int{"anonymous": 200, "viewer": 200}},
		{"GET", "/api/calls", "", "", map[string]int{"anonymous": 401, "viewer": 200, "dana-viewer": 200, "publisher": 403, "admin": 200, "bad": 401}},
		{"GET", "/api/calls/call-lee", "", "", map[string]int{"anonymous": 401, "viewer": 200, "dana-viewer": 404, "publisher": 403, "admin": 200}},
		{"GET", "/api/calls/call-dana", "", "", map[string]int{"dana-viewer": 200}},
		{"GET", "/api/calls/call-lee.csv", "", "", map[string]int{"viewer": 200, "dana-viewer": 404}},
		{"GET", "/api/reps", "", "", map[string]int{"anonymous": 401, "viewer": 200, "publisher": 403}},
		{"DELETE", "/api/calls/call-lee", "", "", map[string]int{"anonymous": 401, "viewer": 403, "publisher": 403, "dana-viewer": 403}},
		// Issue 10, point 4: retrying a failed upload is the admin's (503
		// past auth here: this service has no data directory).
		{"POST", "/api/calls/call-lee/retry", "", "", map[string]int{"anonymous": 401, "viewer": 403, "publisher": 403, "dana-viewer": 403, "admin": 503}},
		{"POST", "/whip", sdp, "application/sdp", map[string]int{"anonymous": 401, "viewer": 403, "dana-viewer": 403, "publisher": 422, "admin": 422}},
		{"POST", "/api/calls", "", "multipart/form-data; boundary=x", map[string]int{"anonymous": 401, "viewer": 403}},
		{"GET", "/metrics", "", "", map[string]int{"anonymous": 401, "viewer": 403, "publisher": 403, "admin": 200}},
		{"GET", "/ws/calls/call-lee", "", "", map[string]int{"anonymous": 401, "dana-viewer": 404}},
	}
	for _, tc := range tests {
		for who, want := range tc.want {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			hdr := map[string]string{}
			if tc.ctype != "" {
				hdr["Content-Type"] = tc.ctype
			}
			if got, b := do(t, tc.method, ts.URL+tc.path, tokens[who], body, hdr); got != want {
				t.Errorf("%s %s as %s: %d, want %d (%s)", tc.method, tc.path, who, got, want, strings.TrimSpace(b))
			}
		}
	}
	// A rep-limited viewer sees only that rep's calls in the list.
	_, b := do(t, "GET", ts.URL+"/api/calls", tokens["dana-viewer"], nil, nil)
	var list struct{ Calls []call.Summary }
	json.Unmarshal([]byte(b), &list)
	if len(list.Calls) != 1 || list.Calls[0].Rep != "Dana" {
		t.Errorf("dana-viewer list: %+v", list.Calls)
	}
	_, b = do(t, "GET", ts.URL+"/api/calls?rep=Lee", tokens["dana-viewer"], nil, nil)
	json.Unmarshal([]byte(b), &list)
	if len(list.Calls) != 0 {
		t.Errorf("dana-viewer asking for Lee's calls got %+v", list.Calls)
	}
	// The admin deletes.
	if got, _ := do(t, "DELETE", ts.URL+"/api/calls/call-lee", tokens["admin"], nil, nil); got != 204 {
		t.Errorf("admin delete: %d", got)
	}
}

// Dashboard sign-in: a token posted to /login becomes an HttpOnly,
// SameSite=Strict cookie that the API and websockets accept.
func TestLoginCookie(t *testing.T) {
	a := testAuth(t)
	srv, err := New(Config{Logger: quietLogger(), Auth: a, Store: inmem.NewStore()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	storeCalls(t, srv)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(ts.URL+"/login", url.Values{"token": {mint(t, a, auth.Grants{View: true})}, "next": {"//evil.example/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == tokenCookie {
			cookie = c
		}
	}
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/" || cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("login: %d %q %+v", resp.StatusCode, resp.Header.Get("Location"), cookie)
	}
	req, _ := http.NewRequest("GET", ts.URL+"/api/calls", nil)
	req.AddCookie(cookie)
	if r, _ := http.DefaultClient.Do(req); r.StatusCode != 200 {
		t.Errorf("API with the cookie: %d", r.StatusCode)
	}
	// The websocket with the cookie and this origin works; from another
	// origin it is refused, cookie or not (cross-site websocket hijacking).
	wsURL := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws/calls/call-lee"
	h := http.Header{"Cookie": {cookie.Name + "=" + cookie.Value}, "Origin": {ts.URL}}
	c, resp2, err := websocket.DefaultDialer.Dial(wsURL, h)
	if err != nil {
		t.Fatalf("same-origin websocket: %v %v", err, resp2)
	}
	c.Close()
	h.Set("Origin", "https://evil.example")
	if _, resp2, err := websocket.DefaultDialer.Dial(wsURL, h); err == nil || resp2.StatusCode != 403 {
		t.Errorf("cross-origin websocket: %v %v", err, resp2)
	}
	resp, _ = noRedirect.PostForm(ts.URL+"/login", url.Values{"token": {"forged"}})
	if resp.StatusCode != 401 {
		t.Errorf("login with a bad token: %d", resp.StatusCode)
	}
}

// With no auth configured (a loopback service), everything is open.
func TestNoAuthIsOpen(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	storeCalls(t, srv)
	for _, p := range []string{"/api/calls", "/api/calls/call-lee", "/metrics", "/api/reps"} {
		if got, b := do(t, "GET", ts.URL+p, "", nil, nil); got != 200 {
			t.Errorf("%s: %d %s", p, got, b)
		}
	}
}

// POST /whip and uploads are rate-limited per client: past the burst, 429
// with Retry-After; the service keeps serving.
func TestRateLimit(t *testing.T) {
	_, ts := newTestServer(t, Config{WHIPRate: 0.5})
	codes := map[int]int{}
	retry := ""
	for range whipBurst + 3 {
		req, _ := http.NewRequest("POST", ts.URL+"/whip", strings.NewReader("v=0"))
		req.Header.Set("Content-Type", "application/sdp")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes[resp.StatusCode]++
		if resp.StatusCode == 429 {
			retry = resp.Header.Get("Retry-After")
		}
	}
	if codes[429] != 3 || codes[400] != whipBurst || retry == "" {
		t.Errorf("codes %v, Retry-After %q; want %d answered (400 for the bad SDP) and 3 refused", codes, retry, whipBurst)
	}
}

// Live calls are capped: past the cap a WHIP offer gets 503 with
// Retry-After (which the Publisher client surfaces), and once a call ends
// there is room again.
func TestMaxCalls(t *testing.T) {
	srv, ts := newTestServer(t, Config{MaxCalls: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	publish := func(name string) (*whipclient.Publisher, error) {
		return whipclient.Publish(ctx, whipclient.PublishOptions{
			Endpoint: ts.URL + "/whip?name=" + name,
			Tracks:   []whipclient.TrackSpec{{StreamID: "rep", TrackID: "rep"}, {StreamID: "customer", TrackID: "customer"}},
		})
	}
	first, err := publish("first")
	if err != nil {
		t.Fatal(err)
	}
	_, err = publish("second")
	var refused *whipclient.RefusedError
	if !errors.As(err, &refused) || refused.Status != http.StatusServiceUnavailable || refused.RetryAfter != whip.CapacityRetrySeconds*time.Second {
		t.Fatalf("second call past the cap of 1: %v (%+v), want 503 with Retry-After %d", err, refused, whip.CapacityRetrySeconds)
	}
	if refused.Message != "the service is at its limit of 1 live calls; retry later" {
		t.Errorf("refusal message %q does not say why", refused.Message)
	}
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for srv.calls.Get(first.CallID()) != nil {
		if ctx.Err() != nil {
			t.Fatal("the first call never ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
	third, err := publish("third")
	if err != nil {
		t.Fatalf("after the first call ended: %v", err)
	}
	third.Close(ctx)
}

// No id or file name reaches outside what it names: every id and file
// endpoint answers 404 (or 400) to traversal attempts, and the static
// files never list a directory.
func TestPathTraversal(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("secret"), 0o600)
	st, err := disk.Open(filepath.Join(dir, "data"), quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	_, ts := newTestServer(t, Config{Store: st,
		Static: fstest.MapFS{"index.html": {Data: []byte("i")}, "call.html": {Data: []byte("c")}, "replay.html": {Data: []byte("r")}, "assets/app.css": {Data: []byte("css")}}})
	ids := []string{"..", "..%2F..%2Fsecret.txt", "%2e%2e", "..%2fdata", "a%2F..%2F..%2Fsecret.txt", "%00", strings.Repeat("a", 300), "call%20one", "..\\..\\secret.txt"}
	for _, id := range ids {
		for _, p := range []string{"/api/calls/" + id, "/api/calls/" + id + "/audio", "/api/calls/" + id + ".csv", "/calls/" + id, "/replay/" + id, "/ws/calls/" + id, "/whip/sessions/" + id} {
			code, body := do(t, "GET", ts.URL+p, "", nil, nil)
			// A path with ".." is cleaned by the router and redirected
			// (here to the index page, "i"): that is not a traversal.
			if strings.Contains(body, "secret") || (code == 200 && body != "i") {
				t.Errorf("GET %s: %d %q", p, code, body)
			}
		}
		if code, _ := do(t, "DELETE", ts.URL+"/api/calls/"+id, "", nil, nil); code != 404 && code != 400 && code != 405 {
			t.Errorf("DELETE /api/calls/%s: %d", id, code)
		}
	}
	for _, p := range []string{"/assets/", "/assets/../../secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt", "/assets/..%2F..%2Fsecret.txt", "/assets"} {
		code, body := do(t, "GET", ts.URL+p, "", nil, nil)
		if code == 200 || strings.Contains(body, "secret") {
			t.Errorf("GET %s: %d %q", p, code, body)
		}
	}
	if code, body := do(t, "GET", ts.URL+"/assets/app.css", "", nil, nil); code != 200 || body != "css" {
		t.Errorf("a real asset: %d %q", code, body)
	}
}

// Every response carries the security headers.
func TestSecurityHeaders(t *testing.T) {
	_, ts := newTestServer(t, Config{Static: fstest.MapFS{"index.html": {Data: []byte("i")}}})
	for _, p := range []string{"/", "/api/calls", "/nope", "/livez"} {
		resp, err := http.Get(ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", p, h)
		}
	}
}
