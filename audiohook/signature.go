package audiohook

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// Headers of an AudioHook connection request (AudioHook protocol,
// "Establishing a connection").
const (
	HeaderAPIKey         = "X-API-KEY"
	HeaderOrganizationID = "Audiohook-Organization-Id"
	HeaderSessionID      = "Audiohook-Session-Id"
	HeaderCorrelationID  = "Audiohook-Correlation-Id"
)

// Signature checking limits.
const (
	// MaxSignatureAge: Genesys signs the request just before it connects;
	// a signature older than this is a replay (the reference server uses
	// the same bound).
	MaxSignatureAge = 10 * time.Second
	// clockSkew tolerated between Genesys's clock and ours.
	clockSkew = 3 * time.Second
	// minNonceLen: the nonce carries at least 128 bits, 22 base64
	// characters.
	minNonceLen = 22
	// maxNonces bounds the replay cache: more distinct signatures than
	// this within MaxSignatureAge is not Genesys.
	maxNonces = 100000
)

// requiredComponents must all be covered by the signature: what AudioHook
// signs.
var requiredComponents = []string{
	"@request-target", "@authority", "audiohook-organization-id",
	"audiohook-session-id", "audiohook-correlation-id", "x-api-key",
}

// authError refuses a connection request; reason is the metric label.
type authError struct {
	reason string // reasonKey or reasonSignature
	msg    string
}

func (e *authError) Error() string { return e.msg }

func keyErrorf(format string, args ...any) error {
	return &authError{reasonKey, fmt.Sprintf(format, args...)}
}

func sigErrorf(format string, args ...any) error {
	return &authError{reasonSignature, fmt.Sprintf(format, args...)}
}

// LoadKeys reads API keys and their client secrets from a file: one key a
// line, "API_KEY CLIENT_SECRET" (the secret as base64, as Genesys shows
// it; a key without a secret takes unsigned requests, as an integration
// configured without a client secret sends), '#' starts a comment.
func LoadKeys(path string) (map[string][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audiohook keys: %w", err)
	}
	defer f.Close()
	keys := map[string][]byte{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) > 2 {
			return nil, fmt.Errorf("audiohook keys: %s line %d: want API_KEY [CLIENT_SECRET]", path, n)
		}
		var secret []byte
		if len(fields) == 2 {
			if secret, err = base64.StdEncoding.DecodeString(fields[1]); err != nil {
				return nil, fmt.Errorf("audiohook keys: %s line %d: the client secret is not base64: %w", path, n, err)
			}
		}
		keys[fields[0]] = secret
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("audiohook keys: %s: %w", path, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("audiohook keys: %s holds no key", path)
	}
	return keys, nil
}

// nonceCache remembers the nonces of accepted signatures while they are
// valid, so that a captured request cannot be replayed.
type nonceCache struct {
	mu   sync.Mutex
	seen map[string]time.Time // nonce to when it stops being valid
}

// fresh records nonce until valid; false if it was seen already.
func (c *nonceCache) fresh(nonce string, now, until time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[string]time.Time{}
	}
	if len(c.seen) >= maxNonces {
		for n, t := range c.seen {
			if now.After(t) {
				delete(c.seen, n)
			}
		}
		if len(c.seen) >= maxNonces {
			return false
		}
	}
	if t, ok := c.seen[nonce]; ok && !now.After(t) {
		return false
	}
	c.seen[nonce] = until
	return true
}

