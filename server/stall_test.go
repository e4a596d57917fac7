package server

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"talkratio/call"
	"talkratio/tally"
	"talkratio/whipclient"
)

// sendScheduled publishes two tracks' 20 ms Opus packets, both tracks'
// packet i at start+at(i) (it sleeps until then; packets due together go
// out back to back). Packets for which drop is true are never sent: the
// next one sent says how many were dropped, so that its sequence number and
// timestamp jump as after a real drop-out. It returns how many packets it
// sent.
func sendScheduled(t testing.TB, pub *whipclient.Publisher, rep, cust [][]byte, at func(i int) time.Duration, drop func(i int) bool) (sent int) {
	t.Helper()
	const frame = 20 * time.Millisecond
	start := time.Now()
	dropped := uint16(0)
	for i := range max(len(rep), len(cust)) {
		if drop != nil && drop(i) {
			dropped++
			continue
		}
		time.Sleep(time.Until(start.Add(at(i))))
		for k, pkts := range [][][]byte{rep, cust} {
			if i < len(pkts) {
				if err := pub.WriteSampleAfterLoss(k, pkts[i], frame, dropped); err != nil {
					t.Fatal(err)
				}
				sent++
			}
		}
		dropped = 0
	}
	return sent
}

func realTime(i int) time.Duration { return time.Duration(i) * 20 * time.Millisecond }

