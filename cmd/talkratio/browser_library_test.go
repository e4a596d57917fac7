package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"talkratio/server"
	"talkratio/web"
)

// TestBrowserUploadReplay uploads the browser fixture (call fx-006, a 31.3 s
// stereo WAV, rep left) through the library page's upload form in a real
// (headless) Chromium, waits for the analysis, opens the call's replay page,
// plays and pauses the recording, then seeks twice with real mouse clicks on
// the timeline canvas and checks that the meter the page shows at the
// playhead is the server's stored meter series at that time.
//
// It takes some 5 s. Like TestBrowserLiveCall it is skipped with -short,
// and without a Chromium binary it skips, except when CI=true, where it
// fails. Run it alone with
//
//	go test ./cmd/talkratio -run TestBrowserUploadReplay -v
//
// The screenshot of the replay page (after the second seek) goes to
// docs/screenshot-replay.png with TALKRATIO_SCREENSHOTS=1, else to the
// test's artifact directory (kept with go test -artifacts).
//
// It runs on the library as `talkratio serve` builds it (SQLite, audio in
// a directory), and with the audio in S3 (an in-process fake): replay's
// Range requests are served from either.
func TestBrowserUploadReplay(t *testing.T) {
	chrome := needChromium(t)
	for _, blob := range []string{"dir", "s3"} {
		t.Run(blob, func(t *testing.T) { testBrowserUploadReplay(t, chrome, blob) })
	}
}

