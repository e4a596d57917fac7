package siprec

import (
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"talkratio/audio"
	"talkratio/ingest"
	"talkratio/ingest/ingesttest"
	"talkratio/siprec/rsmeta"
)

type rig struct {
	parent  *ingesttest.Parent
	srv     *Server
	metrics *Metrics
	udp     net.Addr
}

// rtpBase gives each test server a port range of its own, so tests run
// in parallel.
var rtpBase atomic.Int64

func newRig(t *testing.T, mod func(*Config)) *rig {
	t.Helper()
	base := 32000 + int(rtpBase.Add(1))*200
	r := &rig{parent: ingesttest.NewParent(), metrics: NewMetrics()}
	rule, _ := rsmeta.ParseRepRule("sip:*@sales.example.com")
	allow, _ := ParseAllow("127.0.0.0/8")
	cfg := Config{
		Parent: r.parent, Addr: "127.0.0.1:0", Allow: allow, RepRule: rule,
		RTPPorts: PortRange{base, base + 199}, MediaIP: netip.MustParseAddr("127.0.0.1"),
		Metrics: r.metrics, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if testing.Verbose() {
		cfg.Log = slog.Default()
	}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := ingest.Register(prometheus.NewPedanticRegistry(), r.metrics.Collectors()...); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	r.srv = srv
	r.udp, _, _ = srv.Addrs()
	t.Cleanup(func() { srv.Close() })
	return r
}

func (r *rig) errors(reason string) float64 {
	return testutil.ToFloat64(r.metrics.Errors.Collector().(*prometheus.CounterVec).WithLabelValues(reason))
}

// sendCall sends the test call's two channels as PCMU/PCMA RTP to the
// answered ports, in real time, from sample from to to (8 kHz); codec
// returns the payload type to use at each packet (0 PCMU, 8 PCMA).
func sendCall(t *testing.T, repOut, custOut *rtpOut, from, to int, codec func(i int) uint8, during func(i int)) {
	t.Helper()
	rep, cust, err := ingesttest.Fixture()
	if err != nil {
		t.Fatal(err)
	}
	to = min(to, len(rep))
	start := time.Now()
	for i, n := 0, from; n < to; i, n = i+1, n+160 {
		if during != nil {
			during(i)
		}
		pt := codec(i)
		enc := ingesttest.EncodeMuLaw
		if pt == 8 {
			enc = ingesttest.EncodeALaw
		}
		end := min(n+160, to)
		if err := repOut.send(pt, enc(nil, rep[n:end]), uint32(end-n)); err != nil {
			t.Fatal(err)
		}
		if err := custOut.send(pt, enc(nil, cust[n:end]), uint32(end-n)); err != nil {
			t.Fatal(err)
		}
		if wait := time.Duration(i+1)*20*time.Millisecond - time.Since(start); wait > 0 {
			time.Sleep(wait)
		}
	}
}

// TestEndToEnd: an SRC records the test call through the server (INVITE
// with SDP and metadata, ACK, RTP from the stereo WAV in real time, a
// re-INVITE that moves from PCMU to PCMA, BYE), and the delivered audio's
// listen % matches analyze's on the same call.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	rep, cust, err := ingesttest.Fixture()
	if err != nil {
		t.Fatal(err)
	}
	n := len(rep)
	if testing.Short() {
		n = 10 * ingesttest.FixtureRate
	}
	want, err := ingesttest.AnalyzeChannels(rep[:n], cust[:n], ingesttest.FixtureRate)
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, nil)
	s := newSRC(t)
	legs := []leg{{label: "96", codecs: "0 8"}, {label: "97", codecs: "0 8"}}
	body, ct := siprecBody(40000, legs, true)
	c, err := s.invite(r.udp, body, ct)
	if err != nil {
		t.Fatalf("INVITE: %v", err)
	}
	if len(c.ports) != 2 || c.ports[0] == 0 || c.ports[1] == 0 {
		t.Fatalf("answer ports %v\n%s", c.ports, c.res.Body())
	}
	ans := string(c.res.Body())
	if strings.Count(ans, "a=recvonly") != 2 || !strings.Contains(ans, "a=rtpmap:0 PCMU/8000") || !strings.Contains(ans, "+sip.srs") && !strings.Contains(c.res.Contact().String(), "+sip.srs") {
		t.Errorf("answer:\n%s\nContact %s", ans, c.res.Contact())
	}
	call := r.parent.Next(t, time.Second)
	if call.Meta.Rep != "Alice Agent" || call.Meta.Customer != "Bob Buyer" || call.Meta.Source != "siprec" || call.Meta.ExternalID == "" {
		t.Errorf("meta %+v", call.Meta)
	}
	// Alice (the rep by the rule) sends the second leg.
	custOut, repOut := newRTPOut(t, c.ports[0]), newRTPOut(t, c.ports[1])
	switchAt := n / 160 * 2 / 5
	pcmaBody, _ := siprecBody(40000, []leg{{label: "96", codecs: "8 0"}, {label: "97", codecs: "8 0"}}, true)
	sendCall(t, repOut, custOut, 0, n, func(i int) uint8 {
		if i >= switchAt {
			return 8
		}
		return 0
	}, func(i int) {
		if i == switchAt {
			res, err := c.reinvite(pcmaBody, ct)
			if err != nil || res.StatusCode != 200 || !strings.Contains(string(res.Body()), "PCMA/8000") {
				t.Errorf("re-INVITE: %v %v\n%s", err, res, res.Body())
			}
		}
	})
	// The BYE follows the last packet once the server has read it: on a
	// busy machine its reader may still be behind the sender, and packets
	// read after the BYE are not the call's.
	repPackets := r.metrics.Packets.Collector().(*prometheus.CounterVec).WithLabelValues("rep")
	for deadline := time.Now().Add(5 * time.Second); testutil.ToFloat64(repPackets) < float64(repOut.count.Load()) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if err := c.bye(); err != nil {
		t.Fatalf("BYE: %v", err)
	}
	if reason := call.Wait(t, 5*time.Second); reason != ingest.EndClosed {
		t.Errorf("ended %q", reason)
	}
	got, tl, err := ingesttest.AnalyzeDelivered(call)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ingesttest.ListenDelta(got, want)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v; listen %.1f%% vs analyze %.1f%% (delta %.2f pp), missing rep %.3f s customer %.3f s", call, *got.ListenPct, *want.ListenPct, d, tl.MissingS(0), tl.MissingS(1))
	if d > 1 {
		t.Errorf("listen %% differs from analyze by %.2f pp", d)
	}
	if tl.MissingS(ingest.Rep) > 0.1 || tl.MissingS(ingest.Customer) > 0.1 {
		t.Errorf("missing audio: rep %.3f s, customer %.3f s", tl.MissingS(0), tl.MissingS(1))
	}
	clocks := map[int]bool{}
	for _, m := range call.Media() {
		clocks[m.Media.Clock.ID] = true
	}
	if len(clocks) != 4 {
		t.Errorf("%d media clocks, want 4 (two streams, a new clock each at the codec change)", len(clocks))
	}
	if p := testutil.ToFloat64(r.metrics.Packets.Collector().(*prometheus.CounterVec).WithLabelValues("rep")); p != float64(repOut.count.Load()) {
		t.Errorf("rep packets %v, sent %d", p, repOut.count.Load())
	}
	if r.srv.Sessions() != 0 || r.srv.ports.inUse() != 0 {
		t.Errorf("after BYE: %d sessions, %d ports", r.srv.Sessions(), r.srv.ports.inUse())
	}
}

