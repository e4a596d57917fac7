package twilio

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// SignatureHeader carries Twilio's request signature.
const SignatureHeader = "X-Twilio-Signature"

// maxAuthTokenBytes: an auth token is 32 hex digits; a file much larger is
// the wrong file.
const maxAuthTokenBytes = 1024

// LoadAuthToken reads the account's auth token from a file (the token and
// optional surrounding whitespace).
func LoadAuthToken(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("twilio auth token: %w", err)
	}
	if len(b) > maxAuthTokenBytes {
		return nil, fmt.Errorf("twilio auth token: %s holds %d bytes, not a token", path, len(b))
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, fmt.Errorf("twilio auth token: %s is empty", path)
	}
	return b, nil
}

// Signature is the X-Twilio-Signature of a request to rawURL without POST
// parameters (a websocket upgrade is a GET): the base64 HMAC-SHA1 of the
// full URL, query string included, keyed with the account's auth token
// (Twilio's "Webhooks security").
func Signature(token []byte, rawURL string) string {
	mac := hmac.New(sha1.New, token)
	mac.Write([]byte(rawURL))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

var errBadSignature = errors.New("X-Twilio-Signature does not match the request URL and the auth token")

// checkSignature checks r's signature against the URLs Twilio may have
// signed for it.
func checkSignature(token []byte, publicURL *url.URL, r *http.Request) error {
	got := r.Header.Get(SignatureHeader)
	if got == "" {
		return errors.New("no X-Twilio-Signature header")
	}
	gotMAC, err := base64.StdEncoding.DecodeString(got)
	if err != nil {
		return fmt.Errorf("X-Twilio-Signature is not base64: %w", err)
	}
	for _, u := range signedURLs(publicURL, r) {
		mac := hmac.New(sha1.New, token)
		mac.Write([]byte(u))
		if hmac.Equal(gotMAC, mac.Sum(nil)) {
			return nil
		}
	}
	return errBadSignature
}

// signedURLs are the URLs Twilio may have signed for r: the URL the TwiML
// named (publicURL's scheme and host, when the service is behind a proxy,
// else the request's own), with and without an explicit default port, as
// Twilio's own validators try both.
func signedURLs(publicURL *url.URL, r *http.Request) []string {
	scheme, host := "ws", r.Host
	if r.TLS != nil {
		scheme = "wss"
	}
	if p := strings.ToLower(r.Header.Get("X-Forwarded-Proto")); p == "https" || p == "wss" {
		scheme = "wss"
	}
	prefix := ""
	if publicURL != nil {
		scheme, host = publicURL.Scheme, publicURL.Host
		prefix = strings.TrimSuffix(publicURL.Path, "/")
	}
	base := scheme + "://"
	path := prefix + r.URL.RequestURI()
	urls := []string{base + host + path}
	def := "80"
	if scheme == "wss" || scheme == "https" {
		def = "443"
	}
	if h, p, err := net.SplitHostPort(host); err == nil {
		if p == def {
			urls = append(urls, base+bracket(h)+path)
		}
	} else {
		urls = append(urls, base+net.JoinHostPort(strings.Trim(host, "[]"), def)+path)
	}
	return urls
}

// bracket puts an IPv6 literal back in brackets.
func bracket(h string) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]"
	}
	return h
}
