package nats

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	natsgo "github.com/nats-io/nats.go"
)

// HTTP over NATS request-reply: a request on a session held by another
// node goes to that node's subject, where ServeHTTP runs it through the
// node's handler and replies with the response. Both travel in HTTP/1.1
// wire format (request or status line, headers, Content-Length, body):
// compact, binary-safe, and parsed by net/http itself.

const (
	// maxHTTPBody: the largest body forwarded either way; session
	// requests and answers are SDP or short JSON, far smaller. A NATS
	// message must hold the body and its headers too, so the server's
	// max_payload (1 MiB by default) may refuse a little less.
	maxHTTPBody = 1 << 20
	// forwardTimeout: how long Forward waits for an answer when its
	// context sets no deadline; a session request is answered in
	// milliseconds by a live node.
	forwardTimeout = 5 * time.Second
	// maxServeTimeout bounds the deadline a forwarded request brings, so
	// a requester cannot keep a handler's context alive for long.
	maxServeTimeout = time.Minute
	// maxInFlight: forwarded requests served at once per subject; beyond
	// it, 503 at once rather than a growing queue of requests each holding
	// up to a MiB.
	maxInFlight = 64
)

// Headers added to a forwarded request (and removed from the client's, so
// that no client can set them).
const (
	// headerRemoteAddr carries the client's address, for the handler's
	// logs and limits.
	headerRemoteAddr = "Talkratio-Remote-Addr"
	// headerTimeout carries the requester's remaining wait, in
	// milliseconds: the handler's context ends with it.
	headerTimeout = "Talkratio-Timeout"
)

// ErrBodyTooLarge: a body over 1 MiB, or a request that does not fit in
// one NATS message, is not forwarded.
var ErrBodyTooLarge = errors.New("nats http: body too large to forward")

// hopHeaders mean something on one connection only (RFC 9110, section
// 7.6.1), or frame the message, which the encoding does itself.
var hopHeaders = []string{
	"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length",
}

// NodeSubject is the subject on which a node serves forwarded HTTP
// requests.
func NodeSubject(prefix, node string) string { return prefix + ".node." + node + ".http" }

// Forward sends r to whichever node serves subject and returns its
// response, with a readable Body. It waits until ctx is done, or
// forwardTimeout if ctx has no deadline. Method, URL path and raw query,
// Host, headers (not hop-by-hop ones) and body (up to 1 MiB, else
// ErrBodyTooLarge) are preserved; the body is read and closed, as
// http.Client.Do does. If no node serves subject, the error wraps
// natsgo.ErrNoResponders.
func Forward(ctx context.Context, nc *natsgo.Conn, subject string, r *http.Request) (*http.Response, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, forwardTimeout)
		defer cancel()
	}
	body, err := readBody(r.Body)
	if r.Body != nil {
		_ = r.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("nats forward to %s: %w", subject, err)
	}
	data, err := encodeRequest(ctx, r, body)
	if err != nil {
		return nil, fmt.Errorf("nats forward to %s: %w", subject, err)
	}
	if limit := nc.MaxPayload(); limit > 0 && int64(len(data)) > limit {
		return nil, fmt.Errorf("nats forward to %s: %w: %d bytes with its headers, over the %d of a NATS message",
			subject, ErrBodyTooLarge, len(data), limit)
	}
	m, err := nc.RequestWithContext(ctx, subject, data)
	if errors.Is(err, natsgo.ErrMaxPayload) {
		err = fmt.Errorf("%w: %w", ErrBodyTooLarge, err)
	}
	if err != nil {
		return nil, fmt.Errorf("nats forward to %s: %w", subject, err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(m.Data)), r)
	if err != nil {
		return nil, fmt.Errorf("nats forward to %s: read the answer: %w", subject, err)
	}
	return resp, nil
}