// publishCall publishes a two-track call, the only one on srv, and returns
// its final snapshot and stored record. send returns how many packets it
// sent; the call is ended once the service has received them all (on
// loopback every one arrives, however busy the machine), not after a guess
// at how long that takes.
func publishCall(t *testing.T, ts *httptest.Server, srv *Server, name string, send func(*whipclient.Publisher) int) (call.Snapshot, *call.Record) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	pub, err := whipclient.Publish(ctx, whipclient.PublishOptions{
		Endpoint: ts.URL + "/whip?name=" + name,
		Tracks:   []whipclient.TrackSpec{{StreamID: "rep", TrackID: "rep"}, {StreamID: "customer", TrackID: "customer"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, final := watchCall(t, ts.URL, pub.CallID())
	sent := send(pub)
	received := func() float64 {
		return testutil.ToFloat64(srv.m.packetsBy[0]) + testutil.ToFloat64(srv.m.packetsBy[1])
	}
	for received() < float64(sent) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	if got := received(); got != float64(sent) {
		t.Errorf("%s: the service received %.0f packets of the %d sent", name, got, sent)
	}
	if err := pub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	last, _ := final()
	rec, err := srv.store.Get(context.Background(), pub.CallID())
	if err != nil || rec.Result == nil {
		t.Fatalf("stored %s: %+v %v", name, rec, err)
	}
	return last, rec
}

// Two identical publishers (two calls) send the same 15 s stereo call; one
// stalls twice for a second and then sends its backlog in a burst, its RTP
// timestamps continuous, as a busy laptop or a backgrounded tab does. The
// stalled call loses nothing: no packet is late, nothing is missing, and its
// figures are the clean call's.
func TestStalledSenderLosesNothing(t *testing.T) {
	t.Parallel()
	rep := oggPackets(t, "testdata/rep.opus")[:750]
	cust := oggPackets(t, "testdata/customer.opus")[:750]
	want := analyzeOffline(t, decodeAll(t, rep), decodeAll(t, cust))
	// A service each: a call ends once its service has all its packets.
	srvClean, tsClean := newTestServer(t, Config{WHIPRate: 1000})
	srvStall, tsStall := newTestServer(t, Config{WHIPRate: 1000})

	stalls := []int{200, 450} // packets: at 4 s and at 9 s
	stalled := func(i int) time.Duration {
		for _, s := range stalls {
			if i >= s && i < s+50 { // due in the stalled second: sent when it ends
				return realTime(s + 50)
			}
		}
		return realTime(i)
	}
	var clean, stall call.Snapshot
	var cleanRec, stallRec *call.Record
	var wg sync.WaitGroup
	wg.Go(func() {
		clean, cleanRec = publishCall(t, tsClean, srvClean, "clean", func(p *whipclient.Publisher) int { return sendScheduled(t, p, rep, cust, realTime, nil) })
	})
	wg.Go(func() {
		stall, stallRec = publishCall(t, tsStall, srvStall, "stalled", func(p *whipclient.Publisher) int { return sendScheduled(t, p, rep, cust, stalled, nil) })
	})
	wg.Wait()
	if t.Failed() {
		return
	}

	var late, lost, received float64
	for _, m := range []*metrics{srvClean.m, srvStall.m} {
		for r := range 2 {
			late += testutil.ToFloat64(m.lateBy[r])
			lost += testutil.ToFloat64(m.lostBy[r])
			received += testutil.ToFloat64(m.packetsBy[r])
		}
	}
	// What was delivered: every packet, on both calls (loopback). Were one
	// lost, the calls would not hold the same audio.
	if lost != 0 || received != 4*750 {
		t.Fatalf("%.0f packets received, %.0f lost: want all 3000 delivered", received, lost)
	}
	listenD := math.Abs(*stall.ListenPct - *clean.ListenPct)
	talkClean, talkStall := clean.RepTalkS+clean.CustomerTalkS, stall.RepTalkS+stall.CustomerTalkS
	t.Logf("late packets %.0f; listen %%: clean %.1f, stalled %.1f (delta %.2f pp), analyze %.1f; talk: clean %.2f s, stalled %.2f s (%+.2f%%), analyze %.2f s; missing: clean %.3f s, stalled %.3f s",
		late, *clean.ListenPct, *stall.ListenPct, listenD, *want.ListenPct, talkClean, talkStall, 100*(talkStall-talkClean)/talkClean,
		want.RepTalkS+want.CustomerTalkS, clean.MissingAudioS, stall.MissingAudioS)
	if late != 0 {
		t.Errorf("%.0f packets thrown away as late, want 0", late)
	}
	if listenD > 0.5 {
		t.Errorf("listen %%: stalled %.1f, clean %.1f: %.2f pp apart, want <= 0.5", *stall.ListenPct, *clean.ListenPct, listenD)
	}
	for _, c := range []struct {
		role         string
		clean, stall float64
	}{{"rep", clean.RepTalkS, stall.RepTalkS}, {"customer", clean.CustomerTalkS, stall.CustomerTalkS}, {"total", talkClean, talkStall}} {
		if math.Abs(c.stall-c.clean) > 0.03*c.clean {
			t.Errorf("%s talk: stalled %.2f s, clean %.2f s: more than 3%% apart", c.role, c.stall, c.clean)
		}
	}
	// Nothing went missing: the backlog arrived. (Two tracks start a
	// packet apart at most, which leaves a sliver at either end.)
	for name, s := range map[string]call.Snapshot{"clean": clean, "stalled": stall} {
		if s.MissingAudioS > 0.05 {
			t.Errorf("%s call: %.3f s of missing audio, want none", name, s.MissingAudioS)
		}
		if math.Abs(s.NowS-want.DurationS) > 0.1 {
			t.Errorf("%s call: %.2f s long, its audio %.2f s", name, s.NowS, want.DurationS)
		}
		if d := math.Abs(*s.ListenPct - *want.ListenPct); d > 1 {
			t.Errorf("%s call: listen %.1f%%, analyze %.1f%%", name, *s.ListenPct, *want.ListenPct)
		}
	}
	if cleanRec.DurationS != clean.NowS || stallRec.DurationS != stall.NowS {
		t.Errorf("stored durations %v and %v, final snapshots %v and %v", cleanRec.DurationS, stallRec.DurationS, clean.NowS, stall.NowS)
	}
}

// A sender that really drops a second of audio (nothing sent, sequence
// numbers and timestamps jump on) leaves a second of missing audio, shown
// apart in the snapshot, the API and the CSV, and that second is not
// counted as mutual silence.
func TestDroppedAudioIsMissing(t *testing.T) {
	t.Parallel()
	rep := oggPackets(t, "testdata/rep.opus")[:600]
	cust := oggPackets(t, "testdata/customer.opus")[:600]
	want := analyzeOffline(t, decodeAll(t, rep), decodeAll(t, cust))
	// The dropped second, 4-5 s, is in the middle of the rep's speech: as
	// silence it would add a second of mutual silence.
	const from, to = 4.0, 5.0
	if talk := clippedSegs(want.Segments.Rep, from, to) + clippedSegs(want.Segments.Customer, from, to); talk < 0.95 {
		t.Fatalf("the fixture has only %.2f s of speech in %v-%v s: the test would show nothing", talk, from, to)
	}
	srv, ts := newTestServer(t, Config{})
	last, rec := publishCall(t, ts, srv, "dropout", func(p *whipclient.Publisher) int {
		return sendScheduled(t, p, rep, cust, realTime, func(i int) bool { return i >= 200 && i < 250 })
	})
	late := testutil.ToFloat64(srv.m.lateBy[0]) + testutil.ToFloat64(srv.m.lateBy[1])
	t.Logf("missing audio %.3f s (%v); mutual silence %.2f s, analyze of the whole audio %.2f s; late %.0f",
		last.MissingAudioS, last.Timeline.Missing, last.MutualSilenceS, want.MutualSilenceS, late)
	if last.MissingAudioS < 0.98 || last.MissingAudioS > 1.06 {
		t.Errorf("missing audio %.3f s, want about 1 s", last.MissingAudioS)
	}
	if got := clippedSegs(last.Timeline.Missing, from-0.05, to+0.05); got < 0.98 {
		t.Errorf("timeline missing %v: %.2f s in %v-%v s, want the second", last.Timeline.Missing, got, from, to)
	}
	if d := last.MutualSilenceS - want.MutualSilenceS; math.Abs(d) > 0.3 {
		t.Errorf("mutual silence %.2f s, analyze of the whole audio %.2f s: the missing second must not count as silence", last.MutualSilenceS, want.MutualSilenceS)
	}
	if late != 0 {
		t.Errorf("%.0f packets late", late)
	}
	// The stored call, the API and the CSV say the same.
	if rec.MissingAudioS != last.MissingAudioS || rec.DurationS != last.NowS {
		t.Errorf("stored missing %v s duration %v s, final snapshot %v s and %v s", rec.MissingAudioS, rec.DurationS, last.MissingAudioS, last.NowS)
	}
	var api struct {
		MissingAudioS float64 `json:"missing_audio_s"`
		Segments      struct {
			Missing [][2]float64 `json:"missing"`
		} `json:"segments"`
	}
	getJSON(t, ts.URL+"/api/calls/"+rec.ID, &api)
	if api.MissingAudioS != rec.MissingAudioS || len(api.Segments.Missing) == 0 {
		t.Errorf("API: missing_audio_s %v, segments.missing %v", api.MissingAudioS, api.Segments.Missing)
	}
	row := csvRow(t, ts.URL+"/api/calls/"+rec.ID+".csv")
	if got, _ := strconv.ParseFloat(row["missing_audio_s"], 64); got != rec.MissingAudioS {
		t.Errorf("CSV missing_audio_s %q, want %v", row["missing_audio_s"], rec.MissingAudioS)
	}
}

// A publisher whose RTP clock steps 4.9 s per 20 ms packet: its call is as
// long as the sending, not hours; the packets are counted and the clock
// logged once, not once a packet.
func TestFastClockPublisher(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	srv, ts := newTestServer(t, Config{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pub, err := whipclient.Publish(ctx, whipclient.PublishOptions{Endpoint: ts.URL + "/whip?name=fastclock", Tracks: []whipclient.TrackSpec{{StreamID: "rep", TrackID: "rep"}, {StreamID: "customer", TrackID: "customer"}}})
	if err != nil {
		t.Fatal(err)
	}
	rep := oggPackets(t, "testdata/rep.opus")[:150] // 3 s
	start := time.Now()
	for i, p := range rep {
		time.Sleep(time.Until(start.Add(realTime(i))))
		for k := range 2 {
			if err := pub.WriteSample(k, p, 4900*time.Millisecond); err != nil {
				t.Fatal(err)
			}
		}
	}
	time.Sleep(300 * time.Millisecond)
	sent := time.Since(start)
	if err := pub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	rec, err := srv.store.Get(context.Background(), pub.CallID())
	if err != nil {
		t.Fatal(err)
	}
	ahead := testutil.ToFloat64(srv.m.aheadBy[0]) + testutil.ToFloat64(srv.m.aheadBy[1])
	lines := strings.Count(logs.String(), "RTP clock runs ahead")
	t.Logf("%.1f s of sending: a %.2f s call; %.0f packets ahead, %d log lines", sent.Seconds(), rec.DurationS, ahead, lines)
	if rec.DurationS > sent.Seconds()+0.5 || rec.DurationS < 2.5 {
		t.Errorf("a %.2f s call from %.1f s of sending", rec.DurationS, sent.Seconds())
	}
	if ahead < 2*140 {
		t.Errorf("%.0f packets counted ahead, want nearly all 300", ahead)
	}
	// One line per track at first, then at most one every 10 s.
	const aheadLogEvery = 10 * time.Second
	if lines < 1 || lines > 2*(1+int(sent/aheadLogEvery)) {
		t.Errorf("%d log lines about the clock, want one or two", lines)
	}
	// The audio was kept, placed where it arrived.
	if rec.RepTalkS == 0 {
		t.Errorf("no talk found: the audio was dropped")
	}
}

// clippedSegs is the time of segs inside [from, to).
func clippedSegs(segs []tally.Segment, from, to float64) float64 {
	sum := 0.0
	for _, s := range segs {
		sum += max(0, min(s.End, to)-max(s.Start, from))
	}
	return sum
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

// csvRow reads a one-row CSV answer as column -> value.
func csvRow(t *testing.T, u string) map[string]string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("GET %s: %v rows, %v", u, len(rows), err)
	}
	out := map[string]string{}
	for i, h := range rows[0] {
		if i < len(rows[1]) {
			out[h] = rows[1][i]
		}
	}
	return out
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
