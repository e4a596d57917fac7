package whip

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"talkratio/call"
)

// fakeCluster is the rest of a cluster as one node sees it.
type fakeCluster struct {
	id        string
	elsewhere *call.Node
	forwarded []string // "NODE METHOD PATH" of each forwarded request
	answer    *http.Response
}

func (f *fakeCluster) ID() string { return f.id }

func (f *fakeCluster) Elsewhere(context.Context) (call.Node, bool, error) {
	if f.elsewhere == nil {
		return call.Node{}, false, nil
	}
	return *f.elsewhere, true, nil
}

func (f *fakeCluster) Forward(_ context.Context, node string, r *http.Request) (*http.Response, error) {
	f.forwarded = append(f.forwarded, node+" "+r.Method+" "+r.URL.Path)
	if f.answer == nil {
		return nil, errors.New("no responders")
	}
	return f.answer, nil
}

func TestClusterRedirect(t *testing.T) {
	other := &call.Node{ID: "b", URL: "http://10.0.0.2:8080"}
	for _, tc := range []struct {
		name      string
		busy      bool
		origin    string
		elsewhere *call.Node
		code      int
		location  string
	}{
		{"not busy: answered here", false, "", other, http.StatusTeapot, ""},
		{"busy: sent to the least loaded node", true, "", other, http.StatusTemporaryRedirect, "http://10.0.0.2:8080/whip?call=c1&role=rep"},
		{"busy browser: same origin only", true, "http://a.example", other, http.StatusTeapot, ""},
		{"busy, no other node takes calls", true, "", nil, http.StatusTeapot, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(Config{Cluster: &fakeCluster{id: "a", elsewhere: tc.elsewhere}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			here := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }
			r := httptest.NewRequest(http.MethodPost, "/whip?call=c1&role=rep", strings.NewReader("v=0"))
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			w := httptest.NewRecorder()
			s.Redirect(func() bool { return tc.busy }, here)(w, r)
			if w.Code != tc.code || w.Header().Get("Location") != tc.location {
				t.Fatalf("got %d Location %q, want %d %q (%s)", w.Code, w.Header().Get("Location"), tc.code, tc.location, w.Body)
			}
		})
	}
}

func TestClusterSessionURLs(t *testing.T) {
	answer := &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Etag": {`"x"`}}, Body: io.NopCloser(strings.NewReader("done"))}
	for _, tc := range []struct {
		name      string
		method    string
		path      string
		answer    *http.Response
		code      int
		forwarded string
	}{
		{"another node's session is forwarded", http.MethodDelete, "/whip/s/b/tok", answer, http.StatusOK, "b DELETE /whip/s/b/tok"},
		{"a node that does not answer", http.MethodDelete, "/whip/s/b/tok", nil, http.StatusNotFound, "b DELETE /whip/s/b/tok"},
		{"a node name that cannot be", http.MethodPatch, "/whip/s/b.c/tok", answer, http.StatusNotFound, ""},
		{"this node's unknown session", http.MethodDelete, "/whip/s/a/tok", answer, http.StatusNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc := &fakeCluster{id: "a", answer: tc.answer}
			s, err := New(Config{Cluster: fc})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.cfg.SessionPath != "/whip/s/a/" {
				t.Fatalf("session path %q, want /whip/s/a/", s.cfg.SessionPath)
			}
			mux := http.NewServeMux()
			mux.HandleFunc("/whip/s/{node}/{token}", s.HandleNodeSession)
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d (%s)", w.Code, tc.code, w.Body)
			}
			if got := strings.Join(fc.forwarded, ","); got != tc.forwarded {
				t.Fatalf("forwarded %q, want %q", got, tc.forwarded)
			}
			if tc.code == http.StatusOK && (w.Body.String() != "done" || w.Header().Get("Etag") != `"x"`) {
				t.Fatalf("the owner's answer was not passed on: %q %v", w.Body, w.Header())
			}
		})
	}
}
