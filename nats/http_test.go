package nats

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
)

// httpNodes connects node X, serving h on its node subject, and node Y,
// which forwards to it; it returns Y's connection and X's subject.
func httpNodes(t *testing.T, h http.Handler) (*natsgo.Conn, string) {
	t.Helper()
	url := startServer(t)
	conns := make([]*natsgo.Conn, 2)
	for i := range conns {
		nc, err := natsgo.Connect(url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		conns[i] = nc
	}
	subject := NodeSubject("talkratio", "x")
	sub, err := ServeHTTP(conns[0], subject, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return conns[1], subject
}

// seenRequest is what the serving handler saw of a forwarded request.
type seenRequest struct {
	Method, Path, RawQuery, Host, RemoteAddr    string
	ContentType, IfMatch, Authorization, Forged string
	Hop                                         string
	ContentLength                               int64
}

// echo answers with what it saw (header Seen, JSON), the status asked
// for in Want-Status, a Location for 201, and the request body.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	seen, _ := json.Marshal(seenRequest{
		Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Host: r.Host, RemoteAddr: r.RemoteAddr,
		ContentType: r.Header.Get("Content-Type"), IfMatch: r.Header.Get("If-Match"),
		Authorization: r.Header.Get("Authorization"), Forged: r.Header.Get(headerRemoteAddr),
		Hop: r.Header.Get("X-Hop"), ContentLength: r.ContentLength,
	})
	w.Header().Set("Seen", string(seen))
	status, _ := strconv.Atoi(r.Header.Get("Want-Status"))
	if status == http.StatusCreated {
		w.Header().Set("Location", "/whip/s/x/token")
	}
	w.WriteHeader(status)
	w.Write(body)
})

func TestNodeSubject(t *testing.T) {
	if s := NodeSubject("talkratio", "n1"); s != "talkratio.node.n1.http" {
		t.Errorf("NodeSubject = %q", s)
	}
}

// A request forwarded to node X comes out of its handler as it went in,
// and the answer comes back as the handler gave it.
func TestForwardRoundTrip(t *testing.T) {
	nc, subject := httpNodes(t, echo)
	big := strings.Repeat("a=candidate\r\n", 900<<10/13)
	for _, tc := range []struct {
		name, method, target, body string
		header                     http.Header
		status                     int
		want                       seenRequest
	}{
		{"WHIP offer", "POST", "/whip?room=a%20b&x=1", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n",
			http.Header{"Content-Type": {"application/sdp"}, "Authorization": {"Bearer t0k"}, headerRemoteAddr: {"forged"}},
			http.StatusCreated, seenRequest{Method: "POST", Path: "/whip", RawQuery: "room=a%20b&x=1", ContentType: "application/sdp", Authorization: "Bearer t0k"}},
		{"trickle ICE", "PATCH", "/whip/s/x/token", "a=ice-ufrag:EsAw\r\n",
			http.Header{"Content-Type": {"application/trickle-ice-sdpfrag"}, "If-Match": {`"*"`}},
			http.StatusNoContent, seenRequest{Method: "PATCH", Path: "/whip/s/x/token", ContentType: "application/trickle-ice-sdpfrag", IfMatch: `"*"`}},
		{"end of session", "DELETE", "/whip/s/x/token", "", http.Header{"Authorization": {"Bearer t0k"}},
			http.StatusOK, seenRequest{Method: "DELETE", Path: "/whip/s/x/token", Authorization: "Bearer t0k"}},
		{"escaped path, binary body, hop-by-hop headers", "PUT", "/a%2Fb/%E2%9C%93?q=%26&q=2", "\x00\r\n\r\nHTTP/1.1 200 OK\r\n\xff",
			http.Header{"Connection": {"X-Hop"}, "X-Hop": {"1"}},
			http.StatusAccepted, seenRequest{Method: "PUT", Path: "/a%2Fb/%E2%9C%93", RawQuery: "q=%26&q=2"}},
		{"900 KiB body", "POST", "/big", big, nil, http.StatusOK, seenRequest{Method: "POST", Path: "/big"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
			for k, v := range tc.header {
				r.Header[k] = v
			}
			r.Header.Set("Want-Status", strconv.Itoa(tc.status))
			resp, err := Forward(context.Background(), nc, subject, r)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			var seen seenRequest
			if err := json.Unmarshal([]byte(resp.Header.Get("Seen")), &seen); err != nil {
				t.Fatalf("status %d, Seen %q: %v", resp.StatusCode, resp.Header.Get("Seen"), err)
			}
			want := tc.want
			want.Host, want.RemoteAddr, want.ContentLength = "example.com", "192.0.2.1:1234", int64(len(tc.body))
			if seen != want {
				t.Errorf("handler saw %+v\nwant %+v", seen, want)
			}
			wantBody := tc.body
			if tc.status == http.StatusNoContent {
				wantBody = ""
			}
			if resp.StatusCode != tc.status || string(body) != wantBody {
				t.Errorf("answer %d with %d bytes, want %d with %d", resp.StatusCode, len(body), tc.status, len(wantBody))
			}
			if loc := resp.Header.Get("Location"); (tc.status == http.StatusCreated) != (loc == "/whip/s/x/token") {
				t.Errorf("Location %q", loc)
			}
		})
	}
}

