// Package auth says who may do what: grants, the signed tokens that carry
// them, their keys, and the principal a request acts as. It knows nothing
// of HTTP: the server reads tokens from requests and puts the principal in
// the request's context, where the handlers of every package find it.
package auth

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
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

// New returns an Auth with the given key (at least 32 bytes).
func New(key []byte) (*Auth, error) {
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
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: tokenIssuer, Subject: subject, IssuedAt: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)), ID: hex.EncodeToString(id),
		},
		Grants: g,
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(a.key)
}

// Verify checks a token's signature, algorithm, issuer and expiry and
// returns its grants and subject.
func (a *Auth) Verify(token string) (*Grants, string, error) {
	t, err := a.Check(token)
	if err != nil {
		return nil, "", err
	}
	return &t.Grants, t.Subject, nil
}

// Token is what a valid token says.
type Token struct {
	Grants  Grants
	Subject string
	// Expires is when the token stops being valid: a cookie that carries
	// it should last no longer.
	Expires time.Time
}

// Check is Verify, with the token's expiry.
func (a *Auth) Check(token string) (Token, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return a.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(tokenIssuer), jwt.WithExpirationRequired(), jwt.WithLeeway(30*time.Second))
	if err != nil {
		return Token{}, fmt.Errorf("invalid token: %w", err)
	}
	return Token{Grants: c.Grants, Subject: c.Subject, Expires: c.ExpiresAt.Time}, nil
}
