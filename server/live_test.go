package server

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"talkratio/audio"
	"talkratio/call"
	"talkratio/live"
	"talkratio/tally"
	"talkratio/vad"
	"talkratio/whipclient"
)

// oggPackets reads the Opus packets of an Ogg Opus fixture.
func oggPackets(t testing.TB, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pkts, err := audio.ReadOggPackets(f, 2)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return pkts
}

// decodeAll decodes Opus packets at the analysis rate, as the server does.
func decodeAll(t testing.TB, pkts [][]byte) []float32 {
	t.Helper()
	dec, err := audio.NewOpusDecoder(live.AnalysisRate, 1)
	if err != nil {
		t.Fatal(err)
	}
	buf := [][]float32{make([]float32, audio.MaxPacketSamples)}
	var out []float32
	for _, p := range pkts {
		n, err := dec.Decode(p, buf)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, buf[0][:n]...)
	}
	return out
}

// sliceReader serves two channels from memory as a vad.Reader.
type sliceReader struct {
	ch  [2][]float32
	pos int
}

func (r *sliceReader) Read(dst [][]float32) (int, error) {
	n := min(len(dst[0]), len(r.ch[0])-r.pos)
	if n <= 0 {
		return 0, io.EOF
	}
	for c := range dst {
		copy(dst[c], r.ch[c][r.pos:r.pos+n])
	}
	r.pos += n
	return n, nil
}

// analyzeOffline is `talkratio analyze` on the given channels.
func analyzeOffline(t testing.TB, rep, cust []float32) tally.Result {
	t.Helper()
	n := max(len(rep), len(cust))
	r := &sliceReader{}
	r.ch[0] = append(rep, make([]float32, n-len(rep))...)
	r.ch[1] = append(cust, make([]float32, n-len(cust))...)
	res, err := vad.Analyze(r, live.AnalysisRate, vad.ChannelMap{Channels: 2, Rep: 0, Customer: 1}, vad.DefaultConfig(), tally.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// watch collects a call's snapshots over its websocket until the final one.
type watch struct {
	msgs  chan call.Snapshot
	count int
}

func watchCall(t testing.TB, base, id string) (*watch, func() (call.Snapshot, int)) {
	t.Helper()
	u := "ws" + strings.TrimPrefix(base, "http") + "/ws/calls/" + id
	conn, resp, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatalf("dial %s: %v (%v)", u, err, resp)
	}
	w := &watch{msgs: make(chan call.Snapshot, 1)}
	done := make(chan struct{})
	var last call.Snapshot
	go func() {
		defer close(done)
		defer conn.Close()
		for {
			_, b, err := conn.ReadMessage()
			if err != nil {
				return
			}
			var m call.Snapshot
			if err := json.Unmarshal(b, &m); err != nil {
				t.Errorf("bad snapshot: %v", err)
				return
			}
			last = m
			w.count++
			if m.Call.State == call.StateEnded {
				return
			}
		}
	}()
	return w, func() (call.Snapshot, int) {
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Fatal("no final snapshot")
		}
		return last, w.count
	}
}

// sendPaced publishes two tracks' 20 ms Opus packets in real time: the
// service takes no more than a few seconds' lead over real time (maxLead).
// A sender that falls behind (a busy machine) catches up in a burst, as a
// real one does. It waits for the last packets to land.
func sendPaced(t testing.TB, pub *whipclient.Publisher, rep, cust [][]byte) {
	t.Helper()
	const frame = 20 * time.Millisecond
	tick := time.NewTicker(frame)
	defer tick.Stop()
	for i := range max(len(rep), len(cust)) {
		<-tick.C
		if i < len(rep) {
			if err := pub.WriteSample(0, rep[i], frame); err != nil {
				t.Fatal(err)
			}
		}
		if i < len(cust) {
			if err := pub.WriteSample(1, cust[i], frame); err != nil {
				t.Fatal(err)
			}
		}
	}
	time.Sleep(300 * time.Millisecond)
}