// Nobody serves the subject: the error says so, for errors.Is.
func TestForwardNoResponders(t *testing.T) {
	nc, _ := httpNodes(t, echo)
	_, err := Forward(context.Background(), nc, NodeSubject("talkratio", "gone"), httptest.NewRequest("DELETE", "/whip/s/gone/t", nil))
	if !errors.Is(err, natsgo.ErrNoResponders) {
		t.Fatalf("err %v, want one wrapping ErrNoResponders", err)
	}
}

// Bodies over 1 MiB are not forwarded, either way; nor is a request that
// would not fit in a NATS message.
func TestForwardTooLarge(t *testing.T) {
	big := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 2 * maxHTTPBody / 4096 {
			if _, err := w.Write(make([]byte, 4096)); err != nil {
				return
			}
		}
	})
	nc, subject := httpNodes(t, http.NewServeMux())
	ncBig, subjectBig := httpNodes(t, big)
	for _, size := range []int{maxHTTPBody + 1, maxHTTPBody} {
		r := httptest.NewRequest("POST", "/whip", bytes.NewReader(make([]byte, size)))
		if _, err := Forward(context.Background(), nc, subject, r); !errors.Is(err, ErrBodyTooLarge) {
			t.Errorf("request body of %d bytes: %v, want ErrBodyTooLarge", size, err)
		}
	}
	resp, err := Forward(context.Background(), ncBig, subjectBig, httptest.NewRequest("GET", "/big", nil))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("answer over 1 MiB: %d, want 502", resp.StatusCode)
	}
	// A server with a larger max payload could carry it; ServeHTTP
	// still refuses.
	var req bytes.Buffer
	req.WriteString("POST /whip HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(maxHTTPBody+1) + "\r\n\r\n")
	req.Write(make([]byte, maxHTTPBody+1))
	resp, err = http.ReadResponse(bufio.NewReader(bytes.NewReader(serveOne(echo, req.Bytes(), 0))), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("request body over 1 MiB served: %d, want 413", resp.StatusCode)
	}
}

// The requester's deadline travels: when it stops waiting, the handler's
// context ends too.
func TestForwardDeadline(t *testing.T) {
	ended, release := make(chan error, 1), make(chan struct{})
	defer close(release)
	nc, subject := httpNodes(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		ended <- r.Context().Err()
		<-release // no answer before the requester has given up
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := Forward(ctx, nc, subject, httptest.NewRequest("PATCH", "/whip/s/x/t", nil)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v, want DeadlineExceeded", err)
	}
	select {
	case err := <-ended:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("handler's context ended with %v", err)
		}
	case <-time.After(wait):
		t.Fatal("the handler's context never ended")
	}
}
