package server

import (
	"context"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/transport/v5/vnet"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"talkratio/audio/flac"
	"talkratio/call"
	"talkratio/disk"
	"talkratio/tally"
	"talkratio/vad"
	"talkratio/whipclient"
)

// virtualNet is a server and a publisher on pion's virtual network, with
// a router whose loss and jitter the test controls.
type virtualNet struct {
	router         *vnet.Router
	server, client *vnet.Net
	lossPercent    atomic.Int64
	cut            atomic.Bool // drop everything: the client vanished
	rng            *rand.Rand
	mu             sync.Mutex
}

func newVirtualNet(t *testing.T, jitter time.Duration, seed uint64) *virtualNet {
	t.Helper()
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelError
	r, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "10.7.0.0/24", MinDelay: 5 * time.Millisecond, MaxJitter: jitter, LoggerFactory: lf})
	if err != nil {
		t.Fatal(err)
	}
	v := &virtualNet{router: r, rng: rand.New(rand.NewPCG(seed, 11))}
	if v.server, err = vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{"10.7.0.1"}}); err != nil {
		t.Fatal(err)
	}
	if v.client, err = vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{"10.7.0.2"}}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*vnet.Net{v.server, v.client} {
		if err := r.AddNet(n); err != nil {
			t.Fatal(err)
		}
	}
	r.AddChunkFilter(func(c vnet.Chunk) bool {
		if v.cut.Load() {
			return false
		}
		v.mu.Lock()
		defer v.mu.Unlock()
		return v.rng.IntN(100) >= int(v.lossPercent.Load())
	})
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop() })
	return v
}

func (v *virtualNet) clientSettings() *webrtc.SettingEngine {
	se := &webrtc.SettingEngine{}
	se.SetNet(v.client)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return se
}

