package server

import (
	"context"
	"io"
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
	"talkratio/live"
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

func openRecording(t *testing.T, srv *Server, id string) *flac.Reader {
	t.Helper()
	f, err := srv.audio.OpenAudio(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	r, err := flac.NewReader(f, f.Size())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// lostPacketSamples: a lost 20 ms packet leaves this many samples of one
// channel at the analysis rate as exact zeros in the recording. Decoded
// speech and line noise never hold that many exact zeros in a row, so a
// run this long marks audio that did not arrive.
const lostPacketSamples = live.AnalysisRate / 50

// replayRecording analyzes the audio a call kept as the live path fed it:
// each run of at least a lost packet's exact zeros in a channel is audio
// that did not arrive, given to the analyzer as missing (WriteMissing
// where both sides lack it, MarkMissing where one does) and not as
// silence. It also returns the seconds found missing, to check that the
// runs are the losses.
func replayRecording(t *testing.T, srv *Server, id string) (tally.Result, float64) {
	t.Helper()
	r := openRecording(t, srv, id)
	var ch [2][]float32
	buf := [][]float32{make([]float32, 4096), make([]float32, 4096)}
	for {
		n, err := r.Read(buf)
		ch[0], ch[1] = append(ch[0], buf[0][:n]...), append(ch[1], buf[1][:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	var lost [2][]bool
	for c := range ch {
		lost[c] = make([]bool, len(ch[c]))
		for i := 0; i < len(ch[c]); {
			j := i
			for j < len(ch[c]) && ch[c][j] == 0 {
				j++
			}
			if j-i >= lostPacketSamples {
				for k := i; k < j; k++ {
					lost[c][k] = true
				}
			}
			i = max(j, i+1)
		}
	}
	a, err := vad.NewAnalyzer(vad.DefaultConfig(), tally.DefaultConfig(), live.AnalysisRate)
	if err != nil {
		t.Fatal(err)
	}
	missing := 0
	for i := 0; i < len(ch[0]); {
		j := i + 1
		for j < len(ch[0]) && lost[0][j] == lost[0][i] && lost[1][j] == lost[1][i] {
			j++
		}
		switch {
		case lost[0][i] && lost[1][i]:
			err = a.WriteMissing(j - i)
		case lost[0][i] || lost[1][i]:
			if err = a.MarkMissing(j - i); err == nil {
				err = a.Write(ch[0][i:j], ch[1][i:j])
			}
		default:
			err = a.Write(ch[0][i:j], ch[1][i:j])
		}
		if err != nil {
			t.Fatal(err)
		}
		if lost[0][i] || lost[1][i] {
			missing += j - i
		}
		i = j
	}
	a.Close()
	return a.Result(), float64(missing) / live.AnalysisRate
}

// With 10% random loss and 50 ms jitter (so packets also arrive out of
// order), the live analysis matches the analysis of the audio that
// actually arrived, fed as the live path feeds it (what never came as
// missing, not as silence): the loss itself costs what it costs (the clean
// call's figure is no reference for audio that never came), the live path
// adds nothing to it. Every packet that arrived is placed, reordered or
// not, and the lost ones are counted as missing audio.
func TestLossAndJitter(t *testing.T) {
	t.Parallel()
	last, srv, id := publishFixture(t, newVirtualNet(t, 50*time.Millisecond, 2), 10)
	m := srv.m
	lost := testutil.ToFloat64(m.lostBy[0]) + testutil.ToFloat64(m.lostBy[1])
	late := testutil.ToFloat64(m.lateBy[0]) + testutil.ToFloat64(m.lateBy[1])
	want, wantMissing := replayRecording(t, srv, id)
	talk, wantTalk := last.RepTalkS+last.CustomerTalkS, want.RepTalkS+want.CustomerTalkS
	t.Logf("listen %%: live %.2f, replay of what arrived %.2f; talk %.2f s vs %.2f s; %.0f packets lost of 1200, %.0f late; missing audio %.2f s vs %.2f s",
		*last.ListenPct, *want.ListenPct, talk, wantTalk, lost, late, last.MissingAudioS, wantMissing)
	// The recording holds 16-bit samples, the live analysis saw floats:
	// a decision at a threshold's edge may differ, and its hangover with
	// it (24 runs: at most 0.2 pp and 0.6% of talk apart, 21 of them equal).
	if d := math.Abs(*last.ListenPct - *want.ListenPct); d > 1 {
		t.Errorf("live listen %.2f%%, replay of the audio that arrived %.2f%%: %.2f pp apart, want <= 1", *last.ListenPct, *want.ListenPct, d)
	}
	if math.Abs(talk-wantTalk) > 0.02*wantTalk {
		t.Errorf("live talk %.2f s, replay of the audio that arrived %.2f s: more than 2%% apart", talk, wantTalk)
	}
	if math.Abs(last.MissingAudioS-wantMissing) > 0.1 {
		t.Errorf("live missing audio %.2f s, the recording's lost stretches %.2f s", last.MissingAudioS, wantMissing)
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
