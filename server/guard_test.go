package server

import (
	"context"
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
	"talkratio/inmem"
)

// req sends a request with headers and returns its status, body and
// response.
func req(t *testing.T, method, u string, hdr map[string]string, body string) (int, string, *http.Response) {
	t.Helper()
	r, _ := http.NewRequest(method, u, strings.NewReader(body))
	for k, v := range hdr {
		if k == "Host" {
			r.Host = v
			continue
		}
		r.Header.Set(k, v)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, b.String(), resp
}

var testPages = fstest.MapFS{"index.html": {Data: []byte("<p>index")}, "login.html": {Data: []byte("<form>login")}}

// Issue 10, point 6: a request naming a host this service does not answer
// to (DNS rebinding) is refused on every route but health, in open mode
// too, websockets included; allowed hosts and loopback names pass.
func TestHostAllowList(t *testing.T) {
	srv, ts := newTestServer(t, Config{Static: testPages, AllowedHosts: []string{"talkratio.example"}})
	storeCalls(t, srv)
	evil := map[string]string{"Host": "evil.example:" + strings.Split(ts.URL, ":")[2]}
	for _, c := range []struct{ method, path string }{
		{"GET", "/"}, {"GET", "/api/calls"}, {"GET", "/api/calls/call-lee/audio"}, {"DELETE", "/api/calls/call-lee"},
		{"POST", "/api/calls"}, {"POST", "/whip"}, {"GET", "/metrics"}, {"GET", "/ws/calls/call-lee"},
	} {
		if code, body, _ := req(t, c.method, ts.URL+c.path, evil, ""); code != http.StatusMisdirectedRequest || !strings.Contains(body, "-allowed-hosts") {
			t.Errorf("%s %s for evil.example: %d %s", c.method, c.path, code, body)
		}
	}
	if _, err := srv.store.Get(context.Background(), "call-lee"); err != nil {
		t.Errorf("the rebinding DELETE deleted: %v", err)
	}
	wsURL := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws/calls/call-lee"
	if _, resp, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"Host": {"evil.example"}, "Origin": {"http://evil.example"}}); err == nil || resp.StatusCode == http.StatusSwitchingProtocols {
		t.Errorf("rebinding websocket opened")
	}
	for _, h := range []string{"localhost", "app.localhost:8080", "127.0.0.2", "[::1]:8080", "TalkRatio.Example.", "talkratio.example:443"} {
		if code, body, _ := req(t, "GET", ts.URL+"/api/calls", map[string]string{"Host": h}, ""); code != 200 {
			t.Errorf("Host %s: %d %s", h, code, body)
		}
	}
	for _, p := range []string{"/livez", "/readyz"} {
		if code, _, _ := req(t, "GET", ts.URL+p, evil, ""); code != 200 {
			t.Errorf("%s for any host: %d", p, code)
		}
	}
}

// Issue 10, points 6 and 7: what changes something must come from this
// service's own pages. A foreign or same-site Origin is refused with or
// without a cookie, in open mode too (a cross-site form POST); a
// cookie without any Origin is refused; a same-origin page and a client
// with an Authorization header pass.
func TestCrossSiteRefused(t *testing.T) {
	a := testAuth(t)
	srv, ts := newTestServer(t, Config{Auth: a, Static: testPages})
	storeCalls(t, srv)
	admin := mint(t, a, auth.Grants{Admin: true})
	cookie := tokenCookie + "=" + admin
	u, _ := url.Parse(ts.URL)
	sameSite := "http://127.0.0.1:1" // another port of the same host
	for _, c := range []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"foreign origin with cookie", map[string]string{"Cookie": cookie, "Origin": "https://evil.example"}, 403},
		{"same-site origin, other port", map[string]string{"Cookie": cookie, "Origin": sameSite}, 403},
		{"sibling subdomain", map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "same-site"}, 403},
		{"cookie and no origin", map[string]string{"Cookie": cookie}, 403},
		{"null origin", map[string]string{"Cookie": cookie, "Origin": "null"}, 403},
		{"same origin", map[string]string{"Cookie": cookie, "Origin": ts.URL}, 204},
	} {
		id := "call-dana"
		if c.want == 204 {
			id = "call-lee"
		}
		code, body, _ := req(t, "DELETE", ts.URL+"/api/calls/"+id, c.hdr, "")
		if code != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, code, body, c.want)
		}
	}
	if _, err := srv.store.Get(context.Background(), "call-dana"); err != nil {
		t.Errorf("a refused DELETE deleted: %v", err)
	}
	// An upload riding on the cookie from a foreign page.
	if code, body, _ := req(t, "POST", ts.URL+"/api/calls", map[string]string{"Cookie": cookie, "Origin": "https://evil.example", "Content-Type": "multipart/form-data; boundary=x"}, "--x--"); code != 403 || !strings.Contains(body, "another site") {
		t.Errorf("cross-site upload with a cookie: %d %s", code, body)
	}
	// A client with the Authorization header is no browser page riding on
	// a cookie.
	storeCalls(t, srv)
	if code, body, _ := req(t, "DELETE", ts.URL+"/api/calls/call-lee", map[string]string{"Authorization": "Bearer " + admin, "Origin": "https://tool.example"}, ""); code != 204 {
		t.Errorf("bearer from a tool: %d %s", code, body)
	}
	// Login CSRF: a foreign page signing the victim in as the attacker.
	form := url.Values{"token": {admin}}.Encode()
	ct := "application/x-www-form-urlencoded"
	if code, _, resp := req(t, "POST", ts.URL+"/login", map[string]string{"Origin": "https://evil.example", "Content-Type": ct}, form); code != 403 || len(resp.Cookies()) != 0 {
		t.Errorf("cross-site login: %d, cookies %v", code, resp.Cookies())
	}
	if code, _, _ := req(t, "POST", ts.URL+"/login", map[string]string{"Origin": ts.URL, "Content-Type": ct}, form); code != 303 {
		t.Errorf("same-origin login: %d", code)
	}
	_ = u

	// Open mode: a cross-site HTML form POST to /api/calls or /whip.
	_, open := newTestServer(t, Config{})
	for _, p := range []string{"/api/calls", "/whip"} {
		code, body, _ := req(t, "POST", open.URL+p, map[string]string{"Origin": "https://evil.example", "Content-Type": "multipart/form-data; boundary=x"}, "--x--")
		if code != 403 || !strings.Contains(body, "another site") {
			t.Errorf("open mode, cross-site POST %s: %d %s", p, code, body)
		}
	}
}

