package server

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"

	"talkratio/auth"
	"talkratio/reply"
)

// unlessDraining refuses new calls and uploads once the service shuts
// down: the one draining check of every way a call comes in.
func (s *Server) unlessDraining(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			reply.WriteError(w, &reply.Error{Code: http.StatusServiceUnavailable, Msg: "the service is shutting down", RetryAfter: drainingRetrySeconds})
			return
		}
		h(w, r)
	}
}

// page serves one HTML file of the dashboard.
func (s *Server) page(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := fs.ReadFile(s.cfg.Static, name)
		if err != nil {
			reply.WriteError(w, reply.Errorf(http.StatusNotFound, "page %s is missing from this build", name))
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	}
}

// callPage serves a page about one call if the call exists, 404
// otherwise.
func (s *Server) callPage(name string) http.HandlerFunc {
	serve := s.page(name)
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		p := principalOf(r)
		// Without a token the page loads and asks to sign in; it holds
		// no data itself, and its existence check would leak call ids.
		if p.Open || p.Has(auth.View) {
			if _, err := s.visibleCall(r, id); err != nil {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.WriteHeader(http.StatusNotFound)
				fmt.Fprint(w, `<!doctype html><meta charset="utf-8"><title>No such call</title><p>No such call. <a href="/">Back to all calls</a></p>`)
				return
			}
		}
		serve(w, r)
	}
}

// noDirListing refuses directory paths, so the file server never lists.
func noDirListing(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || r.URL.Path[len(r.URL.Path)-1] == '/' {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// securityHeaders sets the headers every response carries: no sniffing,
// no framing, and a CSP that allows only this origin.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

// statusRecorder captures the status code for the request counter.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Hijack hands the connection to the websocket upgrader, which asks for
// http.Hijacker directly.
func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("response writer cannot be hijacked")
	}
	r.code = http.StatusSwitchingProtocols
	return h.Hijack()
}

func (s *Server) instrument(name string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		h(rec, r)
		code := rec.code
		if code == 0 {
			code = http.StatusOK // hijacked (websocket) or nothing written
			if name == "websocket" {
				code = http.StatusSwitchingProtocols
			}
		}
		s.m.httpRequests.WithLabelValues(name, fmt.Sprint(code)).Inc()
	})
}
