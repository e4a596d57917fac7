package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"talkratio/whipclient"
)

// clusterMaxViewers is the nodes' -max-viewers: small, so that the test
// reaches the cap with viewers on two nodes.
const clusterMaxViewers = 2

// clusterCallSeconds: how much audio the calls carry before they are
// compared: enough for talk on both sides.
const clusterCallSeconds = 4

// Three nodes on loopback, each embedding a NATS server routed to the
// other two, sharing one Postgres.
func TestClusterEmbeddedNATS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs three services")
	}
	pg := clusterTestPostgres(t, "t_cluster_embedded")
	bin := buildServe(t)
	var client, route [3]string
	for i := range 3 {
		client[i], route[i] = freeAddr(t), freeAddr(t)
	}
	var nodes [3]*clusterNode
	for i, id := range []string{"na", "nb", "nc"} {
		var peers []string
		for j := range 3 {
			if j != i {
				peers = append(peers, "nats-route://"+route[j])
			}
		}
		args := []string{"-cluster", "-db", pg, "-nats-listen", client[i], "-nats-cluster", route[i],
			"-nats-routes", strings.Join(peers, ","), "-max-viewers", fmt.Sprint(clusterMaxViewers)}
		if i == 2 {
			args = append(args, "-max-calls", "1")
		}
		nodes[i] = startClusterNode(t, bin, id, freeAddr(t), args...)
	}
	runClusterChecks(t, nodes)
}

