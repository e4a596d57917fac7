package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Issue 10, point 10: profiling off loopback follows -addr's rule: no
// token key, no start.
func TestPprofOffLoopbackNeedsKey(t *testing.T) {
	t.Setenv("TALKRATIO_TOKEN_KEY", "")
	var stderr bytes.Buffer
	code := runServe([]string{"-addr", "localhost:0", "-pprof-addr", "0.0.0.0:0", "-data", t.TempDir()}, &bytes.Buffer{}, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "-pprof-addr 0.0.0.0:0 is reachable from other machines") {
		t.Errorf("exit %d, %q", code, stderr.String())
	}
}

// Issue 10, point 6: the host allow-list is the -addr host, or every
// address of the machine for a wildcard, plus -public-ip and
// -allowed-hosts.
func TestAllowedHostsFor(t *testing.T) {
	got := allowedHostsFor("talkratio.example:8080", []string{"203.0.113.7"}, "a.example, b.example,")
	if want := []string{"203.0.113.7", "talkratio.example", "a.example", "b.example"}; !slices.Equal(got, want) {
		t.Errorf("named host: %q, want %q", got, want)
	}
	if got := allowedHostsFor(":8080", nil, ""); !slices.Contains(got, "127.0.0.1") {
		t.Errorf("wildcard: %q lacks the machine's addresses", got)
	}
	if got := allowedHostsFor("0.0.0.0:8080", nil, "*"); got[len(got)-1] != "*" {
		t.Errorf("-allowed-hosts *: %q", got)
	}
}

// The phone-system flags: SIPREC needs its allow list, and a bad rep rule
// or port range is a usage error that says which flag.
func TestIngestFlags(t *testing.T) {
	t.Setenv("TALKRATIO_TOKEN_KEY", "")
	t.Setenv(twilioTokenEnv, "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-sip-addr", "127.0.0.1:0"}, "-sip-addr needs -sip-allow"},
		{[]string{"-sip-addr", "127.0.0.1:0", "-sip-allow", "10.0.0.0/33"}, "-sip-allow"},
		{[]string{"-sip-addr", "127.0.0.1:0", "-sip-allow", "127.0.0.1", "-siprec-rep", "2000-1000"}, "-siprec-rep"},
		{[]string{"-sip-addr", "127.0.0.1:0", "-sip-allow", "127.0.0.1", "-rtp-ports", "5-4"}, "-rtp-ports"},
		{[]string{"-sip-tls-addr", "127.0.0.1:0"}, "-sip-tls-addr needs -sip-addr"},
		{[]string{"-twilio-auth-token-file", "/nonexistent/token"}, "twilio auth token"},
		{[]string{"-audiohook-keys-file", "/nonexistent/keys"}, "audiohook keys"},
	} {
		var stderr bytes.Buffer
		code := runServe(append([]string{"-addr", "localhost:0", "-data", t.TempDir()}, tc.args...), &bytes.Buffer{}, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, %q; want %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

// A -whip-media that is neither lite nor pion, or a -public-ip that is
// not an IP address, is a usage error, caught before the service creates
// or opens anything in its data directory.
func TestServeFlagsCheckedFirst(t *testing.T) {
	t.Setenv("TALKRATIO_TOKEN_KEY", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-whip-media", "Lite"}, `-whip-media "Lite": want lite or pion`},
		{[]string{"-public-ip", "203.0.113.7, example.com"}, `-public-ip: " example.com" is not an IP address`},
	} {
		data := filepath.Join(t.TempDir(), "data")
		var stderr bytes.Buffer
		code := runServe(append([]string{"-addr", "localhost:0", "-data", data}, tc.args...), &bytes.Buffer{}, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, %q; want %d and %q", tc.args, code, stderr.String(), exitUsage, tc.want)
		}
		if _, err := os.Stat(data); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%v: the data directory was touched: %v", tc.args, err)
		}
	}
}