// ServeHTTP answers the requests Forward sends to subject with h. Each
// runs in its own goroutine (up to maxInFlight at once, then 503), with a
// context that ends when the requester stops waiting. A request body over
// 1 MiB gets 413; an answer too large to send back gets 502. The caller
// unsubscribes to stop; requests already running still get their answer.
func ServeHTTP(nc *natsgo.Conn, subject string, h http.Handler) (*natsgo.Subscription, error) {
	if nc == nil || h == nil {
		return nil, errors.New("nats http: serve needs a connection and a handler")
	}
	slots := make(chan struct{}, maxInFlight)
	sub, err := nc.Subscribe(subject, func(m *natsgo.Msg) {
		if m.Reply == "" {
			return // nobody waits for an answer
		}
		select {
		case slots <- struct{}{}:
		default:
			respond(nc, m.Reply, errorResponse(http.StatusServiceUnavailable, "too many forwarded requests at once"))
			return
		}
		go func() {
			defer func() { <-slots }()
			respond(nc, m.Reply, serveOne(h, m.Data, nc.MaxPayload()))
		}()
	})
	if err != nil {
		return nil, fmt.Errorf("nats http: subscribe to %s: %w", subject, err)
	}
	// In place at the server before the caller says it serves.
	if err := nc.Flush(); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("nats http: subscribe to %s: %w", subject, err)
	}
	return sub, nil
}

// respond sends an answer; if it cannot, the requester times out and says
// so, which is all it could learn anyway.
func respond(nc *natsgo.Conn, reply string, data []byte) { _ = nc.Publish(reply, data) }

// serveOne decodes a forwarded request, runs it and encodes the answer,
// which must fit in limit bytes (the connection's max payload).
func serveOne(h http.Handler, data []byte, limit int64) []byte {
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data)))
	if err != nil {
		return errorResponse(http.StatusBadRequest, "bad forwarded request")
	}
	body, err := readBody(req.Body)
	if errors.Is(err, ErrBodyTooLarge) {
		return errorResponse(http.StatusRequestEntityTooLarge, "forwarded request body over 1 MiB")
	}
	if err != nil {
		return errorResponse(http.StatusBadRequest, "bad forwarded request body")
	}
	req.Body = http.NoBody
	if len(body) > 0 {
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	req.RemoteAddr = req.Header.Get(headerRemoteAddr)
	timeout := forwardTimeout
	if ms, err := strconv.ParseInt(req.Header.Get(headerTimeout), 10, 64); err == nil && ms > 0 {
		timeout = min(time.Duration(ms)*time.Millisecond, maxServeTimeout)
	}
	req.Header.Del(headerRemoteAddr)
	req.Header.Del(headerTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	w := &recorder{header: http.Header{}}
	if !run(h, w, req.WithContext(ctx)) {
		return errorResponse(http.StatusInternalServerError, "the handler failed")
	}
	out := w.encode()
	if w.tooLarge || (limit > 0 && int64(len(out)) > limit) {
		return errorResponse(http.StatusBadGateway, "answer too large to forward")
	}
	return out
}

// run calls the handler, and reports false if it panicked: net/http
// recovers a handler's panic rather than end the process, so this does
// too.
func run(h http.Handler, w http.ResponseWriter, r *http.Request) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				slog.Error("nats http: forwarded request handler panicked", "url", r.URL.String(), "panic", p)
			}
			ok = false
		}
	}()
	h.ServeHTTP(w, r)
	return true
}

