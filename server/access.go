package server

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"talkratio/auth"
	"talkratio/reply"
)

// tokenCookie carries a dashboard user's token: HttpOnly so that scripts
// cannot read it, SameSite=Strict so that other sites cannot ride on it.
const tokenCookie = "talkratio_token"

func principalOf(r *http.Request) *auth.Principal { return auth.FromContext(r.Context()) }

// bearer returns the request's token and whether it came in a cookie: the
// Authorization header (its scheme is case-insensitive, RFC 7235), else
// the cookie.
func bearer(r *http.Request) (tok string, fromCookie bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, t, _ := strings.Cut(strings.TrimSpace(h), " ")
		if strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(t), false
		}
		return "", false
	}
	if c, err := r.Cookie(tokenCookie); err == nil {
		return c.Value, true
	}
	return "", false
}

// authenticate attaches the caller's principal. With auth off, everyone is
// allowed everything; with it on, a missing token is anonymous (allowed
// only the public pages). A bad token in the Authorization header is
// refused at once, except where no token is needed (health, sign-in and
// out); a bad cookie (expired, or signed with an old key) means signed
// out: it is cleared and the request goes on as anonymous, so that the
// sign-in page shows rather than a 401.
func (s *Server) authenticate(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Auth == nil {
			h.ServeHTTP(w, r.WithContext(auth.NewContext(r.Context(), &auth.Principal{Open: true})))
			return
		}
		p := &auth.Principal{}
		if tok, fromCookie := bearer(r); tok != "" {
			t, err := s.cfg.Auth.Check(tok)
			switch {
			case err == nil:
				p.Grants, p.Subject = t.Grants, t.Subject
			case fromCookie:
				s.clearCookie(w, r)
			case !tokenless(r.URL.Path):
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
				reply.WriteError(w, reply.Errorf(http.StatusUnauthorized, "%v", err))
				return
			}
		}
		h.ServeHTTP(w, r.WithContext(auth.NewContext(r.Context(), p)))
	})
}

// tokenless: the paths that never need a token, so that a stale one never
// keeps anyone from checking health or signing in again.
func tokenless(p string) bool { return publicPath(p) || p == "/login" || p == "/logout" }

// secure reports whether the cookie must be Secure: the request came over
// TLS, or the service sits behind a TLS-terminating proxy
// (Config.SecureCookies).
func (s *Server) secure(r *http.Request) bool { return r.TLS != nil || s.cfg.SecureCookies }

func (s *Server) clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.secure(r)})
}

// require wraps a handler with a permission check: 401 without a token,
// 403 with a token that lacks the grant.
func (s *Server) require(perm auth.Permission, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := principalOf(r)
		if p.Has(perm) {
			h(w, r)
			return
		}
		if p.Anonymous() {
			w.Header().Set("WWW-Authenticate", `Bearer realm="talkratio"`)
			reply.WriteError(w, reply.Errorf(http.StatusUnauthorized, "this needs a token: send Authorization: Bearer TOKEN, or sign in at /login"))
			return
		}
		reply.WriteError(w, reply.Errorf(http.StatusForbidden, "your token does not allow this"))
	}
}

// handleLogin takes a token from the sign-in form and keeps it in a
// cookie for the dashboard's requests (and its websocket), for as long as
// the token is valid.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Auth == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	tok := strings.TrimSpace(r.PostFormValue("token"))
	t, err := s.cfg.Auth.Check(tok)
	if err != nil {
		reply.WriteError(w, reply.Errorf(http.StatusUnauthorized, "%v", err))
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: tokenCookie, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: s.secure(r), MaxAge: max(1, int(time.Until(t.Expires).Seconds())),
	})
	http.Redirect(w, r, SafeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

// SafeNext returns where to send a user after sign-in: next if it is a
// path on this site, else "/". It refuses anything a browser could resolve
// to another host: a scheme or host, "//", backslashes (browsers read
// them as slashes) and control characters (browsers drop tabs and
// newlines, so "/\t/evil" becomes "//evil").
func SafeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsRune(next, '\\') {
		return "/"
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return next
}

// handleLogout forgets the dashboard's token.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	s.clearCookie(w, r)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// handleWhoami tells the dashboard what its user may do, so that it can
// offer sign-in or hide what is not allowed.
func (s *Server) handleWhoami(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	reply.JSON(w, map[string]any{
		"auth_required": s.cfg.Auth != nil, "signed_in": p.Open || p.Subject != "",
		"subject": p.Subject, "grants": p.Grants, "open": p.Open,
	})
}
