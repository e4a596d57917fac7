package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"talkratio/audio"
	"talkratio/whipclient"
)

// freeAddr returns a loopback address with a free port.
// buildServe builds the binary under test.
func buildServe(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "talkratio")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// repPackets are the Opus packets of the test recording, replayed as
// live calls' audio.
func repPackets(t *testing.T) [][]byte {
	t.Helper()
	f, err := os.Open("../../server/testdata/rep.opus")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pkts, err := audio.ReadOggPackets(f, 2)
	if err != nil {
		t.Fatal(err)
	}
	return pkts
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServe runs the real binary and waits until it answers.
func startServe(t *testing.T, bin, addr, data string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "serve", "-addr", addr, "-data", data, "-log-level", "warn", "-drain-timeout", "20s")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); ; {
		if r, err := http.Get("http://" + addr + "/readyz"); err == nil && r.StatusCode == 200 {
			r.Body.Close()
			return cmd
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("talkratio serve did not come up")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// SIGTERM in the middle of live calls ends and stores every one of them;
// after a restart on the same data directory the library has them all.
func TestSIGTERMStoresLiveCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildServe(t)
	data := t.TempDir()
	addr := freeAddr(t)
	cmd := startServe(t, bin, addr, data)
	defer cmd.Process.Kill()

	pkts := repPackets(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const calls = 3
	var ids []string
	var pubs []*whipclient.Publisher
	for i := range calls {
		pub, err := whipclient.Publish(ctx, whipclient.PublishOptions{
			Endpoint: fmt.Sprintf("http://%s/whip?name=restart-%d", addr, i),
			Tracks:   []whipclient.TrackSpec{{StreamID: "rep", TrackID: "rep"}, {StreamID: "customer", TrackID: "customer"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, pub.CallID())
		pubs = append(pubs, pub)
	}
	// Two seconds of audio on every call, then SIGTERM while they are
	// still publishing.
	for _, p := range pkts[:100] {
		for _, pub := range pubs {
			pub.WriteSample(0, p, 20*time.Millisecond)
			pub.WriteSample(1, p, 20*time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM, want 0", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not exit within the drain deadline")
	}
	for _, pub := range pubs {
		pub.Abort()
	}

	// Restart on the same data: every call is there, ended, analyzed.
	cmd2 := startServe(t, bin, addr, data)
	defer cmd2.Process.Kill()
	for _, id := range ids {
		r, err := http.Get("http://" + addr + "/api/calls/" + id)
		if err != nil {
			t.Fatal(err)
		}
		var rec struct {
			State     string  `json:"state"`
			DurationS float64 `json:"duration_s"`
			ListenPct float64 `json:"listen_pct"`
			Segments  *struct {
				Rep []any `json:"rep"`
			} `json:"segments"`
		}
		json.NewDecoder(r.Body).Decode(&rec)
		r.Body.Close()
		if r.StatusCode != 200 || rec.State != "ended" || rec.DurationS < 1.5 || rec.Segments == nil || len(rec.Segments.Rep) == 0 {
			t.Errorf("call %s after restart: %d %+v", id, r.StatusCode, rec)
		}
	}
	cmd2.Process.Signal(syscall.SIGTERM)
	cmd2.Wait()
}