// readBody reads a whole body of up to maxHTTPBody bytes.
func readBody(body io.Reader) ([]byte, error) {
	if body == nil || body == http.NoBody {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(body, maxHTTPBody+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if len(b) > maxHTTPBody {
		return nil, ErrBodyTooLarge
	}
	return b, nil
}

// encodeRequest writes r in HTTP/1.1 wire format, with body in place of
// its own, the client's address and the time left under ctx.
func encodeRequest(ctx context.Context, r *http.Request, body []byte) ([]byte, error) {
	if r.URL == nil {
		return nil, errors.New("request without a URL")
	}
	method, uri, host := r.Method, r.URL.RequestURI(), r.Host
	if method == "" {
		method = http.MethodGet
	}
	if host == "" {
		host = r.URL.Host
	}
	if !validHeaderName(method) || !wireSafe(uri) || !wireSafe(host) {
		return nil, fmt.Errorf("request line %q %q (host %q) cannot be forwarded", method, uri, host)
	}
	h := cleanHeader(r.Header)
	h.Del("Host")
	h.Del(headerRemoteAddr)
	h.Del(headerTimeout)
	if r.RemoteAddr != "" {
		h.Set(headerRemoteAddr, r.RemoteAddr)
	}
	if d, ok := ctx.Deadline(); ok {
		// Rounded up: under a millisecond left must not read as none.
		ms := (time.Until(d) + time.Millisecond - 1) / time.Millisecond
		h.Set(headerTimeout, strconv.FormatInt(int64(ms), 10))
	}
	var buf bytes.Buffer
	buf.Grow(len(body) + 1024)
	fmt.Fprintf(&buf, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, uri, host)
	writeMessage(&buf, h, body)
	return buf.Bytes(), nil
}

// encodeResponse writes a response in HTTP/1.1 wire format.
func encodeResponse(status int, h http.Header, body []byte) []byte {
	text := http.StatusText(status)
	if text == "" {
		text = "Status"
	}
	var buf bytes.Buffer
	buf.Grow(len(body) + 1024)
	fmt.Fprintf(&buf, "HTTP/1.1 %03d %s\r\n", status, text)
	writeMessage(&buf, cleanHeader(h), body)
	return buf.Bytes()
}

func errorResponse(status int, msg string) []byte {
	return encodeResponse(status, http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, []byte(msg+"\n"))
}

// writeMessage ends a request or status line with headers, the body's
// length and the body.
func writeMessage(buf *bytes.Buffer, h http.Header, body []byte) {
	_ = h.Write(buf) // a bytes.Buffer does not fail; values' newlines become spaces
	fmt.Fprintf(buf, "Content-Length: %d\r\n\r\n", len(body))
	buf.Write(body)
}

// cleanHeader copies h without hop-by-hop headers (and those the
// Connection header names), trailers, and names that would not parse at
// the other end.
func cleanHeader(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, v := range h {
		if validHeaderName(k) {
			out[k] = v
		}
	}
	for _, c := range h.Values("Connection") {
		for name := range strings.SplitSeq(c, ",") {
			out.Del(strings.TrimSpace(name))
		}
	}
	for _, k := range hopHeaders {
		out.Del(k)
	}
	return out
}

// validHeaderName: an RFC 9110 token, as header names and methods are
// (which rules out trailer keys, "Trailer:NAME", too).
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range []byte(k) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// wireSafe: no spaces or control characters, which would break the
// request line.
func wireSafe(s string) bool {
	for _, c := range []byte(s) {
		if c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// recorder is the http.ResponseWriter a forwarded request is served
// with: it keeps the status, the headers as they were when it was set,
// and up to maxHTTPBody of body.
type recorder struct {
	header   http.Header
	sent     http.Header
	status   int
	body     bytes.Buffer
	tooLarge bool
}

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(code int) {
	switch {
	case w.status != 0:
		return
	case code >= 100 && code < 200:
		return // informational answers are not forwarded
	case code < 100 || code > 999:
		code = http.StatusInternalServerError // net/http would panic
	}
	w.status = code
	w.sent = w.header.Clone()
}

func (w *recorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		// As net/http does: a body without a type is sniffed.
		if _, typed := w.header["Content-Type"]; !typed && len(p) > 0 {
			w.header.Set("Content-Type", http.DetectContentType(p))
		}
		w.WriteHeader(http.StatusOK)
	}
	if w.body.Len()+len(p) > maxHTTPBody {
		w.tooLarge = true
		return 0, ErrBodyTooLarge
	}
	return w.body.Write(p)
}

// encode is the response as served: 200 with the current headers if the
// handler set nothing.
func (w *recorder) encode() []byte {
	if w.status == 0 {
		return encodeResponse(http.StatusOK, w.header, w.body.Bytes())
	}
	return encodeResponse(w.status, w.sent, w.body.Bytes())
}
