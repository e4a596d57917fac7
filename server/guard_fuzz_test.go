package server

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzLoginNext: whatever next= a sign-in carries, the redirect stays on
// this site, as a browser would resolve it (WHATWG URL: tabs and newlines
// dropped, backslashes read as slashes).
func FuzzLoginNext(f *testing.F) {
	for _, s := range []string{"/", "/calls/x", "//evil.example", "/\\evil.example", "/\t/evil.example", "https://evil.example",
		"/%5Cevil", "/\r\n/evil", "/.//evil", "/@evil.example", "/?next=//evil", "\\/evil", " /evil", "/\u00a0/evil"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://talkratio.example/login")
	f.Fuzz(func(t *testing.T, next string) {
		got := SafeNext(next)
		if got != "/" && got != next {
			t.Fatalf("SafeNext(%q) = %q: neither next nor /", next, got)
		}
		asBrowser := strings.Map(func(r rune) rune {
			switch r {
			case '\t', '\n', '\r':
				return -1
			case '\\':
				return '/'
			}
			return r
		}, strings.Trim(got, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "))
		u, err := base.Parse(asBrowser)
		if err != nil {
			return // a browser would not follow it anywhere either
		}
		if u.Host != base.Host || u.Scheme != base.Scheme {
			t.Fatalf("SafeNext(%q) = %q resolves to %s", next, got, u)
		}
	})
}

// FuzzHostOrigin: whatever Host, Origin, Sec-Fetch-Site and cookie a
// request carries, the guard lets it reach a handler only if its host is
// allowed and, when it changes something without an Authorization header,
// it comes from this very origin.
func FuzzHostOrigin(f *testing.F) {
	for _, c := range [][4]string{
		{"localhost:8080", "http://localhost:8080", "", "POST"},
		{"evil.example", "http://evil.example", "", "GET"},
		{"127.0.0.1:8080", "http://127.0.0.1:9090", "same-site", "DELETE"},
		{"talkratio.example", "", "cross-site", "POST"},
		{"TALKRATIO.example.:1", "https://talkratio.example.:1", "same-origin", "PUT"},
		{"[::1]:80", "null", "", "POST"},
		{"localhost.evil.example", "http://localhost.evil.example", "", "POST"},
	} {
		f.Add(c[0], c[1], c[2], c[3], true)
	}
	srv, err := New(Config{Logger: quietLogger(), AllowedHosts: []string{"talkratio.example"}})
	if err != nil {
		f.Fatal(err)
	}
	defer srv.Close()
	reached := false
	h := srv.guard(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
	f.Fuzz(func(t *testing.T, host, origin, fetchSite, method string, cookie bool) {
		r := httptest.NewRequest("GET", "/api/calls", nil)
		r.Method, r.Host = method, host
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		if fetchSite != "" {
			r.Header.Set("Sec-Fetch-Site", fetchSite)
		}
		if cookie {
			r.AddCookie(&http.Cookie{Name: tokenCookie, Value: "t"})
		}
		reached = false
		h.ServeHTTP(httptest.NewRecorder(), r)
		if !reached {
			return
		}
		name := strings.ToLower(strings.TrimSuffix(strings.Trim(hostOnly(host), "[]"), "."))
		ip := net.ParseIP(name)
		if name != "talkratio.example" && name != "localhost" && !strings.HasSuffix(name, ".localhost") && (ip == nil || !ip.IsLoopback()) {
			t.Fatalf("Host %q reached a handler", host)
		}
		if safeMethod(method) {
			return
		}
		if origin != "" {
			o, err := url.Parse(origin)
			if err != nil || !strings.EqualFold(o.Host, host) {
				t.Fatalf("%s from Origin %q to Host %q reached a handler", method, origin, host)
			}
			return
		}
		if fetchSite != "" && fetchSite != "same-origin" && fetchSite != "none" {
			t.Fatalf("%s with Sec-Fetch-Site %q reached a handler", method, fetchSite)
		}
		if cookie && fetchSite == "" {
			t.Fatalf("%s with a cookie and no Origin reached a handler", method)
		}
	})
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}
