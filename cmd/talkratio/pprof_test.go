package main

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"talkratio/auth"
)

// Issue 10, point 10: with a token key, -pprof-addr off loopback starts,
// and the real binary's profiling listener serves admins only: no token
// 401, a viewer-and-publisher token 403, an admin token the profiles.
func TestPprofBehindAdminGrant(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildServe(t)
	key := auth.NewKey()
	keyFile := filepath.Join(t.TempDir(), "talkratio.key")
	if err := os.WriteFile(keyFile, []byte(key), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(auth.ParseKey(key))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TALKRATIO_TOKEN_KEY", "")
	_, port, _ := net.SplitHostPort(freeAddr(t))
	cmd := serveArgs(t, bin, freeAddr(t), t.TempDir(), "-token-key-file", keyFile, "-pprof-addr", "0.0.0.0:"+port)
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()

	mint := func(g auth.Grants) string {
		tok, err := a.Mint("t", g, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	url := "http://127.0.0.1:" + port + "/debug/pprof/"
	get := func(tok string) (int, string) {
		r, _ := http.NewRequest("GET", url, nil)
		if tok != "" {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp.StatusCode, b.String()
	}
	// The side listener starts alongside the main one.
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if code, _ := get(""); code != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the profiling listener never came up")
		}
	}
	for _, c := range []struct {
		who  string
		tok  string
		want int
	}{
		{"no token", "", 401},
		{"viewer and publisher", mint(auth.Grants{View: true, Publish: true}), 403},
		{"admin", mint(auth.Grants{Admin: true}), 200},
	} {
		code, body := get(c.tok)
		if code != c.want || (code == 200) != strings.Contains(body, "goroutine") {
			t.Errorf("%s: %d %.80q, want %d", c.who, code, body, c.want)
		}
	}
}
