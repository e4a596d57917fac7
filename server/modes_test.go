package server

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"talkratio/audio"
	"talkratio/live"
	"talkratio/whipclient"
)

// Role mapping (b): one stereo Opus track, left = rep unless
// rep-channel=right. The live figure must match analyze on the same
// decoded stereo audio.
func TestStereoTrackSession(t *testing.T) {
	t.Parallel()
	pkts := oggPackets(t, "testdata/stereo.opus")
	dec, err := audio.NewOpusDecoder(live.AnalysisRate, 2)
	if err != nil {
		t.Fatal(err)
	}
	buf := [][]float32{make([]float32, audio.MaxPacketSamples), make([]float32, audio.MaxPacketSamples)}
	var left, right []float32
	for _, p := range pkts {
		n, err := dec.Decode(p, buf)
		if err != nil {
			t.Fatal(err)
		}
		left, right = append(left, buf[0][:n]...), append(right, buf[1][:n]...)
	}
	for _, tc := range []struct {
		name, query string
		rep, cust   []float32
	}{
		{"rep on the left", "", left, right},
		{"rep on the right", "&rep-channel=right", right, left},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := analyzeOffline(t, tc.rep, tc.cust)
			_, ts := newTestServer(t, Config{})
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			pub, err := whipclient.Publish(ctx, whipclient.PublishOptions{
				Endpoint: ts.URL + "/whip?name=stereo" + tc.query,
				Tracks:   []whipclient.TrackSpec{{StreamID: "call", TrackID: "stereo", Channels: 2}},
			})
			if err != nil {
				t.Fatal(err)
			}
			_, final := watchCall(t, ts.URL, pub.CallID())
			sendPaced(t, pub, pkts, nil)
			if err := pub.Close(ctx); err != nil {
				t.Fatal(err)
			}
			last, _ := final()
			if last.ListenPct == nil || math.Abs(*last.ListenPct-*want.ListenPct) > 1 {
				t.Fatalf("live listen %v, analyze %.2f", last.ListenPct, *want.ListenPct)
			}
			t.Logf("live %.2f%%, analyze %.2f%%", *last.ListenPct, *want.ListenPct)
		})
	}
}

// muLaw encodes a sample with the G.711 mu-law reference algorithm.
func muLaw(x float32) byte {
	const bias, clip = 0x84, 32635
	s := int(math.Round(float64(x) * 32768))
	sign := 0
	if s < 0 {
		s, sign = -s, 0x80
	}
	s = min(s, clip) + bias
	exp := 7
	for mask := 0x4000; exp > 0 && s&mask == 0; mask >>= 1 {
		exp--
	}
	mant := (s >> (exp + 3)) & 0x0f
	return ^byte(sign | exp<<4 | mant)
}

// Role mapping (c): one session per role, PCMU, joined by call id. Each
// side publishes its own session; the call ends with the last one.
func TestPerRoleSessionsPCMU(t *testing.T) {
	t.Parallel()
	// 8 kHz mu-law of the fixture's two sides: averaged pairs of the
	// 16 kHz decode, then encoded.
	toMuLaw := func(pcm16k []float32) [][]byte {
		var pkts [][]byte
		for i := 0; i+320 <= len(pcm16k); i += 320 { // 20 ms
			p := make([]byte, 160)
			for k := range p {
				p[k] = muLaw((pcm16k[i+2*k] + pcm16k[i+2*k+1]) / 2)
			}
			pkts = append(pkts, p)
		}
		return pkts
	}
	rep := toMuLaw(decodeAll(t, oggPackets(t, "testdata/rep.opus")[:500]))
	cust := toMuLaw(decodeAll(t, oggPackets(t, "testdata/customer.opus")[:500]))
	// What the server will hear: the same bytes decoded and repeated up.
	upsample := func(pkts [][]byte) []float32 {
		d, _ := audio.NewG711Decoder(false, live.AnalysisRate)
		buf := [][]float32{make([]float32, audio.MaxPacketSamples)}
		var out []float32
		for _, p := range pkts {
			n, _ := d.Decode(p, buf)
			out = append(out, buf[0][:n]...)
		}
		return out
	}
	want := analyzeOffline(t, upsample(rep), upsample(cust))

	srv, ts := newTestServer(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	pubRep, err := whipclient.Publish(ctx, whipclient.PublishOptions{
		Endpoint: ts.URL + "/whip?role=rep&call=desk-42&name=per-role&rep=Dana",
		Tracks:   []whipclient.TrackSpec{{StreamID: "a", TrackID: "a", MimeType: webrtc.MimeTypePCMU}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if pubRep.CallID() != "desk-42" {
		t.Fatalf("call id %q, want the one given", pubRep.CallID())
	}
	pubCust, err := whipclient.Publish(ctx, whipclient.PublishOptions{
		Endpoint: ts.URL + "/whip?role=customer&call=desk-42",
		Tracks:   []whipclient.TrackSpec{{StreamID: "b", TrackID: "b", MimeType: webrtc.MimeTypePCMU}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// A second publisher for a role already taken is refused.
	if _, err := whipclient.Publish(ctx, whipclient.PublishOptions{
		Endpoint: ts.URL + "/whip?role=customer&call=desk-42",
		Tracks:   []whipclient.TrackSpec{{StreamID: "c", TrackID: "c", MimeType: webrtc.MimeTypePCMU}},
	}); err == nil {
		t.Error("second customer session accepted")
	}
	_, final := watchCall(t, ts.URL, "desk-42")
	tick := time.NewTicker(20 * time.Millisecond) // real time
	for i := range rep {
		<-tick.C
		pubRep.WriteSample(0, rep[i], 20*time.Millisecond)
		pubCust.WriteSample(0, cust[i], 20*time.Millisecond)
	}
	tick.Stop()
	time.Sleep(300 * time.Millisecond)
	if err := pubRep.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if srv.calls.Get("desk-42") == nil {
		t.Fatal("the call ended with its first session")
	}
	if err := pubCust.Close(ctx); err != nil {
		t.Fatal(err)
	}
	last, _ := final()
	if last.ListenPct == nil || math.Abs(*last.ListenPct-*want.ListenPct) > 1 {
		t.Errorf("live listen %v, analyze %.2f", last.ListenPct, *want.ListenPct)
	}
	if rec, err := srv.store.Get(context.Background(), "desk-42"); err != nil || rec.Rep != "Dana" {
		t.Errorf("stored: %+v %v", rec, err)
	}
}
