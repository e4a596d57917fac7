package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	_ "github.com/jackc/pgx/v5/stdlib"

	"talkratio/whipclient"
)

// clusterTestPostgres is a schema of its own in the Postgres of
// TALKRATIO_TEST_POSTGRES (set by .ci/run), dropped after the test.
func clusterTestPostgres(t *testing.T, name string) string {
	t.Helper()
	base := os.Getenv("TALKRATIO_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI without TALKRATIO_TEST_POSTGRES: .ci/run starts a Postgres and sets it")
		}
		t.Skip("no Postgres: set TALKRATIO_TEST_POSTGRES=postgres://...")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	for _, q := range []string{`DROP SCHEMA IF EXISTS ` + name + ` CASCADE`, `CREATE SCHEMA ` + name} {
		if _, err := admin.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		if a, err := sql.Open("pgx", base); err == nil {
			a.Exec(`DROP SCHEMA IF EXISTS ` + name + ` CASCADE`)
			a.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	v := u.Query()
	v.Set("search_path", name)
	u.RawQuery = v.Encode()
	return u.String()
}

// clusterNode is one serve process of the test's cluster.
type clusterNode struct {
	id, addr string
	cmd      *exec.Cmd
	log      *syncBuffer
}

func (n *clusterNode) url() string { return "http://" + n.addr }

// startClusterNode runs a node and waits until it is ready.
func startClusterNode(t *testing.T, bin, id, addr string, args ...string) *clusterNode {
	t.Helper()
	n := &clusterNode{id: id, addr: addr, log: &syncBuffer{}}
	n.cmd = exec.Command(bin, append([]string{"serve", "-addr", addr, "-data", t.TempDir(), "-log-level", "warn",
		"-whip-rate", "1000", "-node-id", id, "-node-url", "http://" + addr}, args...)...)
	n.cmd.Stdout, n.cmd.Stderr = os.Stderr, n.log
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		n.cmd.Process.Kill()
		n.cmd.Wait()
		if t.Failed() {
			t.Logf("node %s's log:\n%s", id, n.log.String())
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; {
		if r, err := http.Get(n.url() + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return n
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s did not come up:\n%s", id, n.log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pump publishes the test's Opus packets on every track of a publisher, in
// real time, until stopped.
type pump struct {
	pub  *whipclient.Publisher
	stop chan struct{}
	done chan struct{}
}

func startPump(pub *whipclient.Publisher, tracks int, pkts [][]byte) *pump {
	p := &pump{pub: pub, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
			for tr := range tracks {
				pub.WriteSample(tr, pkts[i%len(pkts)], 20*time.Millisecond)
			}
		}
	}()
	return p
}

func (p *pump) halt() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
}

// watcher keeps every snapshot a websocket viewer gets.
type watcher struct {
	mu    sync.Mutex
	msgs  [][]byte
	ended chan struct{}
}

func watch(t *testing.T, node *clusterNode, id string) *watcher {
	t.Helper()
	var conn *websocket.Conn
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, resp, err := websocket.DefaultDialer.Dial("ws://"+node.addr+"/ws/calls/"+id, nil)
		if err == nil {
			conn = c
			break
		}
		if time.Now().After(deadline) {
			code := 0
			if resp != nil {
				code = resp.StatusCode
			}
			t.Fatalf("watch call %s on node %s: %v (%d)", id, node.id, err, code)
		}
		time.Sleep(200 * time.Millisecond)
	}
	w := &watcher{ended: make(chan struct{})}
	go func() {
		defer close(w.ended)
		defer conn.Close()
		for {
			_, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			w.mu.Lock()
			w.msgs = append(w.msgs, msg)
			w.mu.Unlock()
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return w
}

func (w *watcher) snapshots() [][]byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([][]byte(nil), w.msgs...)
}

type snapHead struct {
	NowS          float64 `json:"now_s"`
	RepTalkS      float64 `json:"rep_talk_s"`
	CustomerTalkS float64 `json:"customer_talk_s"`
	Call          struct {
		ID    string `json:"id"`
		State string `json:"state"`
	} `json:"call"`
}

// last is the newest snapshot's head, if any came.
func (w *watcher) last(t *testing.T) (snapHead, bool) {
	msgs := w.snapshots()
	if len(msgs) == 0 {
		return snapHead{}, false
	}
	return head(t, msgs[len(msgs)-1]), true
}

func head(t *testing.T, msg []byte) snapHead {
	t.Helper()
	var h snapHead
	if err := json.Unmarshal(msg, &h); err != nil {
		t.Fatalf("snapshot %q: %v", msg, err)
	}
	return h
}

// waitFor polls until ok or the deadline, then fails with what.
func waitFor(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !ok(); {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// sameSnapshots checks that what a remote viewer got is what the call's
// own node sent its local viewer: each snapshot the two share a moment of
// is the same bytes, they share several, and the last is the same.
func sameSnapshots(t *testing.T, id string, local, remote [][]byte) {
	t.Helper()
	// A moment is its time and the call's state: the final snapshot has
	// the time of the last live one.
	moment := func(m []byte) string { h := head(t, m); return fmt.Sprintf("%.2f %s", h.NowS, h.Call.State) }
	byNow := map[string][]byte{}
	for _, m := range local {
		byNow[moment(m)] = m
	}
	shared := 0
	for _, m := range remote {
		if l, ok := byNow[moment(m)]; ok {
			shared++
			if !bytes.Equal(l, m) {
				t.Errorf("call %s at %.2f s: the remote viewer got\n%s\nthe local one\n%s", id, head(t, m).NowS, m, l)
			}
		}
	}
	if shared < 3 {
		t.Errorf("call %s: only %d of the remote viewer's %d snapshots match a local one's moment (local %d)", id, shared, len(remote), len(local))
	}
	if len(local) == 0 || len(remote) == 0 || !bytes.Equal(local[len(local)-1], remote[len(remote)-1]) {
		t.Errorf("call %s: the final snapshots differ", id)
	}
}
