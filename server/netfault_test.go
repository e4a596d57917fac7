package server

import (
	"context"
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
// up, 50 ms would stand for far more audio) and returns the final listen %
// and the packets the service counted as lost.
func publishFixture(t *testing.T, v *virtualNet, lossPercent int64) (float64, float64) {
	t.Helper()
	srv, err := New(Config{Logger: quietLogger(), Net: v.server, WHIPRate: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	v.lossPercent.Store(0) // the handshake is not what this measures
	pub, err := Publish(ctx, PublishOptions{
		Endpoint: ts.URL + "/whip?name=faults", SettingEngine: v.clientSettings(),
		Tracks: []TrackSpec{{StreamID: "rep", TrackID: "rep"}, {StreamID: "customer", TrackID: "customer"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, final := watchCall(t, ts.URL, pub.CallID())
	v.lossPercent.Store(lossPercent)
	sendPaced(t, pub, oggPackets(t, "testdata/rep.opus")[:600], oggPackets(t, "testdata/customer.opus")[:600], 1)
	v.lossPercent.Store(0)
	if err := pub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	last, _ := final()
	if last.ListenPct == nil {
		t.Fatal("no listen % in the final snapshot")
	}
	lost := testutil.ToFloat64(srv.m.rtpLost.WithLabelValues("rep")) + testutil.ToFloat64(srv.m.rtpLost.WithLabelValues("customer"))
	return *last.ListenPct, lost
}

// With 10% random loss and 50 ms jitter (so packets also arrive out of
// order), the final listen % stays within 2 pp of the clean run.
func TestLossAndJitter(t *testing.T) {
	clean, _ := publishFixture(t, newVirtualNet(t, 0, 1), 0)
	faulty, lost := publishFixture(t, newVirtualNet(t, 50*time.Millisecond, 2), 10)
	t.Logf("listen %%: clean %.2f, 10%% loss + 50 ms jitter %.2f (%.0f packets lost of 1200)", clean, faulty, lost)
	if d := math.Abs(clean - faulty); d > 2 {
		t.Errorf("listen %% moved %.2f pp under loss and jitter, want <= 2", d)
	}
	if lost < 60 {
		t.Errorf("only %.0f packets counted lost: the faults did not happen", lost)
	}
}

// A publisher that vanishes without DELETE (its network goes silent) is
// ended after the ICE timeout, and its call is stored.
func TestVanishedClientEndedAndStored(t *testing.T) {
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
	pub, err := Publish(ctx, PublishOptions{
		Endpoint: ts.URL + "/whip?name=vanishing", SettingEngine: v.clientSettings(),
		Tracks: []TrackSpec{{StreamID: "rep", TrackID: "rep"}, {StreamID: "customer", TrackID: "customer"}},
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
	for srv.liveCall(pub.CallID()) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the vanished client's call is still live")
		}
		time.Sleep(100 * time.Millisecond)
	}
	rec, err := srv.store.Get(pub.CallID())
	if err != nil || rec.State != stateEnded || rec.Result == nil || rec.DurationS < 1.5 {
		t.Fatalf("stored call: %+v %v", rec, err)
	}
	pub.Abort()
}
