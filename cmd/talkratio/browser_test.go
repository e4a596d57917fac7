package main

import (
	"bytes"
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
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"talkratio/disk"
	"talkratio/server"
	"talkratio/web"
)

// The browser fixture is the eval generator's call fx-006 (seed 11): 31.3 s
// of synthetic speech, rep on the left channel, customer on the right, with
// the customer's line leaking the rep's voice. It is the generator's own
// 8 kHz 16-bit PCM WAV, byte for byte (1 MB): Chrome's fake capture device
// resamples it (its track reports 44.1 kHz) and plays it at the right speed,
// so the segments the server finds line up with the truth's, shifted by a
// constant fraction of a second. Its ground truth is in the .truth.json next
// to it.
const (
	browserFixture      = "testdata/browser/call-fx006.wav"
	browserFixtureTruth = "testdata/browser/call-fx006.truth.json"
)

// pageHook records what the page asks getUserMedia for and what it gets, so
// that the test can check the stereo constraints and the delivered channel
// count, and keeps the page's peer connections for icePairJS. It runs before
// the page's own scripts.
const pageHook = `(() => {
  window.__gum = [];
  window.__pcs = [];
  const PC = window.RTCPeerConnection;
  if (PC) {
    window.RTCPeerConnection = class extends PC {
      constructor(...args) { super(...args); window.__pcs.push(this); }
    };
  }
  const md = navigator.mediaDevices;
  if (!md || !md.getUserMedia) return;
  const orig = md.getUserMedia.bind(md);
  md.getUserMedia = async (c) => {
    const rec = { constraints: JSON.parse(JSON.stringify(c || {})), at: performance.now() };
    window.__gum.push(rec);
    const s = await orig(c);
    const t = s.getAudioTracks()[0];
    rec.settings = t && t.getSettings ? t.getSettings() : null;
    rec.label = t ? t.label : '';
    return s;
  };
})();`

// icePairJS describes the selected ICE candidate pair of the page's last
// peer connection.
const icePairJS = `(async () => {
  const pc = (window.__pcs || []).at(-1);
  if (!pc) return 'no peer connection';
  const st = await pc.getStats();
  let pair = null;
  st.forEach((r) => { if (r.type === 'transport' && r.selectedCandidatePairId) pair = st.get(r.selectedCandidatePairId); });
  if (!pair) st.forEach((r) => { if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') pair = r; });
  if (!pair) return 'none selected';
  const c = (id) => { const x = st.get(id) || {}; return x.address + ':' + x.port + ' ' + x.protocol + ' ' + x.candidateType; };
  return c(pair.localCandidateId) + ' -> ' + c(pair.remoteCandidateId);
})()`