// A pion client publishes a two-track Opus call over WHIP; a websocket
// viewer follows it; the final listen % must match `analyze` on the same
// audio within 1 pp, and snapshots must come at 5+ a second.
func TestLiveCallMatchesAnalyze(t *testing.T) {
	t.Parallel()
	rep := oggPackets(t, "testdata/rep.opus")
	cust := oggPackets(t, "testdata/customer.opus")
	want := analyzeOffline(t, decodeAll(t, rep), decodeAll(t, cust))

	srv, err := New(Config{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	pub, err := whipclient.Publish(ctx, whipclient.PublishOptions{
		Endpoint: ts.URL + "/whip?name=integration&rep=Dana&customer=Acme",
		Tracks:   []whipclient.TrackSpec{{StreamID: "rep", TrackID: "rep"}, {StreamID: "customer", TrackID: "customer"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, final := watchCall(t, ts.URL, pub.CallID())

	start := time.Now()
	sendPaced(t, pub, rep, cust)
	if err := pub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	wall := time.Since(start)
	last, n := final()

	if last.ListenPct == nil {
		t.Fatalf("final snapshot has no listen %%: %+v", last)
	}
	if d := math.Abs(*last.ListenPct - *want.ListenPct); d > 1 {
		t.Errorf("live listen %.2f%%, analyze %.2f%%: %.2f pp apart, want <= 1", *last.ListenPct, *want.ListenPct, d)
	}
	if math.Abs(last.NowS-want.DurationS) > 0.5 {
		t.Errorf("live call %.2f s long, audio %.2f s", last.NowS, want.DurationS)
	}
	if rate := float64(n) / wall.Seconds(); rate < 5 {
		t.Errorf("%d snapshots in %v: %.1f a second, want >= 5", n, wall, rate)
	}
	t.Logf("live %.2f%% vs analyze %.2f%%, %d snapshots in %v", *last.ListenPct, *want.ListenPct, n, wall.Round(time.Millisecond))

	// The ended call is in the store with its analysis, and the list
	// shows it.
	rec, err := srv.store.Get(context.Background(), pub.CallID())
	if err != nil || rec.Result == nil || rec.State != call.StateEnded || rec.Rep != "Dana" {
		t.Fatalf("stored call: %+v, %v", rec, err)
	}
	resp, err := http.Get(ts.URL + "/api/calls")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Calls []call.Summary `json:"calls"`
	}
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list.Calls) != 1 || list.Calls[0].ID != pub.CallID() || list.Calls[0].State != call.StateEnded {
		t.Errorf("call list: %+v", list.Calls)
	}
	// Its CSV row has the call's length, under analyze's columns.
	resp, err = http.Get(ts.URL + "/api/calls/" + pub.CallID() + ".csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	resp.Body.Close()
	if err != nil || len(rows) != 2 {
		t.Fatalf("CSV: %v rows, %v", len(rows), err)
	}
	for i, h := range rows[0] {
		if h != call.CSVHeader()[i] {
			t.Fatalf("CSV column %d is %q, want %q", i, h, call.CSVHeader()[i])
		}
		if h == "duration_s" {
			if d, _ := strconv.ParseFloat(rows[1][i], 64); math.Abs(d-want.DurationS) > 0.5 {
				t.Errorf("CSV duration_s %q, audio %.2f s", rows[1][i], want.DurationS)
			}
		}
	}
	// The publisher hung up (WHIP DELETE), the normal end: counted as
	// reason="hangup" and as no other reason (issue 11, point 13).
	var ends map[string]float64
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ends = endReasons(t, srv)
		if ends["hangup"] == 1 || time.Now().After(deadline) {
			break
		}
	}
	var total float64
	for _, v := range ends {
		total += v
	}
	if ends["hangup"] != 1 || total != 1 {
		t.Errorf("calls ended by reason %v, want 1 hangup and nothing else", ends)
	}
}

// endReasons is talkratio_calls_ended_total by its reason.
func endReasons(t *testing.T, srv *Server) map[string]float64 {
	t.Helper()
	fams, err := srv.m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != "talkratio_calls_ended_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" {
					out[l.GetValue()] = m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}
