package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Grants say what a token's holder may do. A token carries any mix.
type Grants struct {
	// Publish: send calls in over WHIP and upload recordings. With
	// PublishRep set, only calls of that rep (the rep field is forced).
	Publish    bool   `json:"publish,omitempty"`
	PublishRep string `json:"publish_rep,omitempty"`
	// View: watch live calls, browse and replay the library, download
	// analyses and audio. With ViewRep set, only that rep's calls.
	View    bool   `json:"view,omitempty"`
	ViewRep string `json:"view_rep,omitempty"`
	// Admin: everything, including deleting calls and /metrics.
	Admin bool `json:"admin,omitempty"`
}

// claims is the JWT payload: the standard claims plus the grants.
type claims struct {
	jwt.RegisteredClaims
	Grants
}

// Auth signs and checks tokens: HMAC-SHA256 JWTs (RFC 7519) with a shared
// key. golang-jwt does the signing and parsing; talkratio only decides
// what the grants allow.
type Auth struct {
	key []byte
}

// minKeyBytes: an HMAC-SHA256 key shorter than the hash is weaker than it
// needs to be.
const minKeyBytes = 32

// tokenIssuer names talkratio in tokens, so that a token minted for
// another service with the same key is refused.
const tokenIssuer = "talkratio"

// NewAuth returns an Auth with the given key (at least 32 bytes).
func NewAuth(key []byte) (*Auth, error) {
	if len(key) < minKeyBytes {
		return nil, fmt.Errorf("token key is %d bytes; use at least %d (talkratio token -new-key)", len(key), minKeyBytes)
	}
	return &Auth{key: key}, nil
}

// NewKey returns a fresh random key, base64-encoded for a key file.
func NewKey() string {
	b := make([]byte, minKeyBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.StdEncoding.EncodeToString(b)
}

// ParseKey reads a key file's content: base64 (as NewKey writes) or, if it
// is not base64, the raw bytes.
func ParseKey(s string) []byte {
	s = strings.TrimSpace(s)
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b
	}
	return []byte(s)
}

// Mint returns a signed token for subject with the grants, valid for ttl.
func (a *Auth) Mint(subject string, g Grants, ttl time.Duration) (string, error) {
	if !g.Publish && !g.View && !g.Admin {
		return "", errors.New("a token needs at least one grant (publish, view or admin)")
	}
	now := time.Now()
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: tokenIssuer, Subject: subject, IssuedAt: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)), ID: newID(8),
		},
		Grants: g,
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(a.key)
}

// Verify checks a token's signature, algorithm, issuer and expiry and
// returns its grants.
func (a *Auth) Verify(token string) (*Grants, string, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return a.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(tokenIssuer), jwt.WithExpirationRequired(), jwt.WithLeeway(30*time.Second))
	if err != nil {
		return nil, "", fmt.Errorf("invalid token: %w", err)
	}
	return &c.Grants, c.Subject, nil
}

// tokenCookie carries a dashboard user's token: HttpOnly so that scripts
// cannot read it, SameSite=Strict so that other sites cannot ride on it.
const tokenCookie = "talkratio_token"

// principal is who is asking, as the request context carries it.
type principal struct {
	grants  Grants
	subject string
	open    bool // auth is off: everything is allowed
}

type principalKey struct{}

func withPrincipal(ctx context.Context, p *principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

func principalOf(r *http.Request) *principal {
	p, _ := r.Context().Value(principalKey{}).(*principal)
	if p == nil {
		return &principal{}
	}
	return p
}

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
			h.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), &principal{open: true})))
			return
		}
		p := &principal{}
		if tok := bearer(r); tok != "" {
			g, sub, err := s.cfg.Auth.Verify(tok)
			if err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
				writeError(w, errorf(http.StatusUnauthorized, "%v", err))
				return
			}
			p.grants, p.subject = *g, sub
		}
		h.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), p)))
	})
}

// Permissions a route needs.
type permission int

const (
	permNone permission = iota
	permPublish
	permView
	permAdmin
)

func (p *principal) has(perm permission) bool {
	switch {
	case p.open || p.grants.Admin || perm == permNone:
		return true
	case perm == permPublish:
		return p.grants.Publish
	case perm == permView:
		return p.grants.View
	}
	return false
}

// canSee reports whether the principal may see a call of this rep.
func (p *principal) canSee(rep string) bool {
	if p.open || p.grants.Admin {
		return true
	}
	return p.grants.View && (p.grants.ViewRep == "" || strings.EqualFold(p.grants.ViewRep, rep))
}

// viewRep is the only rep whose calls the principal sees ("" for all).
func (p *principal) viewRep() string {
	if p.open || p.grants.Admin {
		return ""
	}
	return p.grants.ViewRep
}

// publishRep is the rep a publisher's calls must carry ("" for any).
func (p *principal) publishRep() string {
	if p.open || p.grants.Admin {
		return ""
	}
	return p.grants.PublishRep
}

// require wraps a handler with a permission check: 401 without a token,
// 403 with a token that lacks the grant.
func (s *Server) require(perm permission, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := principalOf(r)
		if p.has(perm) {
			h(w, r)
			return
		}
		if !p.open && p.subject == "" && !p.grants.Admin && !p.grants.View && !p.grants.Publish {
			w.Header().Set("WWW-Authenticate", `Bearer realm="talkratio"`)
			writeError(w, errorf(http.StatusUnauthorized, "this needs a token: send Authorization: Bearer TOKEN, or sign in at /login"))
			return
		}
		writeError(w, errorf(http.StatusForbidden, "your token does not allow this"))
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
		writeError(w, errorf(http.StatusUnauthorized, "%v", err))
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
	writeJSON(w, map[string]any{
		"auth_required": s.cfg.Auth != nil, "signed_in": p.open || p.subject != "",
		"subject": p.subject, "grants": p.grants, "open": p.open,
	})
}