// Issue 10, point 8: after sign-in, next= goes only to a path of this
// site.
func TestLoginNext(t *testing.T) {
	for next, want := range map[string]string{
		"/calls/abc?x=1#t": "/calls/abc?x=1#t", "/reps/Dana": "/reps/Dana", "": "/",
		"//evil.example/": "/", "/\\evil.example": "/", "\\\\evil.example": "/", "/\t/evil.example": "/",
		"/\n/evil.example": "/", "https://evil.example/": "/", "evil.example": "/", "/%5Cevil": "/%5Cevil",
		"javascript:alert(1)": "/", "/\x00": "/", "/\x7f": "/",
	} {
		if got := SafeNext(next); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", next, got, want)
		}
	}
	a := testAuth(t)
	_, ts := newTestServer(t, Config{Auth: a})
	for next, want := range map[string]string{"/\\evil.example": "/", "/%09/evil.example": "/", "/reps": "/reps"} {
		// As the sign-in page posts it: the query's next=, decoded.
		dec, _ := url.QueryUnescape(next)
		code, _, resp := req(t, "POST", ts.URL+"/login", map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			url.Values{"token": {mint(t, a, auth.Grants{View: true})}, "next": {dec}}.Encode())
		if code != 303 || resp.Header.Get("Location") != want {
			t.Errorf("next=%s: %d Location %q, want %q", next, code, resp.Header.Get("Location"), want)
		}
	}
}

// Issue 10, point 9: a bad cookie means signed out: it is cleared and the
// pages, sign-in, sign-out and health answer; the cookie lasts as long as
// its token.
func TestStaleCookieSignsOut(t *testing.T) {
	a := testAuth(t)
	_, ts := newTestServer(t, Config{Auth: a, Static: testPages})
	expired, _ := a.Mint("x", auth.Grants{Admin: true}, -time.Hour)
	other, _ := auth.New([]byte("ffffffffffffffffffffffffffffffff"))
	oldKey := mint(t, other, auth.Grants{Admin: true})
	for name, tok := range map[string]string{"expired": expired, "other key": oldKey, "garbage": "x.y.z"} {
		hdr := map[string]string{"Cookie": tokenCookie + "=" + tok}
		for _, c := range []struct {
			method, path string
			want         int
		}{{"GET", "/", 200}, {"GET", "/login", 200}, {"GET", "/livez", 200}, {"GET", "/readyz", 200}, {"GET", "/api/whoami", 200}, {"GET", "/api/calls", 401}} {
			code, body, resp := req(t, c.method, ts.URL+c.path, hdr, "")
			if code != c.want {
				t.Errorf("%s cookie, %s %s: %d %s, want %d", name, c.method, c.path, code, body, c.want)
			}
			cleared := false
			for _, ck := range resp.Cookies() {
				cleared = cleared || (ck.Name == tokenCookie && ck.MaxAge < 0)
			}
			if !cleared {
				t.Errorf("%s cookie, %s %s: not cleared", name, c.method, c.path)
			}
		}
		hdr["Origin"] = ts.URL
		if code, _, _ := req(t, "POST", ts.URL+"/logout", hdr, ""); code != 303 {
			t.Errorf("%s cookie, logout: %d", name, code)
		}
	}
	// A bad bearer token never keeps anyone from health or sign-in.
	for _, p := range []string{"/livez", "/readyz", "/login"} {
		if code, _, _ := req(t, "GET", ts.URL+p, map[string]string{"Authorization": "Bearer x.y.z"}, ""); code != 200 {
			t.Errorf("bad bearer, %s: %d", p, code)
		}
	}
	if code, _, _ := req(t, "GET", ts.URL+"/api/calls", map[string]string{"Authorization": "Bearer x.y.z"}, ""); code != 401 {
		t.Errorf("bad bearer, /api/calls: %d", code)
	}
	// The cookie lives as long as its token, not 30 days.
	tok, _ := a.Mint("x", auth.Grants{View: true}, 2*time.Hour)
	_, _, resp := req(t, "POST", ts.URL+"/login", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, url.Values{"token": {tok}}.Encode())
	for _, ck := range resp.Cookies() {
		if ck.Name == tokenCookie && (ck.MaxAge > 2*3600 || ck.MaxAge < 2*3600-120) {
			t.Errorf("cookie Max-Age %d for a 2 h token", ck.MaxAge)
		}
	}
}

