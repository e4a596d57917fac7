package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"talkratio/audio"
	"talkratio/audio/flac"
	"talkratio/call"
	"talkratio/disk"
	"talkratio/tally"
	"talkratio/vad"
	"talkratio/whipclient"
)

// writeCallWAV writes a WAV: channel c gets a 600 Hz tone during each of
// its bursts (seconds), silence elsewhere. One channel makes a mono file.
func writeCallWAV(t testing.TB, path string, rate int, dur float64, bursts ...[][2]float64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := audio.NewWAVWriter(f, rate, len(bursts))
	if err != nil {
		t.Fatal(err)
	}
	n := int(dur * float64(rate))
	chans := make([][]float32, len(bursts))
	for c, bs := range bursts {
		chans[c] = make([]float32, n)
		for _, b := range bs {
			for i := int(b[0] * float64(rate)); i < int(b[1]*float64(rate)) && i < n; i++ {
				chans[c][i] = float32(0.2 * math.Sin(2*math.Pi*600*float64(i)/float64(rate)))
			}
		}
	}
	if err := w.Write(chans); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// The test call: the rep talks 1-4 s and 9-10 s, the customer 5-8 s.
var (
	testRep  = [][2]float64{{1, 4}, {9, 10}}
	testCust = [][2]float64{{5, 8}}
)

func newDiskServer(t *testing.T, dir string, cfg Config) (*Server, string) {
	t.Helper()
	st, err := disk.Open(dir, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store, cfg.Audio, cfg.Staging = st, st, st
	srv, ts := newTestServer(t, cfg)
	return srv, ts.URL
}

// form builds a multipart body from fields and files (part -> path).
func form(t testing.TB, fields map[string]string, files map[string]string) (*bytes.Buffer, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for part, p := range files {
		fw, err := mw.CreateFormFile(part, filepath.Base(p))
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(data)
	}
	mw.Close()
	return &b, mw.FormDataContentType()
}

func post(t testing.TB, url string, body io.Reader, ctype string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(url, ctype, body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// getCall fetches a call's JSON.
func getCall(t testing.TB, base, id string) map[string]any {
	t.Helper()
	resp, err := http.Get(base + "/api/calls/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// waitAnalyzed polls until an upload is no longer analyzing.
func waitAnalyzed(t testing.TB, base, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		m := getCall(t, base, id)
		if m["state"] != call.StateAnalyzing {
			return m
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("call %s still analyzing", id)
	return nil
}

// dirFiles lists the files under dir, recursively.
func dirFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestUploadStereoAndMono(t *testing.T) {
	dir := t.TempDir()
	_, base := newDiskServer(t, dir, Config{})
	in := t.TempDir()
	stereo := filepath.Join(in, "stereo.wav")
	writeCallWAV(t, stereo, 16000, 12, testRep, testCust)
	swapped := filepath.Join(in, "swapped.wav")
	writeCallWAV(t, swapped, 16000, 12, testCust, testRep)
	rep, cust := filepath.Join(in, "rep.wav"), filepath.Join(in, "cust.wav")
	writeCallWAV(t, rep, 8000, 12, testRep)
	writeCallWAV(t, cust, 8000, 11, testCust) // lengths may differ

	tests := []struct {
		name   string
		fields map[string]string
		files  map[string]string
	}{
		{"stereo", map[string]string{"name": "stereo call", "rep": "Dana"}, map[string]string{"audio": stereo}},
		{"stereo, rep on the right", map[string]string{"rep_channel": "right", "rep": "Dana"}, map[string]string{"audio": swapped}},
		{"two mono files", map[string]string{"name": "pair", "rep": "Lee", "customer": "Acme"}, map[string]string{"rep_audio": rep, "customer_audio": cust}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, ctype := form(t, tc.fields, tc.files)
			resp, b := post(t, base+"/api/calls", body, ctype)
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("%s: %s", resp.Status, b)
			}
			var sum call.Summary
			json.Unmarshal(b, &sum)
			if sum.State != call.StateAnalyzing || resp.Header.Get("Location") != "/api/calls/"+sum.ID {
				t.Errorf("accepted: %+v, Location %q", sum, resp.Header.Get("Location"))
			}
			m := waitAnalyzed(t, base, sum.ID)
			if m["state"] != call.StateEnded || m["has_audio"] != true {
				t.Fatalf("analyzed call: %v", m)
			}
			// Rep 4 s, customer 3 s: listen 3/7.
			if lp := m["listen_pct"].(float64); math.Abs(lp-100*3.0/7) > 3 {
				t.Errorf("listen %.2f%%, want about %.2f%%", lp, 100*3.0/7)
			}
			segs := m["segments"].(map[string]any)
			if len(segs["rep"].([]any)) != 2 || len(segs["customer"].([]any)) != 1 {
				t.Errorf("segments %v", segs)
			}
			meter := m["meter"].(map[string]any)
			if n := len(meter["listen_pct"].([]any)); n < 12 {
				t.Errorf("meter has %d samples for a 12 s call", n)
			}
			if !strings.HasPrefix(m["verdict"].(string), "below target") {
				t.Errorf("verdict %q", m["verdict"])
			}
			// The stored audio is 16-bit stereo FLAC with the rep on the left.
			r, err := http.Get(base + "/api/calls/" + sum.ID + "/audio")
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(r.Body)
			r.Body.Close()
			wr, err := flac.NewReader(bytes.NewReader(data), int64(len(data)))
			if err != nil || wr.Format().Channels != 2 || wr.Format().BitsPerSample != 16 {
				t.Fatalf("stored audio: %v %+v", err, wr)
			}
			res, err := vad.Analyze(wr, wr.Format().SampleRate, vad.ChannelMap{Channels: 2, Rep: 0, Customer: 1}, vad.DefaultConfig(), tally.DefaultConfig())
			if err != nil || math.Abs(res.RepTalkS-4) > 0.5 {
				t.Errorf("stored audio's left channel should be the rep (4 s): %v %v", res.RepTalkS, err)
			}
		})
	}
	// No staging leftovers once done.
	if left := dirFiles(t, filepath.Join(dir, "tmp")); len(left) != 0 {
		t.Errorf("files left in tmp: %v", left)
	}
}

// A bad or oversized upload is refused with a message, and leaves nothing
// stored and nothing on disk.
func TestUploadRefused(t *testing.T) {
	dir := t.TempDir()
	_, base := newDiskServer(t, dir, Config{MaxUpload: 200 << 10})
	in := t.TempDir()
	big := filepath.Join(in, "big.wav")
	writeCallWAV(t, big, 16000, 10, testRep, testCust) // 640 KB
	corrupt := filepath.Join(in, "corrupt.wav")
	os.WriteFile(corrupt, []byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00garbage"), 0o644)
	mono := filepath.Join(in, "mono.wav")
	writeCallWAV(t, mono, 8000, 3, testRep)
	stereo := filepath.Join(in, "stereo.wav")
	writeCallWAV(t, stereo, 8000, 3, testRep, testCust)

	tests := []struct {
		name  string
		files map[string]string
		code  int
		msg   string
	}{
		{"too large", map[string]string{"audio": big}, 413, "limit"},
		{"corrupt WAV", map[string]string{"audio": corrupt}, 400, "audio: wav"},
		{"mono as stereo", map[string]string{"audio": mono}, 400, "mono"},
		{"stereo as one side", map[string]string{"rep_audio": stereo, "customer_audio": mono}, 400, "mono files"},
		{"one side only", map[string]string{"rep_audio": mono}, 400, "no audio"},
		{"nothing", map[string]string{}, 400, "no audio"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, ctype := form(t, map[string]string{"name": tc.name}, tc.files)
			resp, b := post(t, base+"/api/calls", body, ctype)
			var e struct{ Error string }
			json.Unmarshal(b, &e)
			if resp.StatusCode != tc.code || !strings.Contains(e.Error, tc.msg) {
				t.Errorf("%d %q, want %d with %q", resp.StatusCode, e.Error, tc.code, tc.msg)
			}
		})
	}
	resp, b := post(t, base+"/api/calls", strings.NewReader("{}"), "application/json")
	if resp.StatusCode != 415 {
		t.Errorf("JSON body: %d %s", resp.StatusCode, b)
	}
	if files := dirFiles(t, dir); len(files) != 0 {
		t.Errorf("refused uploads left files behind: %v", files)
	}
	var list struct{ Total int }
	r, _ := http.Get(base + "/api/calls")
	json.NewDecoder(r.Body).Decode(&list)
	r.Body.Close()
	if list.Total != 0 {
		t.Errorf("%d calls stored after refused uploads", list.Total)
	}
}

// The audio endpoint answers byte ranges, so players can seek.
func TestAudioRange(t *testing.T) {
	dir := t.TempDir()
	_, base := newDiskServer(t, dir, Config{})
	p := filepath.Join(t.TempDir(), "c.wav")
	writeCallWAV(t, p, 8000, 4, testRep, testCust)
	body, ctype := form(t, nil, map[string]string{"audio": p})
	resp, b := post(t, base+"/api/calls", body, ctype)
	var sum call.Summary
	json.Unmarshal(b, &sum)
	if resp.StatusCode != 202 {
		t.Fatalf("%s %s", resp.Status, b)
	}
	waitAnalyzed(t, base, sum.ID)
	full, _ := http.Get(base + "/api/calls/" + sum.ID + "/audio")
	all, _ := io.ReadAll(full.Body)
	full.Body.Close()
	if full.Header.Get("Accept-Ranges") != "bytes" || full.Header.Get("Content-Type") != "audio/flac" {
		t.Errorf("headers %v", full.Header)
	}
	for _, rg := range []struct {
		header     string
		from, to   int // inclusive
		wantStatus int
	}{
		{"bytes=0-43", 0, 43, 206},
		{"bytes=1000-1999", 1000, 1999, 206},
		{fmt.Sprintf("bytes=-%d", 100), len(all) - 100, len(all) - 1, 206},
		{fmt.Sprintf("bytes=%d-", len(all)-10), len(all) - 10, len(all) - 1, 206},
		{fmt.Sprintf("bytes=%d-", len(all)+10), 0, -1, 416},
	} {
		req, _ := http.NewRequest("GET", base+"/api/calls/"+sum.ID+"/audio", nil)
		req.Header.Set("Range", rg.header)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != rg.wantStatus {
			t.Errorf("%s: %d, want %d", rg.header, r.StatusCode, rg.wantStatus)
			continue
		}
		if rg.wantStatus == 206 {
			want := fmt.Sprintf("bytes %d-%d/%d", rg.from, rg.to, len(all))
			if cr := r.Header.Get("Content-Range"); cr != want || !bytes.Equal(got, all[rg.from:rg.to+1]) {
				t.Errorf("%s: Content-Range %q (want %q), %d bytes", rg.header, cr, want, len(got))
			}
		}
	}
	// Issue 10, point 14: thousands of one-byte ranges would send more
	// than the file; past a few, the request is refused.
	many := make([]string, 2000)
	for i := range many {
		many[i] = fmt.Sprintf("%d-%d", i, i)
	}
	for n, want := range map[int]int{maxRanges: 206, maxRanges + 1: 416, 2000: 416} {
		req, _ := http.NewRequest("GET", base+"/api/calls/"+sum.ID+"/audio", nil)
		req.Header.Set("Range", "bytes="+strings.Join(many[:n], ","))
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != want || len(got) >= len(all) {
			t.Errorf("%d ranges: %d, %d bytes (the file is %d), want %d", n, r.StatusCode, len(got), len(all), want)
		}
	}
	if r, _ := http.Get(base + "/api/calls/nope/audio"); r.StatusCode != 404 {
		t.Errorf("unknown call audio: %d", r.StatusCode)
	}
}

// A live call ended by WHIP DELETE is in the library with its analysis
// and, with -record-audio, its audio; a restart keeps it.
func TestLiveCallToLibrary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv, base := newDiskServer(t, dir, Config{RecordAudio: true})
	rep := oggPackets(t, "testdata/rep.opus")[:400] // 8 s
	cust := oggPackets(t, "testdata/customer.opus")[:400]
	ctx := t.Context()
	pub, err := whipclient.Publish(ctx, whipclient.PublishOptions{
		Endpoint: base + "/whip?name=library&rep=Dana",
		Tracks:   []whipclient.TrackSpec{{StreamID: "rep", TrackID: "rep"}, {StreamID: "customer", TrackID: "customer"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	sendPaced(t, pub, rep, cust)
	if err := pub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	m := getCall(t, base, pub.CallID())
	if m["state"] != call.StateEnded || m["source"] != call.SourceLive || m["has_audio"] != true || m["segments"] == nil || m["meter"] == nil {
		t.Fatalf("stored live call: %v", m)
	}
	if d := m["duration_s"].(float64); math.Abs(d-8) > 0.5 {
		t.Errorf("duration %.2f s, want about 8", d)
	}
	r, _ := http.Get(base + "/api/calls/" + pub.CallID() + "/audio")
	data, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if wr, err := flac.NewReader(bytes.NewReader(data), int64(len(data))); err != nil || math.Abs(wr.Duration().Seconds()-8) > 0.5 {
		t.Errorf("recorded audio: %v", err)
	}
	srv.Close()
	st, _ := disk.Open(dir, quietLogger())
	if rec, err := st.Get(context.Background(), pub.CallID()); err != nil || rec.Result == nil {
		t.Errorf("after restart: %v %v", rec, err)
	}
}

// An upload too large for the limit is refused even when the client does
// not say its length up front (chunked): the body is cut off at the limit.
func TestUploadTooLargeChunked(t *testing.T) {
	dir := t.TempDir()
	_, base := newDiskServer(t, dir, Config{MaxUpload: 100 << 10})
	p := filepath.Join(t.TempDir(), "big.wav")
	writeCallWAV(t, p, 16000, 5, testRep, testCust)
	body, ctype := form(t, nil, map[string]string{"audio": p})
	resp, b := post(t, base+"/api/calls", struct{ io.Reader }{body}, ctype)
	if resp.StatusCode != 413 {
		t.Errorf("%d %s, want 413", resp.StatusCode, b)
	}
	if files := dirFiles(t, dir); len(files) != 0 {
		t.Errorf("files left: %v", files)
	}
}

// After a restart an upload that was being analyzed is finished if its
// files are there, and marked failed if they are not: never left
// "analyzing" or silently lost.
func TestUploadResumedAfterRestart(t *testing.T) {
	dir := t.TempDir()
	st, err := disk.Open(dir, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	wav := filepath.Join(t.TempDir(), "x.wav")
	writeCallWAV(t, wav, 8000, 12, testCust, testRep) // rep on the right
	b, _ := os.ReadFile(wav)
	ctx := context.Background()
	staged, err := st.Stage(ctx, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := staged.Keep(ctx, "resumed", "audio"); err != nil {
		t.Fatal(err)
	}
	resumed := &call.Record{ID: "resumed", Source: call.SourceUpload, State: call.StateAnalyzing, StartedAt: time.Now()}
	resumed.SetChannels(1, 0)
	st.Put(context.Background(), resumed)
	st.Put(context.Background(), &call.Record{ID: "lost", Source: call.SourceUpload, State: call.StateAnalyzing, StartedAt: time.Now()})

	_, base := newDiskServer(t, dir, Config{})
	m := waitAnalyzed(t, base, "resumed")
	if m["state"] != call.StateEnded || math.Abs(m["rep_talk_s"].(float64)-4) > 0.5 {
		t.Errorf("resumed upload: state %v rep talk %v (want ended, ~4 s with the rep on the right)", m["state"], m["rep_talk_s"])
	}
	if m := getCall(t, base, "lost"); m["state"] != call.StateFailed || !strings.Contains(m["error"].(string), "upload it again") {
		t.Errorf("upload without files: %v", m)
	}
}

// A live call that a crash left in the library is served, after the
// restart, as interrupted with the figures of its last checkpoint: listed,
// replayable, deletable, never live again.
func TestInterruptedCallAfterRestart(t *testing.T) {
	dir := t.TempDir()
	st, err := disk.Open(dir, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	res := &tally.Result{Metrics: tally.Metrics{ListenPct: listenPct(70), RepTalkS: 3, CustomerTalkS: 7, TargetListen: 80}}
	st.Put(context.Background(), &call.Record{ID: "crashed", Rep: "Dana", Source: call.SourceLive, State: call.StateLive, StartedAt: time.Now(), DurationS: 12, Result: res})
	_, base := newDiskServer(t, dir, Config{})
	m := getCall(t, base, "crashed")
	if m["state"] != call.StateInterrupted || m["listen_pct"] != 70.0 || m["duration_s"] != 12.0 {
		t.Errorf("after the restart: %v", m)
	}
	var list struct{ Calls []call.Summary }
	getJSON(t, base+"/api/calls", &list)
	if len(list.Calls) != 1 || list.Calls[0].State != call.StateInterrupted {
		t.Errorf("list: %+v", list.Calls)
	}
	_, final := watchCall(t, base, "crashed")
	if last, n := final(); n != 1 || last.Call.State != call.StateInterrupted {
		t.Errorf("websocket: %d messages, the last %+v", n, last.Call)
	}
	req, _ := http.NewRequest("DELETE", base+"/api/calls/crashed", nil)
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != 204 {
		t.Errorf("delete: %v %v", r, err)
	}
}
