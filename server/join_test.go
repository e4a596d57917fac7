package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"talkratio/call"
	"talkratio/whip/whiptest"
	"talkratio/whipclient"
)

// unbundling sends WHIP offers as a client that does not bundle would:
// without a=group:BUNDLE (GStreamer's simple-whip-client), and records
// the answer.
type unbundling struct {
	mu     sync.Mutex
	answer string
}

func (u *unbundling) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		var keep []string
		for _, l := range strings.SplitAfter(string(b), "\n") {
			if !strings.HasPrefix(l, "a=group:BUNDLE") {
				keep = append(keep, l)
			}
		}
		nb := strings.Join(keep, "")
		r.Body, r.ContentLength = io.NopCloser(strings.NewReader(nb)), int64(len(nb))
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && r.Method == http.MethodPost {
		b, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(bytes.NewReader(b))
		u.mu.Lock()
		u.answer = string(b)
		u.mu.Unlock()
	}
	return resp, err
}

// Issue 10, point 11: an audio-only offer without BUNDLE connects and its
// call is stored; an offer that never connects leaves no call, only a
// count; one that cannot be served is a 4xx, never 201 with every m-line
// rejected.
func TestUnbundledOfferAndPhantomCalls(t *testing.T) {
	t.Parallel()
	srv, ts := newTestServer(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rt := &unbundling{}
	pub, err := whipclient.Publish(ctx, whipclient.PublishOptions{
		Endpoint: ts.URL + "/whip?name=gst", Client: &http.Client{Transport: rt},
		Tracks: []whipclient.TrackSpec{{StreamID: "s", TrackID: "t", Channels: 2}},
	})
	if err != nil {
		t.Fatalf("an unbundled audio-only offer: %v", err)
	}
	if strings.Contains(rt.answer, "a=group:BUNDLE") || strings.Contains(rt.answer, "m=audio 0 ") {
		t.Errorf("answer to an unbundled offer:\n%s", rt.answer)
	}
	pkts := oggPackets(t, "testdata/rep.opus")[:100]
	tick := time.NewTicker(20 * time.Millisecond)
	for _, p := range pkts {
		<-tick.C
		pub.WriteSample(0, p, 20*time.Millisecond)
	}
	tick.Stop()
	if err := pub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if rec, err := srv.store.Get(ctx, pub.CallID()); err != nil || rec.State != call.StateEnded || rec.DurationS < 1 {
		t.Errorf("the unbundled call: %+v %v", rec, err)
	}

	// Offers that never connect: no call is kept.
	before := testutil.ToFloat64(srv.m.noMedia)
	for i := range 3 {
		resp, err := http.Post(ts.URL+"/whip?name=phantom", "application/sdp", strings.NewReader(whiptest.Offer(whiptest.Opus)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 201 {
			t.Fatalf("offer %d: %d", i, resp.StatusCode)
		}
		id := resp.Header.Get("Talkratio-Call-Id")
		if code, _ := do(t, "DELETE", ts.URL+resp.Header.Get("Location"), "", nil, nil); code != 200 {
			t.Fatalf("DELETE: %d", code)
		}
		if _, err := srv.store.Get(ctx, id); !errors.Is(err, call.ErrNotFound) {
			t.Errorf("a call that never connected is kept: %v", err)
		}
	}
	if got := testutil.ToFloat64(srv.m.noMedia) - before; got != 3 {
		t.Errorf("talkratio_calls_without_media_total rose by %v, want 3", got)
	}
	_, total, _ := srv.store.List(ctx, call.ListQuery{})
	if total != 1 {
		t.Errorf("%d calls in the library, want the one that sent audio", total)
	}

	// Two unbundled m-lines cannot share a transport: a 4xx that says why.
	two := strings.Replace(whiptest.Offer(whiptest.Opus, whiptest.Opus), "a=group:BUNDLE 0 1\r\n", "", 1)
	code, body := do(t, "POST", ts.URL+"/whip", "", strings.NewReader(two), map[string]string{"Content-Type": "application/sdp"})
	if code != 422 || !strings.Contains(body, "not bundled") {
		t.Errorf("two unbundled m-lines: %d %s", code, body)
	}
}

// Issue 10, points 12 and 18: the rep's and the customer's sessions of one
// call=ID posted at the same moment both join the one call, every time;
// joining another rep's call is refused without naming that rep.
func TestConcurrentJoin(t *testing.T) {
	t.Parallel()
	srv, ts := newTestServer(t, Config{})
	ctx := context.Background()
	for pair := range 8 {
		id := fmt.Sprintf("desk-%d", pair)
		var wg sync.WaitGroup
		codes := make([]int, 2)
		calls := make([]string, 2)
		locs := make([]string, 2)
		for i, role := range []string{"rep", "customer"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := http.Post(ts.URL+"/whip?role="+role+"&call="+id+"&rep=Dana", "application/sdp", strings.NewReader(whiptest.Offer(whiptest.Opus)))
				if err != nil {
					return
				}
				resp.Body.Close()
				codes[i], calls[i], locs[i] = resp.StatusCode, resp.Header.Get("Talkratio-Call-Id"), resp.Header.Get("Location")
			}()
		}
		wg.Wait()
		if codes[0] != 201 || codes[1] != 201 || calls[0] != id || calls[1] != id {
			t.Errorf("pair %d: %v %v", pair, codes, calls)
		}
		if c := srv.calls.Get(id); c == nil || c.Sources() != 2 {
			t.Errorf("pair %d: the call does not have both sessions", pair)
		}
		if pair == 0 {
			code, body := do(t, "POST", ts.URL+"/whip?role=customer&call="+id+"&rep=Lee", "", strings.NewReader(whiptest.Offer(whiptest.Opus)), map[string]string{"Content-Type": "application/sdp"})
			if code != 403 || strings.Contains(body, "Dana") {
				t.Errorf("joining Dana's call as Lee: %d %s", code, body)
			}
		}
		for _, l := range locs {
			if l != "" {
				do(t, "DELETE", ts.URL+l, "", nil, nil)
			}
		}
	}
	_ = ctx
}