// The same against Debian's nats-server, which the nodes reach with
// -nats-url instead of embedding one.
func TestClusterExternalNATS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs three services")
	}
	natsBin, err := exec.LookPath("nats-server")
	if err != nil {
		if _, e := os.Stat("/usr/sbin/nats-server"); e == nil {
			natsBin, err = "/usr/sbin/nats-server", nil
		}
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI without nats-server: .ci/run installs Debian's nats-server package")
		}
		t.Skip("no nats-server: apt-get install nats-server")
	}
	pg := clusterTestPostgres(t, "t_cluster_external")
	bin := buildServe(t)
	natsAddr := freeAddr(t)
	host, port, _ := net.SplitHostPort(natsAddr)
	ns := exec.Command(natsBin, "-a", host, "-p", port)
	ns.Stdout, ns.Stderr = os.Stderr, os.Stderr
	if err := ns.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Process.Kill(); ns.Wait() })
	waitFor(t, 10*time.Second, "nats-server listening", func() bool {
		c, err := net.Dial("tcp", natsAddr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	var nodes [3]*clusterNode
	for i, id := range []string{"xa", "xb", "xc"} {
		args := []string{"-nats-url", "nats://" + natsAddr, "-db", pg, "-max-viewers", fmt.Sprint(clusterMaxViewers)}
		if i == 2 {
			args = append(args, "-max-calls", "1")
		}
		nodes[i] = startClusterNode(t, bin, id, freeAddr(t), args...)
	}
	runClusterChecks(t, nodes)
}

// runClusterChecks holds the acceptance on a running cluster of
// nodes A, B and C, C's cap being one call.
func runClusterChecks(t *testing.T, nodes [3]*clusterNode) {
	a, b, c := nodes[0], nodes[1], nodes[2]
	pkts := repPackets(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	both := []whipclient.TrackSpec{{StreamID: "rep", TrackID: "rep"}, {StreamID: "customer", TrackID: "customer"}}
	publish := func(n *clusterNode, query string, tracks []whipclient.TrackSpec) (*whipclient.Publisher, *pump) {
		t.Helper()
		pub, err := whipclient.Publish(ctx, whipclient.PublishOptions{Endpoint: n.url() + "/whip?" + query, Tracks: tracks})
		if err != nil {
			t.Fatalf("publish %s to node %s: %v", query, n.id, err)
		}
		t.Cleanup(func() { pub.Abort() })
		return pub, startPump(pub, len(tracks), pkts)
	}
	hostOf := func(loc string) string {
		u, err := url.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
		return u.Host
	}
	state := func(n *clusterNode, id string) string {
		_, l := getListed(t, n.addr, id)
		return l.State
	}
	hangUp := func(via *clusterNode, pub *whipclient.Publisher, p *pump) {
		t.Helper()
		p.halt()
		u, _ := url.Parse(pub.Location())
		u.Host = via.addr
		req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, u.String(), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("DELETE %s via node %s: %d", u.Path, via.id, resp.StatusCode)
		}
	}

	// C takes one call; the next offer to it is redirected (307) to the
	// least loaded node, which holds it.
	fill, fillPump := publish(c, "name=fill", both)
	if hostOf(fill.Location()) != c.addr {
		t.Fatalf("the first call on C is held at %s", fill.Location())
	}
	over, overPump := publish(c, "name=overflow", both)
	if h := hostOf(over.Location()); h != a.addr && h != b.addr {
		t.Errorf("an offer to the full node C: session at %s, want node A's or B's", over.Location())
	}
	if !strings.Contains(over.Location(), "/whip/s/") {
		t.Errorf("session URL %s does not name its node", over.Location())
	}

	// Calls published to A and to B, watched from C and on their own
	// node.
	pubA, pumpA := publish(a, "name=on-a", both)
	pubB, pumpB := publish(b, "name=on-b", both)
	localA, remoteA := watch(t, a, pubA.CallID()), watch(t, c, pubA.CallID())
	localB, remoteB := watch(t, b, pubB.CallID()), watch(t, c, pubB.CallID())

	// The viewer cap holds across nodes: call A has a viewer on A and
	// one on C, so B refuses a third.
	waitFor(t, 15*time.Second, "a third viewer of call A, on node B, refused", func() bool {
		conn, resp, err := websocket.DefaultDialer.Dial("ws://"+b.addr+"/ws/calls/"+pubA.CallID(), nil)
		if err == nil {
			conn.Close()
			return false
		}
		return resp != nil && resp.StatusCode == http.StatusServiceUnavailable
	})

	// The two sides of one call, sent to different nodes, end up in one
	// call on the node that holds it.
	rep, repPump := publish(a, "call=joint&role=rep&name=joint", both[:1])
	cust, custPump := publish(b, "call=joint&role=customer", both[1:])
	if rep.CallID() != "joint" || cust.CallID() != "joint" || hostOf(cust.Location()) != a.addr {
		t.Errorf("per-role sessions: rep %s at %s, customer %s at %s; want one call on node A", rep.CallID(), rep.Location(), cust.CallID(), cust.Location())
	}

	jointView := watch(t, c, "joint")
	// Seconds of audio, so that there is talk to compare.
	waitFor(t, 30*time.Second, "several seconds of talk on every viewer", func() bool {
		for _, w := range []*watcher{localA, remoteA, localB, remoteB, jointView} {
			if h, ok := w.last(t); !ok || h.NowS < clusterCallSeconds || h.RepTalkS == 0 {
				return false
			}
		}
		h, _ := jointView.last(t)
		return h.CustomerTalkS > 0
	})
	// A DELETE sent to C ends the call A holds; B's is ended on B.
	hangUp(c, pubA, pumpA)
	hangUp(b, pubB, pumpB)
	for _, w := range []*watcher{localA, remoteA, localB, remoteB} {
		select {
		case <-w.ended:
		case <-time.After(20 * time.Second):
			t.Fatal("a viewer did not get the final snapshot")
		}
	}
	sameSnapshots(t, pubA.CallID(), localA.snapshots(), remoteA.snapshots())
	sameSnapshots(t, pubB.CallID(), localB.snapshots(), remoteB.snapshots())
	for _, id := range []string{pubA.CallID(), pubB.CallID()} {
		if s := state(c, id); s != "ended" {
			t.Errorf("call %s after DELETE: %q on node C", id, s)
		}
	}
	hangUp(b, rep, repPump)
	hangUp(c, cust, custPump)
	waitFor(t, 20*time.Second, "the joint call stored", func() bool { return state(b, "joint") == "ended" })
	var joint struct {
		Segments struct{ Rep, Customer []any } `json:"segments"`
	}
	getJSON(t, b.url()+"/api/calls/joint", &joint)
	if len(joint.Segments.Rep) == 0 || len(joint.Segments.Customer) == 0 {
		r, _ := http.Get(b.url() + "/api/calls/joint")
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		t.Errorf("the joint call has %d rep and %d customer segments: both sides should be in it\n%s", len(joint.Segments.Rep), len(joint.Segments.Customer), body)
	}
	hangUp(a, fill, fillPump)
	hangUp(a, over, overPump)

	// SIGKILL of A: its call turns interrupted, seen from B and C, and
	// C's viewer gets the final snapshot; B's call carries on.
	dying, _ := publish(a, "name=dying", both)
	going, goingPump := publish(b, "name=going-on", both)
	seen := watch(t, c, dying.CallID())
	// Past its first checkpoints, so that there is analysis to keep.
	waitFor(t, 20*time.Second, "seconds of the dying call on C", func() bool {
		h, ok := seen.last(t)
		return ok && h.NowS >= clusterCallSeconds && h.RepTalkS > 0
	})
	killed := time.Now()
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the dead node's call interrupted on B and C", func() bool {
		return state(b, dying.CallID()) == "interrupted" && state(c, dying.CallID()) == "interrupted"
	})
	t.Logf("the dead node's call was interrupted %.1f s after SIGKILL", time.Since(killed).Seconds())
	select {
	case <-seen.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("C's viewer of the dead node's call got no final snapshot")
	}
	if last, _ := seen.last(t); last.Call.State != "interrupted" || last.RepTalkS == 0 {
		t.Errorf("the final snapshot of the dead node's call: %+v, want interrupted with the talk of its last checkpoint", last)
	}
	if _, l := getListed(t, c.addr, dying.CallID()); l.DurationS < 2 {
		t.Errorf("the dead node's call is stored with %.2f s: its last checkpoint's analysis is lost", l.DurationS)
	}
	if s := state(b, going.CallID()); s != "live" {
		t.Errorf("B's call after A died: %q, want live", s)
	}
	time.Sleep(2 * time.Second) // B's call goes on a little longer
	hangUp(b, going, goingPump)
	_, l := getListed(t, b.addr, going.CallID())
	if l.State != "ended" || l.DurationS < time.Since(killed).Seconds()-5 {
		t.Errorf("B's call after A died: %+v, want ended and lasting past the kill", l)
	}
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	r, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}