// TestHold: a re-INVITE that puts the streams on hold (inactive), and one
// that resumes them: the held time is missing audio, not silence.
func TestHold(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	s := newSRC(t)
	legs := []leg{{label: "1", codecs: "0"}, {label: "2", codecs: "0"}}
	body, ct := siprecBody(40000, legs, false)
	c, err := s.invite(r.udp, body, ct)
	if err != nil {
		t.Fatal(err)
	}
	call := r.parent.Next(t, time.Second)
	repOut, custOut := newRTPOut(t, c.ports[0]), newRTPOut(t, c.ports[1])
	pcmu := func(int) uint8 { return 0 }
	sendCall(t, repOut, custOut, 0, 2*8000, pcmu, nil)
	held := time.Now()
	for _, dir := range []string{"inactive", "sendonly"} {
		hb, _ := siprecBody(40000, []leg{{label: "1", codecs: "0", dir: dir}, {label: "2", codecs: "0", dir: dir}}, false)
		res, err := c.reinvite(hb, ct)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("re-INVITE %s: %v %v", dir, err, res)
		}
		want := "a=recvonly"
		if dir == "inactive" {
			want = "a=inactive"
		}
		if strings.Count(string(res.Body()), want) != 2 {
			t.Errorf("answer to %s:\n%s", dir, res.Body())
		}
		if dir == "inactive" {
			// On hold: stray packets are not audio; the clock runs on.
			_ = repOut.send(0, make([]byte, 160), 160)
			time.Sleep(1500 * time.Millisecond)
			repOut.ts += 1500 * 8
			custOut.ts += 1500 * 8
		}
	}
	// The time between the last packet before the hold and the first
	// after it: the pause and the re-INVITEs' round trips.
	heldFor := time.Since(held).Seconds()
	sendCall(t, repOut, custOut, 2*8000, 4*8000, pcmu, nil)
	if err := c.bye(); err != nil {
		t.Fatal(err)
	}
	call.Wait(t, 5*time.Second)
	tl, err := ingesttest.Place(call)
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range []ingest.Role{ingest.Rep, ingest.Customer} {
		if m := tl.MissingS(role); m < heldFor-0.1 || m > heldFor+0.2 {
			t.Errorf("%s missing %.3f s, want the %.3f s on hold", role, m, heldFor)
		}
	}
}