// Issue 10, points 16 and 17: the Bearer scheme is case-insensitive, and
// behind a TLS-terminating proxy the cookie can be Secure.
func TestBearerSchemeAndSecureCookie(t *testing.T) {
	a := testAuth(t)
	_, ts := newTestServer(t, Config{Auth: a, SecureCookies: true})
	tok := mint(t, a, auth.Grants{View: true})
	for _, scheme := range []string{"Bearer", "bearer", "BEARER", "bEaReR"} {
		if code, body, _ := req(t, "GET", ts.URL+"/api/calls", map[string]string{"Authorization": scheme + " " + tok}, ""); code != 200 {
			t.Errorf("%s: %d %s", scheme, code, body)
		}
	}
	if code, _, _ := req(t, "GET", ts.URL+"/api/calls", map[string]string{"Authorization": "Basic " + tok}, ""); code != 401 {
		t.Errorf("Basic: %d", code)
	}
	_, _, resp := req(t, "POST", ts.URL+"/login", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, url.Values{"token": {tok}}.Encode())
	if len(resp.Cookies()) != 1 || !resp.Cookies()[0].Secure {
		t.Errorf("cookie behind a TLS proxy: %+v", resp.Cookies())
	}
	_, plain := newTestServer(t, Config{Auth: a})
	_, _, resp = req(t, "POST", plain.URL+"/login", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, url.Values{"token": {tok}}.Encode())
	if len(resp.Cookies()) != 1 || resp.Cookies()[0].Secure {
		t.Errorf("cookie on plain HTTP without -secure-cookies: %+v", resp.Cookies())
	}
}

// Issue 10, point 10: a side listener (profiling) is for admins only once
// tokens are on.
func TestAdminOnly(t *testing.T) {
	a := testAuth(t)
	srv, err := New(Config{Logger: quietLogger(), Auth: a, Store: inmem.NewStore()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	h := srv.AdminOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("profile")) }))
	ts := newPlainServer(t, h)
	for who, want := range map[string]int{"": 401, mint(t, a, auth.Grants{View: true, Publish: true}): 403, mint(t, a, auth.Grants{Admin: true}): 200} {
		hdr := map[string]string{}
		if who != "" {
			hdr["Authorization"] = "Bearer " + who
		}
		if code, body, _ := req(t, "GET", ts+"/debug/pprof/", hdr, ""); code != want || (want == 200) != (body == "profile") {
			t.Errorf("token %.10s: %d %q, want %d", who, code, body, want)
		}
	}
}

// Issue 10, point 15: a started_at out of range is a 400 and leaves no
// trace.
func TestUploadStartedAtOutOfRange(t *testing.T) {
	dir := t.TempDir()
	_, base := newDiskServer(t, dir, Config{})
	p := filepath.Join(t.TempDir(), "c.wav")
	writeCallWAV(t, p, 8000, 2, testRep, testCust)
	for _, v := range []string{"9999-12-31T23:00:00-05:00", "0000-01-01T00:00:00Z", "0000-06-01T00:00:00+01:00"} {
		body, ctype := form(t, map[string]string{"started_at": v}, map[string]string{"audio": p})
		resp, b := post(t, base+"/api/calls", body, ctype)
		if resp.StatusCode != 400 || !strings.Contains(string(b), "year") {
			t.Errorf("started_at %s: %d %s", v, resp.StatusCode, b)
		}
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "calls"))
	if len(ents) != 0 {
		t.Errorf("refused uploads left %d call directories", len(ents))
	}
}

func newPlainServer(t *testing.T, h http.Handler) string {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}
