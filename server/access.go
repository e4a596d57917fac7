package server

import (
	"net/http"
	"strings"
	"time"

	"talkratio/auth"
	"talkratio/reply"
)

// tokenCookie carries a dashboard user's token: HttpOnly so that scripts
// cannot read it, SameSite=Strict so that other sites cannot ride on it.
const tokenCookie = "talkratio_token"

func principalOf(r *http.Request) *auth.Principal { return auth.FromContext(r.Context()) }

// bearer returns the request's token: the Authorization header, else the
// cookie.
func bearer(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
		return ""
	}
	if c, err := r.Cookie(tokenCookie); err == nil {
		return c.Value
	}
	return ""
}

// authenticate attaches the caller's principal. With auth off, everyone is
// allowed everything; with it on, a missing token is anonymous (allowed
// only the public pages) and a bad token is refused at once.
func (s *Server) authenticate(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Auth == nil {
			h.ServeHTTP(w, r.WithContext(auth.NewContext(r.Context(), &auth.Principal{Open: true})))
			return
		}
		p := &auth.Principal{}
		if tok := bearer(r); tok != "" {
			g, sub, err := s.cfg.Auth.Verify(tok)
			if err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
				reply.WriteError(w, reply.Errorf(http.StatusUnauthorized, "%v", err))
				return
			}
			p.Grants, p.Subject = *g, sub
		}
		h.ServeHTTP(w, r.WithContext(auth.NewContext(r.Context(), p)))
	})
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
// cookie for the dashboard's requests (and its websocket).
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Auth == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	tok := strings.TrimSpace(r.PostFormValue("token"))
	if _, _, err := s.cfg.Auth.Verify(tok); err != nil {
		reply.WriteError(w, reply.Errorf(http.StatusUnauthorized, "%v", err))
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: tokenCookie, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil, MaxAge: int((30 * 24 * time.Hour).Seconds()),
	})
	next := r.PostFormValue("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// handleLogout forgets the dashboard's token.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
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