func testBrowserUploadReplay(t *testing.T, chrome, blob string) {

	wavPath, err := filepath.Abs(browserFixture)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	diag := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("diagnostics:\n%s", diag.String())
		}
	})
	logger := slog.New(slog.NewTextHandler(diag, &slog.HandlerOptions{Level: slog.LevelDebug}))

	// The library as `talkratio serve -data DIR` builds it, or with -blob
	// s3://... .
	lib := testLibrary(t, blob, logger)
	srv, err := server.New(server.Config{Store: lib.store, Audio: lib.files, Staging: lib.files, Static: web.FS(), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		// An analysis still running (a failed test) must not write into
		// the temporary directory while it is being removed.
		dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer dcancel()
		srv.Drain(dctx)
		srv.Close()
	})
	base := ts.URL

	// The play button gets a real (CDP input) click, which is a user
	// gesture, so the autoplay policy needs no flag.
	opts := browserOptions(t, chrome, diag)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	tab, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start %s: %v", chrome, err)
	}
	go collectConsole(tab, diag, "page")

	// 1. The library page: choose the file, name the call, upload.
	const (
		callName = "Acme renewal (upload)"
		repName  = "Dana"
		custName = "Acme Corp"
	)
	if err := chromedp.Do(tab,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("upload-submit")),
		chromedp.SetUploadFiles(chromedp.ID("upload-audio"), []string{wavPath}),
	); err != nil {
		t.Fatalf("library page: %v", err)
	}
	// The page suggests a name from the file when the file input changes;
	// wait for that before typing a name of our own over it.
	suggested, err := chromedp.Run(tab, chromedp.Poll[string](
		`(() => { const v = document.getElementById('upload-name').value; return v !== '' ? v : false; })()`,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(5*time.Second)))
	if err != nil {
		t.Fatalf("choosing the file did not reach the form (no suggested name): %v", err)
	}
	if want := strings.TrimSuffix(filepath.Base(wavPath), ".wav"); suggested != want {
		t.Errorf("suggested call name %q, want %q", suggested, want)
	}
	if err := chromedp.Do(tab,
		// SetValue fires the input event that typing would. (SetValue
		// with "" fails in chromedp v0.23: cdproto's CallArgument.Value is
		// omitempty under json v2, which drops the JSON "", so the page
		// gets undefined.)
		chromedp.SetValue(chromedp.ID("upload-name"), callName),
		chromedp.SendKeys(chromedp.ID("upload-rep"), repName),
		chromedp.SendKeys(chromedp.ID("upload-customer"), custName),
		chromedp.Click(chromedp.ID("upload-submit")),
	); err != nil {
		t.Fatalf("fill and submit the upload form: %v", err)
	}
	uploadAt := time.Now()
	if got, err := chromedp.Run(tab, pollText("upload-status", 60*time.Second, "done", "error")); err != nil || got != "done" {
		msg, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.getElementById('upload-error').textContent`))
		t.Fatalf("upload: #upload-status %q, err %v, #upload-error %q", got, err, msg)
	}
	callID, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.getElementById('upload-call-id').textContent.trim()`))
	if err != nil || callID == "" {
		t.Fatalf("no #upload-call-id after the upload: %q, %v", callID, err)
	}
	t.Logf("uploaded and analyzed call %s in %.1f s", callID, time.Since(uploadAt).Seconds())

	// The library table lists it as a stored call.
	row, err := chromedp.Run(tab, chromedp.Poll[map[string]string](fmt.Sprintf(`(() => {
  const tr = document.querySelector('#calls-table tr[data-id=%q]');
  if (!tr || tr.dataset.state !== 'ended') return false;
  return { state: tr.dataset.state, name: (tr.querySelector('.td-name .nm') || {}).textContent || '', rep: (tr.querySelector('.td-rep') || {}).textContent || '' };
})()`, callID), chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second)))
	if err != nil {
		now, _ := chromedp.Run(tab, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector('#calls-table tr[data-id=%q]') || {dataset: {state: 'no row'}}).dataset.state`, callID)))
		t.Fatalf("#calls-table row of call %s with data-state ended: %v (now: %s)", callID, err, now)
	}
	if row["name"] != callName || !strings.Contains(row["rep"], repName) {
		t.Errorf("library row: name %q, rep %q; want %q, %q", row["name"], row["rep"], callName, repName)
	}

	// The stored analysis, straight from the API.
	stored := fetchCall(t, base, callID)
	if stored.State != "ended" || !stored.HasAudio {
		t.Fatalf("stored call: state %q, has_audio %v; want ended with audio", stored.State, stored.HasAudio)
	}
	m := stored.Meter
	if m == nil || !(m.StepS > 0) || len(m.ListenPct) == 0 || len(m.RepTalkS) != len(m.ListenPct) || len(m.CustomerTalkS) != len(m.ListenPct) {
		t.Fatalf("stored meter: %+v", m)
	}
	t.Logf("stored: %.2f s, name %q, rep %q, customer %q, meter %d samples every %g s",
		stored.DurationS, stored.Name, stored.Rep, stored.Customer, len(m.ListenPct), m.StepS)

	// The recording, as the <audio> element fetches it: with Range support.
	checkAudioRange(t, base, callID)

	// 2. The replay page: ready, play, pause.
	if err := chromedp.Do(tab, chromedp.Navigate(base+"/replay/"+callID)); err != nil {
		t.Fatalf("replay page: %v", err)
	}
	if got, err := chromedp.Run(tab, pollText("replay-state", 20*time.Second, "ready", "error")); err != nil || got != "ready" {
		t.Fatalf("replay page: #replay-state %q, %v", got, err)
	}
	audioDur, err := chromedp.Run(tab, chromedp.Evaluate[float64](`(() => { const a = document.getElementById('replay-audio'); return a ? a.duration : -1; })()`))
	if err != nil || audioDur < 0 {
		t.Fatalf("the replay page has no #replay-audio (%v): it is replaying without the recording", err)
	}
	if math.Abs(audioDur-stored.DurationS) > 0.1 {
		t.Errorf("#replay-audio is %.3f s long, the stored analysis %.3f s", audioDur, stored.DurationS)
	}
	if err := chromedp.Do(tab, chromedp.Click(chromedp.ID("replay-play"))); err != nil {
		t.Fatalf("click play: %v", err)
	}
	if got, err := chromedp.Run(tab, pollText("replay-state", 10*time.Second, "playing")); err != nil {
		notice, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.getElementById('replay-notice').textContent`))
		t.Fatalf("after play: #replay-state %q, %v; notice %q", got, err, notice)
	}
	t0 := replayTime(t, tab)
	// The time advances by at least a second of playback.
	t1, err := chromedp.Run(tab, chromedp.Poll[float64](fmt.Sprintf(
		`(() => { const v = parseFloat(document.getElementById('replay-time').textContent); return v >= %g ? v : false; })()`, t0+1),
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		t.Fatalf("#replay-time does not advance while playing: from %.1f s, %v (now %.1f s)", t0, err, replayTime(t, tab))
	}
	if err := chromedp.Do(tab, chromedp.Click(chromedp.ID("replay-play"))); err != nil {
		t.Fatalf("click pause: %v", err)
	}
	if got, err := chromedp.Run(tab, pollText("replay-state", 10*time.Second, "paused")); err != nil {
		t.Fatalf("after pause: #replay-state %q, %v", got, err)
	}
	tp := settledReplayTime(t, tab)
	t.Logf("played from %.1f s to %.1f s, paused at %.1f s", t0, t1, tp)
	if tp < t1 {
		t.Errorf("paused at %.1f s, before the %.1f s seen while playing", tp, t1)
	}

	// 3. Seek with real mouse clicks on the timeline, and compare the meter
	// at the playhead with the stored series.
	var shot []byte
	for i, frac := range []float64{0.60, 0.40} {
		box, err := chromedp.Run(tab, chromedp.Evaluate[map[string]float64](`(() => {
  const c = document.getElementById('replay-timeline');
  c.scrollIntoView({ block: 'center' });
  const r = c.getBoundingClientRect();
  return { left: r.left, top: r.top, width: r.width, height: r.height };
})()`))
		if err != nil || !(box["width"] > 0) || !(box["height"] > 0) {
			t.Fatalf("timeline canvas box %v, %v", box, err)
		}
		x := box["left"] + frac*box["width"]
		y := box["top"] + box["height"]/2
		if err := chromedp.Do(tab, chromedp.MouseClickXY(x, y)); err != nil {
			t.Fatalf("click the timeline at %.0f%%: %v", frac*100, err)
		}
		shown := settledReplayTime(t, tab)
		want := frac * stored.DurationS
		page := readReplayMeter(t, tab)
		t.Logf("seek %d: clicked at %.0f%% of the timeline (x %.1f of %.0f px): want ≈ %.2f s, shown %s s (audio at %.3f s); listen %s%%, rep %s s, customer %s s",
			i+1, frac*100, x-box["left"], box["width"], want, page.Time, page.AudioT, page.Listen, page.RepTalk, page.CustTalk)
		// One CSS pixel of the canvas is D/width seconds; allow two. The
		// page truncates t to 0.1 s: the playhead is in [shown, shown+0.1).
		if tol := 2*stored.DurationS/box["width"] + 0.05; math.Abs(shown+0.05-want) > tol {
			t.Errorf("seek %d: the playhead is at %.1f s, want %.2f ± %.2f s", i+1, shown, want, tol)
		}
		if page.State != "paused" {
			t.Errorf("seek %d: #replay-state %q after a seek while paused, want paused", i+1, page.State)
		}
		checkMeterAt(t, fmt.Sprintf("seek %d", i+1), shown, page, m)

		if i == 0 {
			// 4. The screenshot: the playhead at 60%, the mouse moved off
			// the canvas so that no hover tooltip covers it.
			if err := chromedp.Do(tab, chromedp.MouseEvent(chromedp.MouseMoved, 5, 5)); err != nil {
				t.Fatal(err)
			}
			if err := chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`)); err != nil {
				t.Fatal(err)
			}
			shot, err = chromedp.Run(tab, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatalf("screenshot: %v", err)
			}
		}
	}
	saveScreenshot(t, "screenshot-replay.png", shot)
}

// apiCall is the part of GET /api/calls/{id} the test reads.
type apiCall struct {
	ID        string    `json:"id"`
	State     string    `json:"state"`
	Name      string    `json:"name"`
	Rep       string    `json:"rep"`
	Customer  string    `json:"customer"`
	DurationS float64   `json:"duration_s"`
	HasAudio  bool      `json:"has_audio"`
	Meter     *apiMeter `json:"meter"`
}

// apiMeter is the stored meter series: index i is the value at i*StepS.
type apiMeter struct {
	StepS         float64    `json:"step_s"`
	ListenPct     []*float64 `json:"listen_pct"`
	RepTalkS      []float64  `json:"rep_talk_s"`
	CustomerTalkS []float64  `json:"customer_talk_s"`
}

func fetchCall(t *testing.T, base, id string) apiCall {
	t.Helper()
	resp, err := http.Get(base + "/api/calls/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/calls/%s: %s", id, resp.Status)
	}
	var c apiCall
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		t.Fatalf("GET /api/calls/%s: %v", id, err)
	}
	return c
}

// replayText is what the replay page shows at the playhead.
type replayText struct {
	State, Time, Listen, RepTalk, CustTalk string
	AudioT                                 float64 // the <audio>'s currentTime, for the log
}

func readReplayMeter(t *testing.T, ctx context.Context) replayText {
	t.Helper()
	var r struct {
		State, Time, Listen, Rep, Cust string
		AudioT                         float64
	}
	v, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage](`(() => {
  const v = (id) => ((document.getElementById(id) || {}).textContent || '').trim();
  const a = document.getElementById('replay-audio');
  return { State: v('replay-state'), Time: v('replay-time'), Listen: v('replay-listen-pct'),
    Rep: v('replay-rep-talk-s'), Cust: v('replay-customer-talk-s'), AudioT: a ? a.currentTime : -1 };
})()`))
	if err == nil {
		err = json.Unmarshal(v, &r)
	}
	if err != nil {
		t.Fatalf("read the replay page: %v", err)
	}
	return replayText{State: r.State, Time: r.Time, Listen: r.Listen, RepTalk: r.Rep, CustTalk: r.Cust, AudioT: r.AudioT}
}

func replayTime(t *testing.T, ctx context.Context) float64 {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('replay-time').textContent.trim()`))
	if err != nil {
		t.Fatal(err)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("#replay-time %q: %v", s, err)
	}
	return v
}