// publishFixture publishes the first 12 s of the two-track fixture call
// over the virtual network in real time (jitter is wall-clock time: sped
// up, 50 ms would stand for far more audio) and returns the final snapshot,
// the service and the call's id. The service keeps the call's audio as it
// analyzed it (-record-audio): what actually arrived, missing audio as
// silence.
func publishFixture(t *testing.T, v *virtualNet, lossPercent int64) (call.Snapshot, *Server, string) {
	t.Helper()
	st, err := disk.Open(t.TempDir(), quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("service log:\n%s", logs.String())
		}
	})
	srv, err := New(Config{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})), Net: v.server, WHIPRate: 1000, Store: st, Audio: st, RecordAudio: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	v.lossPercent.Store(0) // the handshake is not what this measures
	pub, err := whipclient.Publish(ctx, whipclient.PublishOptions{
		Endpoint: ts.URL + "/whip?name=faults", SettingEngine: v.clientSettings(),
		Tracks: []whipclient.TrackSpec{{StreamID: "rep", TrackID: "rep"}, {StreamID: "customer", TrackID: "customer"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, final := watchCall(t, ts.URL, pub.CallID())
	v.lossPercent.Store(lossPercent)
	sendPaced(t, pub, oggPackets(t, "testdata/rep.opus")[:600], oggPackets(t, "testdata/customer.opus")[:600])
	v.lossPercent.Store(0)
	if err := pub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	last, _ := final()
	if last.ListenPct == nil {
		t.Fatal("no listen % in the final snapshot")
	}
	return last, srv, pub.CallID()
}

// analyzeRecording is `talkratio analyze` on the audio a call kept: the
// samples that actually arrived, where they were placed.
func analyzeRecording(t *testing.T, srv *Server, id string) tally.Result {
	t.Helper()
	f, err := srv.audio.OpenAudio(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := flac.NewReader(f, f.Size())
	if err != nil {
		t.Fatal(err)
	}
	res, err := vad.Analyze(r, r.Format().SampleRate, vad.ChannelMap{Channels: 2, Rep: 0, Customer: 1}, vad.DefaultConfig(), tally.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// With 10% random loss and 50 ms jitter (so packets also arrive out of
// order), the live analysis matches `analyze` on the audio that actually
// arrived, within 1 pp: the loss itself costs what it costs (the clean
// call's figure is no reference for audio that never came), the live path
// adds nothing to it. Every packet that arrived is placed, reordered or
// not, and the lost ones are counted as missing audio.
func TestLossAndJitter(t *testing.T) {
	t.Parallel()
	last, srv, id := publishFixture(t, newVirtualNet(t, 50*time.Millisecond, 2), 10)
	m := srv.m
	lost := testutil.ToFloat64(m.lostBy[0]) + testutil.ToFloat64(m.lostBy[1])
	late := testutil.ToFloat64(m.lateBy[0]) + testutil.ToFloat64(m.lateBy[1])
	want := analyzeRecording(t, srv, id)
	talk, wantTalk := last.RepTalkS+last.CustomerTalkS, want.RepTalkS+want.CustomerTalkS
	t.Logf("listen %%: live %.1f, analyze of what arrived %.1f; talk %.2f s vs %.2f s; %.0f packets lost of 1200, %.0f late; missing audio %.2f s",
		*last.ListenPct, *want.ListenPct, talk, wantTalk, lost, late, last.MissingAudioS)
	if d := math.Abs(*last.ListenPct - *want.ListenPct); d > 1 {
		t.Errorf("live listen %.1f%%, analyze of the audio that arrived %.1f%%: %.1f pp apart, want <= 1", *last.ListenPct, *want.ListenPct, d)
	}
	if math.Abs(talk-wantTalk) > 0.03*wantTalk {
		t.Errorf("live talk %.2f s, analyze of the audio that arrived %.2f s: more than 3%% apart", talk, wantTalk)
	}
	if lost < 60 {
		t.Errorf("only %.0f packets counted lost: the faults did not happen", lost)
	}
	if late != 0 {
		t.Errorf("%.0f packets that arrived were thrown away as late; jitter of 50 ms must be repaired", late)
	}
	// Each lost packet leaves 20 ms of one side missing (less when both
	// sides lost theirs at once; more for the losses among the last 64
	// packets, which the loss count never sees).
	if lo, hi := 0.5*lost*0.02, 1.5*lost*0.02; last.MissingAudioS < lo || last.MissingAudioS > hi {
		t.Errorf("missing audio %.2f s for %.0f lost packets, want %.2f-%.2f s; missing %v", last.MissingAudioS, lost, lo, hi, last.Timeline.Missing)
	}
}

// A publisher that vanishes without DELETE (its network goes silent) is
// ended after the ICE timeout, and its call is stored.
func TestVanishedClientEndedAndStored(t *testing.T) {
	t.Parallel()
	v := newVirtualNet(t, 0, 3)
	srv, err := New(Config{Logger: quietLogger(), Net: v.server, ICEDisconnected: 500 * time.Millisecond, ICEFailed: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pub, err := whipclient.Publish(ctx, whipclient.PublishOptions{
		Endpoint: ts.URL + "/whip?name=vanishing", SettingEngine: v.clientSettings(),
		Tracks: []whipclient.TrackSpec{{StreamID: "rep", TrackID: "rep"}, {StreamID: "customer", TrackID: "customer"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rep := oggPackets(t, "testdata/rep.opus")
	for i := range 100 { // 2 s of audio
		pub.WriteSample(0, rep[i], 20*time.Millisecond)
		pub.WriteSample(1, rep[i], 20*time.Millisecond)
		time.Sleep(5 * time.Millisecond)
	}
	v.cut.Store(true) // the client is gone: no DELETE, no DTLS close, nothing
	deadline := time.Now().Add(20 * time.Second)
	for srv.calls.Get(pub.CallID()) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the vanished client's call is still live")
		}
		time.Sleep(100 * time.Millisecond)
	}
	rec, err := srv.store.Get(context.Background(), pub.CallID())
	if err != nil || rec.State != call.StateEnded || rec.Result == nil || rec.DurationS < 1.5 {
		t.Fatalf("stored call: %+v %v", rec, err)
	}
	pub.Abort()
}