// TestBrowserLiveCall publishes a stereo recording from a real (headless)
// Chromium through the capture page, watches it live on the call page in a
// second tab, and checks the dashboard's final figures against what was
// actually delivered (`talkratio analyze` on the call's recording: talk per
// role and in all within 3%, listen within 1 pp, no packet late) and
// against the file (`analyze` on it: listen within 3 pp, the rep's talk
// within 3%, all the talk within 10%).
//
// Chrome's fake capture device plays the WAV once (%noloop), in real time,
// from about when the page opens the device, so the test takes some 40 s; it
// is skipped with -short. Without a Chromium binary it skips, except when
// CI=true, where it fails. Run it alone with
//
//	go test ./cmd/talkratio -run TestBrowserLiveCall -v
//
// The screenshot of the live call page goes to docs/screenshot-live.png with
// TALKRATIO_SCREENSHOTS=1, else to the test's artifact directory (kept with
// go test -artifacts).
func TestBrowserLiveCall(t *testing.T) {
	chrome := needChromium(t)

	wavPath, err := filepath.Abs(browserFixture)
	if err != nil {
		t.Fatal(err)
	}

	// What the offline analysis says about the same file.
	code, out, errOut := runCmd("analyze", "--format", "json", wavPath)
	if code != exitOK {
		t.Fatalf("analyze: exit %d, stderr %q", code, errOut)
	}
	var want struct {
		DurationS     float64 `json:"duration_s"`
		RepTalkS      float64 `json:"rep_talk_s"`
		CustomerTalkS float64 `json:"customer_talk_s"`
		ListenPct     float64 `json:"listen_pct"`
	}
	if err := json.Unmarshal([]byte(out), &want); err != nil {
		t.Fatalf("analyze output: %v\n%s", err, out)
	}
	truthPct := readTruth(t, browserFixtureTruth).listenPct()
	t.Logf("analyze: listen %.2f%% (rep %.2f s, customer %.2f s, %.1f s of audio); truth %.2f%%",
		want.ListenPct, want.RepTalkS, want.CustomerTalkS, want.DurationS, truthPct)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Diagnostics (server log, browser output, page consoles) go to one
	// buffer that is printed only when the test fails.
	diag := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("diagnostics:\n%s", diag.String())
		}
	})

	// The service, built as `talkratio serve` builds it.
	// It keeps the call's audio as it analyzed it (-record-audio): what
	// actually arrived from the browser.
	logger := slog.New(slog.NewTextHandler(diag, &slog.HandlerOptions{Level: slog.LevelDebug}))
	dataDir := t.TempDir()
	store, err := disk.Open(dataDir, logger)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Static: web.FS(), Logger: logger, Store: store, Audio: store, Staging: store, RecordAudio: true})
	if err != nil {
		t.Fatal(err)
	}
	// httptest listens on 127.0.0.1: a secure context for getUserMedia.
	// ICE needs no help: Chromium pairs its host candidate (the machine's
	// IPv4 or IPv6 address) with one of the server's host candidates.
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	base := ts.URL

	// The fixture is the microphone.
	opts := browserOptions(t, chrome, diag,
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-audio-capture", wavPath+"%noloop"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	capCtx, cancelCap := chromedp.NewContext(allocCtx)
	defer cancelCap()
	if err := chromedp.Do(capCtx); err != nil { // starts the browser; tab 1
		t.Fatalf("start %s: %v", chrome, err)
	}
	go collectConsole(capCtx, diag, "capture")

	// Tab 1: the capture page, stereo mode, Start. SetValue only sets the
	// select's value; the change event is what a user's choice fires, and
	// the page then opens the device for its level preview.
	if _, err := chromedp.Call(capCtx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: pageHook}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(capCtx,
		chromedp.Navigate(base+"/capture"),
		chromedp.WaitVisible(chromedp.ID("start")),
		chromedp.SendKeys(chromedp.ID("call-name-input"), "Acme discovery call"),
		chromedp.SendKeys(chromedp.ID("rep-name"), "Dana"),
		chromedp.SendKeys(chromedp.ID("customer-name"), "Acme Corp"),
		chromedp.SetValue(chromedp.ID("source-mode"), "stereo"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('source-mode').dispatchEvent(new Event('change', { bubbles: true }))`),
	); err != nil {
		t.Fatalf("capture page: %v", err)
	}
	for _, id := range []string{"echo-cancellation", "noise-suppression", "auto-gain-control"} {
		on, err := chromedp.Run(capCtx, chromedp.Evaluate[bool](`document.getElementById('`+id+`').checked`))
		if err != nil {
			t.Fatal(err)
		}
		if on {
			t.Fatalf("#%s is on by default; the stereo mode needs it off", id)
		}
	}
	if err := chromedp.Do(capCtx, chromedp.Click(chromedp.ID("start"))); err != nil {
		t.Fatalf("click Start: %v", err)
	}
	state, err := chromedp.Run(capCtx, pollText("publish-state", 30*time.Second, "live", "error"))
	if err != nil || state != "live" {
		msg, _ := chromedp.Run(capCtx, chromedp.Evaluate[string](`document.getElementById('publish-error').textContent`))
		t.Fatalf("publishing: state %q, err %v, #publish-error %q", state, err, msg)
	}
	liveAt := time.Now()
	callID, err := chromedp.Run(capCtx, chromedp.Evaluate[string](`document.getElementById('call-id').textContent.trim()`))
	if err != nil || callID == "" {
		t.Fatalf("no call id after publishing: %q, %v", callID, err)
	}
	t.Logf("publishing call %s", callID)
	if pair, err := chromedp.Run(capCtx, chromedp.Evaluate[string](icePairJS, chromedp.EvalAwaitPromise)); err == nil {
		t.Logf("ICE pair (browser -> server): %s", pair)
	}

	// What the page asked the microphone for, and what it got.
	gum, err := chromedp.Run(capCtx, chromedp.Evaluate[[]gumCall](`window.__gum || []`))
	if err != nil {
		t.Fatal(err)
	}
	checkStereoRequest(t, gum)
	warn, _ := chromedp.Run(capCtx, chromedp.Evaluate[string](`(() => { const w = document.getElementById('source-warn'); return w.hidden ? '' : w.textContent; })()`))
	if warn != "" {
		t.Errorf("capture page warns: %q", warn)
	}

	// The capture page's own compact meter follows the call, and the tab's
	// title carries the live figure (issue 11, point 8).
	if _, err := chromedp.Run(capCtx, chromedp.Poll[bool](`(() => {
  const v = document.getElementById('mini-listen-pct');
  return !!v && /^[0-9.]+$/.test(v.textContent) && / listening/.test(document.title);
})()`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		mini, _ := chromedp.Run(capCtx, chromedp.Evaluate[string](`(document.getElementById('mini-slot') || {}).innerText + ' | ' + document.title`))
		t.Errorf("the capture page's mini meter shows no live figure: %q (%v)", mini, err)
	}

	// Tab 2: the call page, in the same browser. It opens as a tab of the
	// same window, in front, as a rep would open it: the capture page goes
	// to the background, where it stops painting but keeps sending. (Two
	// windows paint both pages, and Chromium then used 1.7 of this
	// machine's 2 cores; starved, its audio dropped out.)
	callCtx, cancelCall := chromedp.NewContext(capCtx, chromedp.WithNewWindow(false))
	defer cancelCall()
	if err := chromedp.Do(callCtx); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(callCtx, page.BringToFront, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	go collectConsole(callCtx, diag, "call")
	if err := chromedp.Do(callCtx, chromedp.Navigate(base+"/calls/"+callID)); err != nil {
		t.Fatalf("call page: %v", err)
	}
	if st, err := chromedp.Run(callCtx, pollText("call-state", 15*time.Second, "live")); err != nil {
		t.Fatalf("call page state %q: %v", st, err)
	}

	// Let the recording play out. The fake device plays the file from about
	// when the page opens it, a fraction of a second before the call goes
	// live; the screenshot comes a few seconds before the end.
	dur := time.Duration(want.DurationS * float64(time.Second))
	shotAt := liveAt.Add(dur - 4*time.Second)
	endAt := liveAt.Add(dur + 3*time.Second)
	if err := sleepUntil(ctx, shotAt); err != nil {
		t.Fatal(err)
	}
	// A full-page screenshot resizes the page, which clears its canvas
	// until the next frame: the second one is the page as drawn.
	if _, err := chromedp.Run(callCtx, chromedp.FullScreenshot(100)); err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	shot, err := chromedp.Run(callCtx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	liveSnap := readMeter(t, callCtx)
	t.Logf("live at %.0f s: %+v", time.Since(liveAt).Seconds(), liveSnap)
	saveScreenshot(t, "screenshot-live.png", shot)
	if err := sleepUntil(ctx, endAt); err != nil {
		t.Fatal(err)
	}

	// Back to tab 1 for Stop; tab 2 sees the end.
	if _, err := chromedp.Call(capCtx, page.BringToFront, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	// The capture page as the rep sees it at the end of the call, its
	// compact meter beside the controls.
	time.Sleep(500 * time.Millisecond) // a frame painted since it came to the front
	if capShot, err := chromedp.Run(capCtx, chromedp.FullScreenshot(100)); err == nil {
		saveScreenshot(t, "screenshot-capture.png", capShot)
	} else {
		t.Errorf("capture page screenshot: %v", err)
	}
	if err := chromedp.Do(capCtx, chromedp.Click(chromedp.ID("stop"))); err != nil {
		t.Fatalf("click Stop: %v", err)
	}
	if st, err := chromedp.Run(capCtx, pollText("publish-state", 10*time.Second, "stopped", "error")); err != nil || st != "stopped" {
		t.Errorf("capture page after Stop: %q, %v", st, err)
	}
	if st, err := chromedp.Run(callCtx, pollText("call-state", 15*time.Second, "ended")); err != nil {
		t.Fatalf("call page after Stop: %q, %v", st, err)
	}
	final := readMeter(t, callCtx)
	got, err := strconv.ParseFloat(final.Listen, 64)
	if err != nil {
		t.Fatalf("#listen-pct %q after the call: %v", final.Listen, err)
	}

	// The record the server stored, for the log.
	if rec, err := storedCall(base, callID); err == nil {
		t.Logf("stored: %s", rec)
	}
	// What the service heard: the call's recording (the audio that actually
	// arrived from the browser, where the service placed it), analyzed
	// offline.
	code, out, errOut = runCmd("analyze", "--format", "json", filepath.Join(dataDir, "calls", callID, "audio.wav"))
	if code != exitOK {
		t.Fatalf("analyze the call's recording: exit %d, stderr %q", code, errOut)
	}
	var heard struct {
		DurationS     float64 `json:"duration_s"`
		RepTalkS      float64 `json:"rep_talk_s"`
		CustomerTalkS float64 `json:"customer_talk_s"`
		ListenPct     float64 `json:"listen_pct"`
	}
	if err := json.Unmarshal([]byte(out), &heard); err != nil {
		t.Fatalf("analyze output: %v\n%s", err, out)
	}
	late := metricSum(t, base, "talkratio_rtp_packets_late_total")
	missing := metricSum(t, base, "talkratio_audio_missing_seconds_total")

	var dash [2]float64 // rep, customer
	for i, s := range []string{final.RepTalk, final.CustTalk} {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || !(v > 0) {
			t.Errorf("dashboard talk time %q, want > 0", s)
		}
		dash[i] = v
	}
	talk, heardTalk, fileTalk := dash[0]+dash[1], heard.RepTalkS+heard.CustomerTalkS, want.RepTalkS+want.CustomerTalkS
	diff := got - want.ListenPct
	t.Logf("listen: dashboard %.1f%%, analyze of what arrived %.1f%%, analyze of the file %.1f%% (diff %+.2f pp), truth %.2f%%", got, heard.ListenPct, want.ListenPct, diff, truthPct)
	t.Logf("talk: dashboard rep %.1f s, customer %.1f s, all %.1f s; what arrived %.2f, %.2f, %.2f s (%+.1f%%); the file %.2f, %.2f, %.2f s (%+.1f%%); late packets %.0f, missing audio %.2f s",
		dash[0], dash[1], talk, heard.RepTalkS, heard.CustomerTalkS, heardTalk, 100*(talk-heardTalk)/heardTalk,
		want.RepTalkS, want.CustomerTalkS, fileTalk, 100*(talk-fileTalk)/fileTalk, late, missing)

	// The dashboard against what was actually delivered: the same audio,
	// live and offline. Per role and in all, within 3% (and the 0.05 s the
	// dashboard's one decimal may round away).
	for _, c := range []struct {
		role        string
		dash, heard float64
	}{{"rep", dash[0], heard.RepTalkS}, {"customer", dash[1], heard.CustomerTalkS}, {"all", talk, heardTalk}} {
		if math.Abs(c.dash-c.heard) > 0.03*c.heard+0.05 {
			t.Errorf("%s talk: dashboard %.1f s, analyze of the audio that arrived %.2f s: more than 3%% apart", c.role, c.dash, c.heard)
		}
	}
	if d := math.Abs(got - heard.ListenPct); d > 1 {
		t.Errorf("dashboard listen %.1f%%, analyze of the audio that arrived %.1f%%: %.1f pp apart, want <= 1", got, heard.ListenPct, d)
	}
	// Nothing that arrived was thrown away, however busy the machine.
	if late != 0 {
		t.Errorf("%.0f packets that arrived were thrown away as late", late)
	}
	// And what arrived is the file: its listen % within 3 pp, the rep's
	// talk within 3%, and all the talk within 10% (a fake device playing at
	// the wrong speed shows in the talk time, not in the share). The
	// customer's side is not held to 3%: the rep's voice leaks into it, and
	// in the call's first seconds the detector takes that leak for the
	// customer in some runs and not in others, on the codec's audio as on
	// the file's (the detector's issue, not the live path's: the dashboard
	// matches what arrived).
	if math.Abs(diff) > 3 {
		t.Errorf("dashboard listen %.1f%% vs analyze of the file %.2f%%: %.2f pp apart, want ≤ 3", got, want.ListenPct, diff)
	}
	if math.Abs(dash[0]-want.RepTalkS) > 0.03*want.RepTalkS+0.05 {
		t.Errorf("rep talk: dashboard %.1f s, analyze of the file %.2f s: more than 3%% apart", dash[0], want.RepTalkS)
	}
	if math.Abs(talk-fileTalk) > 0.1*fileTalk {
		t.Errorf("dashboard talk time %.1f s vs analyze of the file %.1f s: more than 10%% apart (fake device playing at the wrong speed?)", talk, fileTalk)
	}
}

// metricSum adds up a metric's series on the service's /metrics.
func metricSum(t *testing.T, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	sum, found := 0.0, false
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			t.Fatalf("/metrics: %q: %v", line, err)
		}
		sum, found = sum+v, true
	}
	if !found {
		t.Fatalf("/metrics has no %s", name)
	}
	return sum
}

// gumCall is one getUserMedia call that pageHook recorded.
type gumCall struct {
	Constraints struct {
		Audio json.RawMessage `json:"audio"`
	} `json:"constraints"`
	Settings map[string]any `json:"settings"`
	Label    string         `json:"label"`
	At       float64        `json:"at"` // performance.now()
}

// checkStereoRequest checks the stereo mode's getUserMedia call: two
// channels, no echo cancellation, noise suppression or gain control, and a
// device that delivered two channels.
func checkStereoRequest(t *testing.T, calls []gumCall) {
	t.Helper()
	var all []string
	for _, c := range calls {
		all = append(all, fmt.Sprintf("%.0f ms: %s", c.At, c.Constraints.Audio))
	}
	t.Logf("getUserMedia calls (the level preview opens the device too): %s", strings.Join(all, "; "))
	for i, c := range calls {
		var a struct {
			ChannelCount     any  `json:"channelCount"`
			EchoCancellation bool `json:"echoCancellation"`
			NoiseSuppression bool `json:"noiseSuppression"`
			AutoGainControl  bool `json:"autoGainControl"`
		}
		if json.Unmarshal(c.Constraints.Audio, &a) != nil || fmt.Sprint(a.ChannelCount) != "2" {
			continue
		}
		t.Logf("stereo getUserMedia (call %d of %d) gave %q, settings %v", i+1, len(calls), c.Label, c.Settings)
		if a.EchoCancellation || a.NoiseSuppression || a.AutoGainControl {
			t.Errorf("stereo capture asks for audio processing: %s", c.Constraints.Audio)
		}
		if ch, _ := c.Settings["channelCount"].(float64); ch != 2 {
			t.Errorf("the stereo input delivers %v channels, want 2 (settings %v)", c.Settings["channelCount"], c.Settings)
		}
		return
	}
	t.Errorf("the capture page never asked getUserMedia for channelCount 2; calls: %+v", calls)
}

// meterText is what the call page shows.
type meterText struct {
	State, Listen, RepTalk, CustTalk string
}

func readMeter(t *testing.T, ctx context.Context) meterText {
	t.Helper()
	m, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`(() => {
  const v = (id) => (document.getElementById(id) || {}).textContent || '';
  return { state: v('call-state'), listen: v('listen-pct'), rep: v('rep-talk-s'), cust: v('customer-talk-s') };
})()`))
	if err != nil {
		t.Fatalf("read the call page: %v", err)
	}
	return meterText{State: m["state"], Listen: strings.TrimSpace(m["listen"]), RepTalk: m["rep"], CustTalk: m["cust"]}
}

// pollText waits until the text of the element with the id is one of the
// values, and returns it. It polls on a timer, not on animation frames.
func pollText(id string, timeout time.Duration, values ...string) chromedp.Action[string] {
	want, _ := json.Marshal(values)
	return chromedp.Poll[string](
		fmt.Sprintf(`(() => { const e = document.getElementById(%q); const s = e ? e.textContent.trim() : ''; return %s.includes(s) ? s : false; })()`, id, want),
		chromedp.WithPollingInterval(100*time.Millisecond),
		chromedp.WithPollingTimeout(timeout),
	)
}

func sleepUntil(ctx context.Context, at time.Time) error {
	select {
	case <-time.After(time.Until(at)):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// storedCall returns the server's record of an ended call, trimmed.
func storedCall(base, id string) (string, error) {
	resp, err := http.Get(base + "/api/calls/" + id)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	// The record's result may be nested ("result") or inline.
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(b, &rec); err != nil {
		return "", err
	}
	var res map[string]json.RawMessage
	if json.Unmarshal(rec["result"], &res) != nil {
		res = rec
	}
	return fmt.Sprintf("state %s, duration %s s, listen %s%%, segments %s", rec["state"], rec["duration_s"], res["listen_pct"], res["segments"]), nil
}

// collectConsole copies a tab's console messages into the diagnostics.
func collectConsole(ctx context.Context, w io.Writer, tab string) {
	for m, err := range chromedp.Console(ctx) {
		if err != nil {
			return
		}
		fmt.Fprintf(w, "console %s: %s\n", tab, m)
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// prefixWriter prefixes each write (a line of the browser's output, mostly).
type prefixWriter struct {
	w      io.Writer
	prefix string
}

func (p prefixWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.w, p.prefix+string(b)); err != nil {
		return 0, err
	}
	return len(b), nil
}
