package server

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"talkratio/reply"
)

// Host and origin checks: the defences against DNS rebinding and
// cross-site requests, which a token alone does not give (a browser sends
// the cookie, and in open mode there is nothing to send at all).

// hostAllowed reports whether a request's Host (or an Origin's host) names
// this service: a loopback name or address, or one of the allowed hosts.
// Ports do not matter: a rebinding page has its own host name, whatever
// the port.
func (s *Server) hostAllowed(hostport string) bool {
	h := hostname(hostport)
	if h == "" {
		return false
	}
	if isLoopbackName(h) {
		return true
	}
	for _, a := range s.cfg.AllowedHosts {
		if a == "*" || strings.EqualFold(hostname(a), h) {
			return true
		}
	}
	return false
}

// hostname is a Host header's name, without port, brackets or a trailing
// dot, in lower case.
func hostname(hostport string) string {
	h := hostport
	if sh, _, err := net.SplitHostPort(hostport); err == nil {
		h = sh
	}
	h = strings.TrimSuffix(strings.Trim(h, "[]"), ".")
	return strings.ToLower(h)
}

// isLoopbackName: localhost and its subdomains resolve to loopback in
// every browser (RFC 6761), and so do loopback addresses.
func isLoopbackName(h string) bool {
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// safeMethod: requests that change nothing.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// publicPath: health checks answer whatever the Host (an orchestrator's
// probe uses the pod's address) and never need a token.
func publicPath(p string) bool { return p == "/livez" || p == "/readyz" }

// sameOrigin reports whether the request's Origin is this service as the
// request reached it: same host and port, and that host allowed. A
// request without Origin is not from a browser page and passes.
func (s *Server) sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") &&
		strings.EqualFold(u.Host, r.Host) && s.hostAllowed(u.Host)
}

// crossSite reports why a state-changing request must be refused as
// cross-site, or "". Requests with an Authorization header are exempt: a
// page on another site cannot set one without this service's consent
// (CORS), which it never gives.
func (s *Server) crossSite(r *http.Request) string {
	if safeMethod(r.Method) || r.Header.Get("Authorization") != "" {
		return ""
	}
	if r.Header.Get("Origin") != "" {
		if !s.sameOrigin(r) {
			return "a request from another site (Origin " + r.Header.Get("Origin") + ") may not change anything here"
		}
		return ""
	}
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "same-origin", "none":
		return ""
	case "":
	default:
		return "a request from another site (Sec-Fetch-Site " + site + ") may not change anything here"
	}
	if _, err := r.Cookie(tokenCookie); err == nil {
		return "a signed-in request that changes something must come from this service's own pages (it has no Origin header)"
	}
	return ""
}

// guard refuses requests for a host this service does not answer to (DNS
// rebinding) and cross-site requests that would change something (CSRF,
// login CSRF).
func (s *Server) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !publicPath(r.URL.Path) && !s.hostAllowed(r.Host) {
			reply.WriteError(w, reply.Errorf(http.StatusMisdirectedRequest,
				"this service does not answer to the host %q: add it to -allowed-hosts", hostname(r.Host)))
			return
		}
		if why := s.crossSite(r); why != "" {
			reply.WriteError(w, reply.Errorf(http.StatusForbidden, "%s", why))
			return
		}
		h.ServeHTTP(w, r)
	})
}
