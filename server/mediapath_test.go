package server

import (
	"context"
	"math"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"

	"talkratio/whip"
	"talkratio/whipclient"
)

// Both WHIP media paths turn the same packets into the same call: the
// analysis runs on RTP timestamps, not on how the packets were read. Each
// also sends receiver reports, which tell the sender what arrived.
func TestWHIPMediaPaths(t *testing.T) {
	t.Parallel()
	rep, cust := oggPackets(t, "testdata/rep.opus")[:300], oggPackets(t, "testdata/customer.opus")[:300]
	want := analyzeOffline(t, decodeAll(t, rep), decodeAll(t, cust))
	var mu sync.Mutex
	got := map[string]float64{}
	for _, media := range []string{whip.MediaLite, whip.MediaPion} {
		t.Run(media, func(t *testing.T) {
			t.Parallel()
			_, ts := newTestServer(t, Config{WHIPMedia: media})
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			pub, err := whipclient.Publish(ctx, whipclient.PublishOptions{
				Endpoint: ts.URL + "/whip?name=" + media,
				Tracks:   []whipclient.TrackSpec{{StreamID: "rep", TrackID: "rep"}, {StreamID: "customer", TrackID: "customer"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			// The highest sequence number any report acknowledged.
			reported := make(chan uint32, 1)
			go func() {
				var hi uint32
				defer func() { reported <- hi }()
				for {
					pkts, err := pub.ReadRTCP(0)
					if err != nil {
						return
					}
					for _, p := range pkts {
						if rr, ok := p.(*rtcp.ReceiverReport); ok {
							for _, r := range rr.Reports {
								if r.TotalLost == 0 {
									hi = max(hi, r.LastSequenceNumber&0xffff)
								}
							}
						}
					}
				}
			}()
			_, final := watchCall(t, ts.URL, pub.CallID())
			sendPaced(t, pub, rep, cust)
			if err := pub.Close(ctx); err != nil {
				t.Fatal(err)
			}
			last, _ := final()
			if last.ListenPct == nil || math.Abs(*last.ListenPct-*want.ListenPct) > 1 {
				t.Fatalf("live listen %v, analyze %.2f", last.ListenPct, *want.ListenPct)
			}
			// Six seconds of packets: reports come every second or so,
			// the last ones acknowledging well over a hundred of them.
			if hi := <-reported; hi < 100 {
				t.Errorf("receiver reports acknowledged sequence numbers up to %d, want over 100 of the 300 sent", hi)
			}
			mu.Lock()
			got[media] = *last.ListenPct
			mu.Unlock()
			t.Logf("%s: live %.2f%%, analyze %.2f%%", media, *last.ListenPct, *want.ListenPct)
		})
	}
	t.Cleanup(func() {
		if len(got) == 2 && math.Abs(got[whip.MediaLite]-got[whip.MediaPion]) > 0.5 {
			t.Errorf("listen %% by media path: %v", got)
		}
	})
}

// A publisher whose DTLS certificate is not the one its offer names gets
// no media in: someone who saw the session's ICE credentials cannot take
// it over. The session fails, and the call, which never had audio, goes.
func TestLiteRefusesForeignCertificate(t *testing.T) {
	t.Parallel()
	srv, ts := newTestServer(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	fp := regexp.MustCompile(`(a=fingerprint:sha-256 )[0-9A-Fa-f:]+`)
	_, err := whipclient.Publish(ctx, whipclient.PublishOptions{
		Endpoint: ts.URL + "/whip?name=foreign",
		Tracks:   []whipclient.TrackSpec{{StreamID: "rep", TrackID: "rep"}, {StreamID: "customer", TrackID: "customer"}},
		EditOffer: func(sdp string) string {
			return fp.ReplaceAllString(sdp, "${1}"+strings.TrimSuffix(strings.Repeat("AB:", 32), ":"))
		},
	})
	if err == nil {
		t.Fatal("a publisher with a certificate its offer does not name connected")
	}
	// Well within the 15 s a silent publisher is given: the handshake's
	// failure ends the session, not the silence after it.
	deadline := time.Now().Add(5 * time.Second)
	for srv.calls.Len() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the refused publisher's call is still live")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The service says which UDP port media comes to: on the ICE-lite path
// the one its listener took (port 0 picks one at start), on pion's path
// the one configured (0: a port per session).
func TestMediaPort(t *testing.T) {
	t.Parallel()
	lite, _ := newTestServer(t, Config{})
	if p := lite.MediaPort(); p <= 0 || p > 65535 {
		t.Errorf("ICE-lite media port %d, want the listener's", p)
	}
	pion, _ := newTestServer(t, Config{WHIPMedia: whip.MediaPion})
	if p := pion.MediaPort(); p != 0 {
		t.Errorf("pion media port %d with none configured, want 0", p)
	}
}