// TestCodecs: G.722 and Opus streams decode.
func TestCodecs(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	s := newSRC(t)
	body, ct := siprecBody(40000, []leg{{label: "1", codecs: "9"}, {label: "2", codecs: "111"}}, false)
	c, err := s.invite(r.udp, body, ct)
	if err != nil {
		t.Fatal(err)
	}
	call := r.parent.Next(t, time.Second)
	g722, opus := newRTPOut(t, c.ports[0]), newRTPOut(t, c.ports[1])
	codes := readG722(t)
	pkts := fixtureOpus(t)
	for i := range 50 {
		if err := g722.send(9, codes[i*160:(i+1)*160], 160); err != nil {
			t.Fatal(err)
		}
		if err := opus.send(111, pkts[i], 960); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := c.bye(); err != nil {
		t.Fatal(err)
	}
	call.Wait(t, 5*time.Second)
	var samples [2]int
	for _, m := range call.Media() {
		samples[m.Role] += len(m.Media.PCM)
		if (m.Role == ingest.Rep && m.Media.Clock.Rate != 8000) || (m.Role == ingest.Customer && m.Media.Clock.Rate != 48000) {
			t.Fatalf("%s clock rate %d", m.Role, m.Media.Clock.Rate)
		}
	}
	// 50 packets of 20 ms at 16 kHz.
	if samples != [2]int{16000, 16000} {
		t.Errorf("decoded samples %v, want 16000 each", samples)
	}
	if n := r.errors("decode"); n != 0 {
		t.Errorf("%v decode errors", n)
	}
}

func readG722(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../audio/testdata/g722/speech.g722")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixtureOpus is the test call's Opus packets (20 ms each).
func fixtureOpus(t *testing.T) [][]byte {
	t.Helper()
	f, err := os.Open("../ingest/ingesttest/testdata/call.opus")
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