// verifyRequest authenticates an AudioHook connection request: its API
// key must be one of keys, and the request must carry an HTTP message
// signature (RFC 9421) by that key's client secret (HMAC-SHA256), covering
// the components AudioHook signs, created within MaxSignatureAge, with a
// nonce not seen before. A key with an empty secret takes unsigned
// requests.
func verifyRequest(r *http.Request, keys map[string][]byte, now time.Time, nonces *nonceCache) error {
	apiKey := canonicalField(r.Header.Values(HeaderAPIKey))
	if apiKey == "" {
		return keyErrorf("no %s header", HeaderAPIKey)
	}
	secret, ok := keys[apiKey]
	if !ok {
		return keyErrorf("unknown API key")
	}
	inputField := canonicalField(r.Header.Values("Signature-Input"))
	sigField := canonicalField(r.Header.Values("Signature"))
	if inputField == "" && sigField == "" {
		if len(secret) == 0 {
			return nil
		}
		return sigErrorf("unsigned request for a key with a client secret")
	}
	inputs, err := parseDictionary(inputField)
	if err != nil {
		return sigErrorf("Signature-Input: %v", err)
	}
	sigs, err := parseDictionary(sigField)
	if err != nil {
		return sigErrorf("Signature: %v", err)
	}
	if len(inputs.keys) == 0 || len(sigs.keys) == 0 {
		return sigErrorf("Signature-Input or Signature is empty")
	}
	// The first signature is Genesys's; more are not used.
	label := inputs.keys[0]
	in := inputs.m[label]
	sm, ok := sigs.m[label]
	switch {
	case !ok:
		return sigErrorf("no Signature for label %q", label)
	case sm.inner || sm.item.kind != sfBytes:
		return sigErrorf("Signature %q is not a byte sequence", label)
	case !in.inner:
		return sigErrorf("Signature-Input %q is not an inner list", label)
	}
	var p struct {
		alg, keyid, nonce   string
		created, expires    int64
		hasCreated, hasExps bool
	}
	for _, prm := range in.params {
		v := prm.val
		switch prm.key {
		case "alg", "keyid", "nonce", "tag":
			if v.kind != sfString {
				return sigErrorf("signature parameter %s is not a string", prm.key)
			}
			switch prm.key {
			case "alg":
				p.alg = v.s
			case "keyid":
				p.keyid = v.s
			case "nonce":
				p.nonce = v.s
			}
		case "created", "expires":
			if v.kind != sfInteger || v.i < 0 {
				return sigErrorf("signature parameter %s is not a non-negative integer", prm.key)
			}
			if prm.key == "created" {
				p.created, p.hasCreated = v.i, true
			} else {
				p.expires, p.hasExps = v.i, true
			}
		}
		// Other parameters are signed with the rest and otherwise ignored.
	}
	switch {
	case p.alg != "" && p.alg != "hmac-sha256":
		return sigErrorf("signature algorithm %q (AudioHook signs with hmac-sha256)", p.alg)
	case p.keyid != apiKey:
		return sigErrorf("signature keyid is not the request's API key")
	case len(p.nonce) < minNonceLen:
		return sigErrorf("signature nonce shorter than %d characters", minNonceLen)
	case !p.hasCreated:
		return sigErrorf("signature without created time")
	}
	created := time.Unix(p.created, 0)
	switch {
	case created.After(now.Add(clockSkew)):
		return sigErrorf("signature created in the future")
	case created.Add(MaxSignatureAge + clockSkew).Before(now):
		return sigErrorf("signature older than %v", MaxSignatureAge)
	case p.hasExps && time.Unix(p.expires, 0).Add(clockSkew).Before(now):
		return sigErrorf("signature expired")
	}
	base, err := signatureBase(r, in)
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(base))
	if !hmac.Equal(mac.Sum(nil), sm.item.b) {
		return sigErrorf("signature does not match")
	}
	if !nonces.fresh(p.nonce, now, created.Add(MaxSignatureAge+2*clockSkew)) {
		return sigErrorf("signature nonce seen before (a replayed request)")
	}
	return nil
}

// signatureBase builds the signature base of RFC 9421 section 2.5 for the
// covered components of in.
func signatureBase(r *http.Request, in sfMember) (string, error) {
	var b strings.Builder
	seen := map[string]bool{}
	for i, it := range in.list {
		if it.kind != sfString {
			return "", sigErrorf("a covered component is not a string")
		}
		if len(in.listPar[i]) > 0 {
			return "", sigErrorf("component parameters (%q) are not supported", it.s)
		}
		name := it.s
		if seen[name] {
			return "", sigErrorf("component %q covered twice", name)
		}
		seen[name] = true
		var val string
		if strings.HasPrefix(name, "@") {
			v, err := derivedComponent(r, name)
			if err != nil {
				return "", err
			}
			val = v
		} else {
			if name != strings.ToLower(name) {
				return "", sigErrorf("component %q is not lower case", name)
			}
			vs := r.Header.Values(name)
			if len(vs) == 0 {
				return "", sigErrorf("covered header %q is absent", name)
			}
			val = canonicalField(vs)
		}
		if strings.ContainsAny(val, "\r\n") {
			return "", sigErrorf("component %q holds a line break", name)
		}
		it.serialize(&b)
		b.WriteString(": ")
		b.WriteString(val)
		b.WriteByte('\n')
	}
	for _, c := range requiredComponents {
		if !seen[c] {
			return "", sigErrorf("the signature does not cover %q", c)
		}
	}
	b.WriteString(`"@signature-params": `)
	b.WriteString(in.serializeInnerList())
	return b.String(), nil
}

// derivedComponent is a derived component's value (RFC 9421 section 2.2).
func derivedComponent(r *http.Request, name string) (string, error) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	switch name {
	case "@method":
		return r.Method, nil
	case "@authority":
		return strings.ToLower(r.Host), nil
	case "@scheme":
		return scheme, nil
	case "@request-target":
		return r.RequestURI, nil
	case "@target-uri":
		return scheme + "://" + strings.ToLower(r.Host) + r.RequestURI, nil
	case "@path":
		return r.URL.EscapedPath(), nil
	case "@query":
		return "?" + r.URL.RawQuery, nil
	}
	return "", sigErrorf("derived component %q is not supported", name)
}

// canonicalField is a header field's value as signatures cover it (RFC
// 9421 section 2.1): each line's value trimmed, several lines joined with
// ", ". (Go's HTTP server has already unfolded obsolete line folding.)
func canonicalField(vs []string) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strings.Trim(v, " \t")
	}
	return strings.Join(out, ", ")
}

var errNoKeys = errors.New("audiohook: no API keys: every AudioHook connection is authenticated with an API key")
