package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"talkratio/auth"
)

// The upload rate limit stops a client past its burst, but never an admin
// importing a backlog, nor, on a service that runs open, a caller on the
// same machine.
func TestUploadRateLimitExemptions(t *testing.T) {
	a := testAuth(t)
	tests := []struct {
		name    string
		auth    *auth.Auth
		token   string
		remote  string
		limited bool
	}{
		{"open, loopback caller", nil, "", "127.0.0.1:50000", false},
		{"open, loopback IPv6 caller", nil, "", "[::1]:50000", false},
		{"open, other machine", nil, "", "192.0.2.7:50000", true},
		{"publish token", a, mint(t, a, auth.Grants{Publish: true}), "192.0.2.7:50000", true},
		{"publish token on loopback", a, mint(t, a, auth.Grants{Publish: true}), "127.0.0.1:50000", true},
		{"admin token", a, mint(t, a, auth.Grants{Admin: true}), "192.0.2.7:50000", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := New(Config{Auth: tc.auth, UploadRate: 0.01, WHIPRate: 1000, Logger: quietLogger()})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			h := srv.Handler()
			codes := map[int]int{}
			for range uploadBurst + 5 {
				// Not a form: answered 415 once past the limiter.
				req := httptest.NewRequest("POST", "/api/calls", strings.NewReader("{}"))
				req.RemoteAddr, req.Host = tc.remote, "localhost:8080"
				req.Header.Set("Content-Type", "application/json")
				if tc.token != "" {
					req.Header.Set("Authorization", "Bearer "+tc.token)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				codes[rec.Code]++
			}
			refused := codes[http.StatusTooManyRequests]
			if tc.limited && refused != 5 || !tc.limited && refused != 0 {
				t.Errorf("codes %v; limited %v", codes, tc.limited)
			}
		})
	}
}