// settledReplayTime waits until the audio is not seeking and #replay-time
// has read the same for 300 ms, and returns it.
func settledReplayTime(t *testing.T, ctx context.Context) float64 {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Poll[string](`(() => {
  const a = document.getElementById('replay-audio');
  const v = document.getElementById('replay-time').textContent.trim();
  const w = window.__settle || (window.__settle = { v: null, n: 0 });
  if ((a && a.seeking) || v !== w.v) { w.v = v; w.n = 0; return false; }
  if (++w.n < 3) return false;
  window.__settle = null;
  return v;
})()`, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		t.Fatalf("#replay-time does not settle: %v", err)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("#replay-time %q: %v", s, err)
	}
	return v
}

// checkMeterAt checks the replay page's meter against the stored series at
// the displayed playhead. The page shows the sample at floor(t/step) and t
// truncated to 0.1 s, so with a whole-second step the sample is exactly
// the one at floor(shown/step).
func checkMeterAt(t *testing.T, what string, shown float64, page replayText, m *apiMeter) {
	t.Helper()
	clamp := func(i int) int { return max(0, min(len(m.ListenPct)-1, i)) }
	lo := clamp(int(math.Floor(shown/m.StepS + 1e-9)))
	hi := lo
	// as the page formats a listen share: one decimal, or an en dash
	pct := func(p *float64) string {
		if p == nil {
			return "–"
		}
		return strconv.FormatFloat(*p, 'f', 1, 64)
	}
	sample := func(i int) string {
		return fmt.Sprintf("[%d] %s%%/%.2f s/%.2f s", i, pct(m.ListenPct[i]), m.RepTalkS[i], m.CustomerTalkS[i])
	}
	var tried []string
	for i := lo; i <= hi; i++ {
		wantListen := pct(m.ListenPct[i])
		rep, repErr := strconv.ParseFloat(page.RepTalk, 64)
		cust, custErr := strconv.ParseFloat(page.CustTalk, 64)
		tried = append(tried, sample(i))
		if page.Listen == wantListen && repErr == nil && custErr == nil &&
			math.Abs(rep-m.RepTalkS[i]) <= 0.1 && math.Abs(cust-m.CustomerTalkS[i]) <= 0.1 {
			t.Logf("%s: the page at %.1f s shows the stored meter sample [%d] (t = %g s): listen %s%%, rep %s s (stored %.3f), customer %s s (stored %.3f); neighbours %s, %s",
				what, shown, i, float64(i)*m.StepS, page.Listen, page.RepTalk, m.RepTalkS[i], page.CustTalk, m.CustomerTalkS[i],
				sample(clamp(i-1)), sample(clamp(i+1)))
			return
		}
	}
	t.Errorf("%s: the page at %.1f s shows listen %s%%, rep %s s, customer %s s; the stored meter there has (listen/rep/customer) %s",
		what, shown, page.Listen, page.RepTalk, page.CustTalk, strings.Join(tried, "; "))
}

// checkAudioRange asks GET /api/calls/{id}/audio for the WAV header only, as
// a browser's media element asks for parts of the file when it seeks.
func checkAudioRange(t *testing.T, base, id string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/api/calls/"+id+"/audio", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Range", "bytes=0-41")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	// "fLaC" and the STREAMINFO block: 42 bytes.
	if resp.StatusCode != http.StatusPartialContent || len(b) != 42 || string(b[:4]) != "fLaC" {
		t.Errorf("GET /api/calls/%s/audio with Range bytes=0-41: %s, %d bytes %q, Content-Range %q; want 206 and a FLAC stream's first 42 bytes",
			id, resp.Status, len(b), b[:min(len(b), 12)], resp.Header.Get("Content-Range"))
	}
}
