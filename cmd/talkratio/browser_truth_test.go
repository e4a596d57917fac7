package main

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"talkratio/call"
	"talkratio/disk"
	"talkratio/server"
	"talkratio/tally"
	"talkratio/web"
)

// synthCall is a call made up of turns: the rep and the customer take
// turns of the given lengths (seconds) with short pauses, from 1 s on.
// rnd varies the turns around their means, reproducibly.
func synthCall(rnd *rand.Rand, dur, repMean, custMean float64) tally.Segments {
	var segs tally.Segments
	at := 1.0
	rep := true
	for at < dur-1 {
		mean := custMean
		if rep {
			mean = repMean
		}
		l := math.Round(mean*(0.4+1.2*rnd.Float64())*100) / 100
		end := math.Min(at+l, dur-0.5)
		s := tally.Segment{Start: math.Round(at*100) / 100, End: math.Round(end*100) / 100}
		if rep {
			segs.Rep = append(segs.Rep, s)
		} else {
			segs.Customer = append(segs.Customer, s)
		}
		at = end + 0.3 + rnd.Float64()
		rep = !rep
	}
	return segs
}

// analyzedRecord is the record of an analyzed call with these segments,
// as the service stores one: the tally's figures and the meter series.
func analyzedRecord(id, name, rep, cust, state string, started time.Time, dur float64, segs tally.Segments) *call.Record {
	rules := call.Rules{}.WithDefaults()
	ty := tally.New(rules.Tally())
	for _, s := range segs.Rep {
		ty.Add(tally.Rep, s)
	}
	for _, s := range segs.Customer {
		ty.Add(tally.Customer, s)
	}
	res := tally.Result{Metrics: ty.Report(dur), Segments: segs}
	if res.Segments.Missing == nil {
		res.Segments.Missing = []tally.Segment{}
	}
	meter := rules.Meter(&res)
	rec := &call.Record{ID: id, Source: call.SourceUpload, State: state, StartedAt: started, DurationS: res.DurationS, Result: &res, Meter: &meter, SampleRate: 16000, Channels: 2}
	rec.SetLabels(name, rep, cust)
	if state == call.StateLive {
		rec.Source, rec.Meter = call.SourceLive, nil
	}
	return rec
}

// truthService is a service on a data directory whose store the test
// fills itself, and a browser tab on it.
type truthService struct {
	st   *disk.Store
	base string
	tab  context.Context
}

func newTruthService(t *testing.T, width, height int) *truthService {
	chrome := needChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	diag := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("diagnostics:\n%s", diag.String())
		}
	})
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := disk.Open(t.TempDir(), logger)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Store: st, Audio: st, Staging: st, Static: web.FS(), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })
	opts := browserOptions(t, chrome, diag, chromedp.WindowSize(width, height))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start %s: %v", chrome, err)
	}
	go collectConsole(tab, diag, "page")
	return &truthService{st: st, base: ts.URL, tab: tab}
}

func (s *truthService) put(t *testing.T, recs ...*call.Record) {
	t.Helper()
	for _, r := range recs {
		if err := s.st.Put(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
}

// text polls until the element's text satisfies ok, and returns it.
func (s *truthService) text(t *testing.T, sel string, ok func(string) bool, what string) string {
	t.Helper()
	var got string
	for i := 0; i < 100; i++ {
		v, err := chromedp.Run(s.tab, chromedp.Evaluate[string](`(() => { const e = document.querySelector(`+strconv.Quote(sel)+`); return e ? e.textContent.trim().replace(/\s+/g, ' ') : ''; })()`))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		got = v
		if ok(got) {
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: %s shows %q", what, sel, got)
	return ""
}

func (s *truthService) screenshot(t *testing.T, name string) {
	t.Helper()
	// The first full-page screenshot resizes the page, which clears its
	// canvases until the next frame: the second is the page as drawn.
	chromedp.Run(s.tab, chromedp.FullScreenshot(100))
	time.Sleep(300 * time.Millisecond)
	png, err := chromedp.Run(s.tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, name, png)
}

var day = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

// Points 1, 3, 4 and 5 of issue 11, in a browser: an ended call's page
// shows its length and its whole timeline; the library does not count
// live calls as stored ones; the rep's and the customer's shares beside
// the gauge add up with it; the last-2-minutes figure is not shown before
// two minutes have passed.
func TestBrowserScreensTellTheTruth(t *testing.T) {
	s := newTruthService(t, 1280, 900)
	rnd := rand.New(rand.NewPCG(11, 1))
	if _, err := chromedp.Call(s.tab, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: drawnText}); err != nil {
		t.Fatal(err)
	}

	// Only live calls: the library is empty.
	for i, rep := range []string{"Dana", "Lee", "Sam", "Kim"} {
		r := analyzedRecord("live"+strconv.Itoa(i), "Live call "+rep, rep, "Acme", call.StateLive, time.Now().Add(-time.Minute), 60, synthCall(rnd, 60, 8, 6))
		s.put(t, r)
	}
	if err := chromedp.Do(s.tab, chromedp.Navigate(s.base+"/")); err != nil {
		t.Fatal(err)
	}
	s.text(t, "#live-count", func(v string) bool { return v == "4" }, "live count")
	count := s.text(t, "#empty-title", func(v string) bool { return v != "" }, "library empty state")
	if count != "No calls yet" {
		t.Errorf("library with 4 live calls and none stored: empty state %q, want \"No calls yet\"", count)
	}
	libCount, _ := chromedp.Run(s.tab, chromedp.Evaluate[string](`document.getElementById('lib-count').textContent.trim()`))
	if strings.Contains(libCount, "4") {
		t.Errorf("library count %q: counts the live calls as stored ones", libCount)
	}

	// An ended call of 4:13.
	segs := synthCall(rnd, 253, 12, 5)
	ended := analyzedRecord("ended413", "Initech discovery", "Dana", "Initech Corporation (EMEA)", call.StateEnded, day, 253, segs)
	s.put(t, ended)
	if err := chromedp.Do(s.tab, chromedp.Navigate(s.base+"/calls/ended413")); err != nil {
		t.Fatal(err)
	}
	s.text(t, "#call-clock", func(v string) bool { return v == "4:13" }, "ended call's clock")
	// The timeline runs to the call's end, not 0:00-3:00 (its axis is
	// drawn on a canvas: the labels are read from its fillText calls).
	if _, err := chromedp.Run(s.tab, chromedp.Poll[bool](`(window.__drawn || []).includes('4:00')`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		drawn, _ := chromedp.Run(s.tab, chromedp.Evaluate[[]string](`[...new Set(window.__drawn || [])]`))
		t.Errorf("the ended call's timeline has no 4:00 on its axis: %q", drawn)
	}
	s.text(t, "#call-state", func(v string) bool { return v != "connecting" }, "ended call's state")
	if banner, err := chromedp.Run(s.tab, chromedp.Evaluate[bool](`/final numbers · 4:13/.test(document.body.innerText)`)); err != nil || !banner {
		t.Errorf("the ended call's banner does not say \"final numbers · 4:13\" (%v)", err)
	}
	lp, _ := strconv.ParseFloat(s.text(t, "#listen-pct", func(v string) bool { return v != "–" }, "listen %"), 64)
	rs, _ := strconv.ParseFloat(s.text(t, "#rep-share-pct", func(v string) bool { return v != "0.0" }, "rep share"), 64)
	cs, _ := strconv.ParseFloat(s.text(t, "#customer-share-pct", func(v string) bool { return v != "" }, "customer share"), 64)
	if math.Abs(lp-cs) > 0.1 || math.Abs(lp+rs-100) > 0.15 {
		t.Errorf("gauge %v%% listened; cards: rep %v%%, customer %v%% of the talk: they do not add up", lp, rs, cs)
	}
	recent := s.text(t, "#recent-listen-pct", func(v string) bool { return v != "" }, "recent listen")
	if want := *tally.ListenShare(tailTalk(segs.Customer, 253-120, 253), tailTalk(segs.Rep, 253-120, 253)); recent != strconv.FormatFloat(want, 'f', 1, 64) {
		t.Errorf("last 2 min: %q, want %.1f", recent, want)
	}
	// Names are shown whole where there is room (they wrap, never cut).
	if cut, err := chromedp.Run(s.tab, chromedp.Evaluate[string](`[...document.querySelectorAll('.role-name')].filter((e) => e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1).map((e) => e.textContent).join(', ')`)); err != nil || cut != "" {
		t.Errorf("names cut short: %q (%v)", cut, err)
	}
	s.screenshot(t, "screenshot-ended.png")

	// An ended call of 1:40: no last-2-minutes figure.
	short := analyzedRecord("short100", "Quick check-in", "Lee", "Globex", call.StateEnded, day.Add(time.Hour), 100, synthCall(rnd, 100, 6, 6))
	s.put(t, short)
	if err := chromedp.Do(s.tab, chromedp.Navigate(s.base+"/calls/short100")); err != nil {
		t.Fatal(err)
	}
	s.text(t, "#call-clock", func(v string) bool { return v == "1:40" }, "short call's clock")
	if got := s.text(t, "#recent-listen-pct", func(v string) bool { return v != "" }, "recent listen"); got != "–" {
		t.Errorf("last 2 min of a 1:40 call: %q, want – (it would repeat the whole call's figure)", got)
	}

	// The library now counts the two stored calls, not the live ones.
	if err := chromedp.Do(s.tab, chromedp.Navigate(s.base+"/")); err != nil {
		t.Fatal(err)
	}
	s.text(t, "#live-count", func(v string) bool { return v == "4" }, "live count")
	s.text(t, "#lib-count", func(v string) bool { return v == "2 calls" }, "library count")
	s.text(t, "#summary", func(v string) bool { return strings.Contains(v, "4 live") && strings.Contains(v, "2 calls") }, "summary chips")
	s.screenshot(t, "screenshot-home.png")
}

// drawnText keeps the last texts a page draws on its canvases in
// window.__drawn.
const drawnText = `(() => {
  const fill = CanvasRenderingContext2D.prototype.fillText;
  window.__drawn = [];
  CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
    window.__drawn.push(String(text));
    if (window.__drawn.length > 500) window.__drawn.splice(0, 250);
    return fill.call(this, text, ...rest);
  };
})()`

// tailTalk is the talk of sorted segments inside [from, to).
func tailTalk(segs []tally.Segment, from, to float64) float64 {
	var x float64
	for _, s := range segs {
		a, b := math.Max(s.Start, from), math.Min(s.End, to)
		if b > a {
			x += b - a
		}
	}
	return x
}

// The rep's compact meter (issue 11, point 8) follows the snapshots it is
// given, keeps the tab's title on the live figure, and alerts once each
// time the nudge fires: a sound and a desktop notification, each only when
// opted into.
func TestBrowserMiniMeterNudge(t *testing.T) {
	s := newTruthService(t, 1280, 900)
	if err := chromedp.Do(s.tab, chromedp.Navigate(s.base+"/capture")); err != nil {
		t.Fatal(err)
	}
	s.text(t, "#start", func(v string) bool { return v != "" }, "capture page")
	// Stand-ins for the browser's sound and notifications that count what
	// the page asks of them.
	const setup = `(async () => {
  window.__beeps = 0; window.__notes = [];
  window.AudioContext = class { constructor() { window.__beeps++; this.currentTime = 0; this.destination = {}; }
    createOscillator() { return { frequency: {}, connect: (g) => g, start() {}, stop() {} }; }
    createGain() { const g = { gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} }, connect: (d) => d }; return g; }
    close() { return Promise.resolve(); } };
  window.Notification = class { constructor(title, o) { window.__notes.push(title + ': ' + o.body); } };
  window.Notification.permission = 'granted';
  window.Notification.requestPermission = async () => 'granted';
  const m = await import('/assets/minimeter.js');
  const slot = document.getElementById('mini-slot');
  slot.hidden = false;
  window.__mini = m.createMiniMeter(slot, { callId: 'c1', title: true });
  return true;
})()`
	if _, err := chromedp.Run(s.tab, chromedp.Evaluate[bool](setup, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatal(err)
	}
	snap := func(now, listen, cur float64, nudge bool) string {
		return `window.__mini.update({call: {name: 'Acme discovery', state: 'live'}, now_s: ` + ff(now) + `, target_listen_pct: 80, listen_pct: ` + ff(listen) +
			`, monologue: {current_s: ` + ff(cur) + `, nudge_after_s: 60, nudge: ` + strconv.FormatBool(nudge) + `}})`
	}
	type state struct {
		Pct, Mono, Title, Nudge, Alerts string
		Beeps                           int
		Notes                           []string
	}
	read := func() state {
		st, err := chromedp.Run(s.tab, chromedp.Evaluate[state](`({pct: document.getElementById('mini-listen-pct').textContent, mono: document.getElementById('mini-monologue-s').textContent,
  title: document.title, nudge: document.getElementById('mini-meter').dataset.nudge, alerts: document.getElementById('mini-meter').dataset.alerts,
  beeps: window.__beeps, notes: window.__notes})`))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	do := func(js string) {
		t.Helper()
		if _, err := chromedp.Run(s.tab, chromedp.Evaluate[chromedp.Void](js)); err != nil {
			t.Fatal(err)
		}
	}
	// Nudges fire with neither sound nor notification chosen: counted, silent.
	do(snap(30, 71.26, 12, false))
	if st := read(); st.Pct != "71.3" || st.Mono != "12" || !strings.HasPrefix(st.Title, "71.3% listening") || st.Nudge != "false" {
		t.Errorf("after a snapshot: %+v; want 71.3%%, 12 s, the title on 71.3%%, no nudge", st)
	}
	do(snap(90, 40, 61, true))
	if st := read(); st.Nudge != "true" || st.Alerts != "1" || st.Beeps != 0 || len(st.Notes) != 0 || !strings.Contains(st.Title, "hand it back") {
		t.Errorf("a nudge with no alert chosen: %+v; want nudging, 1 alert, no sound, no notification", st)
	}
	// Opted in: the next nudge (not every snapshot of it) plays and notifies.
	do(`document.getElementById('nudge-sound').click(); document.getElementById('nudge-notify').click();`)
	time.Sleep(200 * time.Millisecond) // the permission check is a promise
	do(snap(90.1, 40, 61.1, true))
	do(snap(95, 41, 0, false))
	do(snap(200, 35, 62, true))
	do(snap(200.1, 35, 62.1, true))
	st := read()
	if st.Alerts != "2" || st.Beeps != 1 || len(st.Notes) != 1 || !strings.Contains(st.Notes[0], "60 s") {
		t.Errorf("a second nudge, sound and notification on: %+v; want 2 alerts, 1 sound, 1 notification naming 60 s", st)
	}

	// Pop out: with Document Picture-in-Picture the meter moves into an
	// always-on-top window and back when it closes; without it, the
	// call's page opens in a small window.
	hasPiP, err := chromedp.Run(s.tab, chromedp.Evaluate[bool](`'documentPictureInPicture' in window`))
	if err != nil {
		t.Fatal(err)
	}
	if !hasPiP {
		do(`window.__opened = []; window.open = (u, n, f) => { window.__opened.push(u + ' ' + n + ' ' + f); return null; };`)
	}
	if err := chromedp.Do(s.tab, chromedp.Click(chromedp.ID("mini-pop"))); err != nil {
		t.Fatal(err)
	}
	if hasPiP {
		s.text(t, "#mini-pop", func(v string) bool { return v == "Bring the meter back" }, "pop-out button once popped out")
		inPage, _ := chromedp.Run(s.tab, chromedp.Evaluate[bool](`!!document.getElementById('mini-meter')`))
		if inPage {
			t.Errorf("the meter is still in the page after popping out")
		}
		do(`document.getElementById('mini-pop').click()`) // closes the window
		s.text(t, "#mini-pop", func(v string) bool { return v == "Pop out meter" }, "pop-out button once back")
		if back, _ := chromedp.Run(s.tab, chromedp.Evaluate[bool](`!!document.getElementById('mini-meter')`)); !back {
			t.Errorf("the meter did not come back when its window closed")
		}
		t.Log("Document Picture-in-Picture: popped out and back")
	} else {
		opened, _ := chromedp.Run(s.tab, chromedp.Evaluate[[]string](`window.__opened`))
		if len(opened) != 1 || !strings.HasPrefix(opened[0], "/calls/c1 talkratio-meter popup") {
			t.Errorf("without Document Picture-in-Picture the pop-out opened %q, want the call's page in a popup", opened)
		}
		t.Log("no Document Picture-in-Picture here: the popup fallback")
	}
}

func ff(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// The live wall (issue 11, point 9) shows every live call, furthest below
// the target first, and re-sorts as the calls' figures change.
func TestBrowserLiveWall(t *testing.T) {
	s := newTruthService(t, 1280, 900)
	rnd := rand.New(rand.NewPCG(9, 9))
	type mix struct {
		rep          string
		rMean, cMean float64
	}
	var recs []*call.Record
	for i, m := range []mix{{"Dana", 14, 4}, {"Lee", 4, 14}, {"Sam", 8, 8}, {"Kim", 20, 3}, {"Ana", 5, 22}, {"Bo", 9, 5}} {
		dur := 200 + 60*float64(i)
		r := analyzedRecord("w"+strconv.Itoa(i), "Call with "+m.rep, m.rep, "Customer "+strconv.Itoa(i), call.StateLive, time.Now().Add(-time.Duration(dur)*time.Second), dur, synthCall(rnd, dur, m.rMean, m.cMean))
		recs = append(recs, r)
	}
	quiet := analyzedRecord("wq", "Just started", "Eve", "Globex", call.StateLive, time.Now(), 5, tally.Segments{})
	done := analyzedRecord("wd", "Over", "Dana", "Initech", call.StateEnded, day, 100, synthCall(rnd, 100, 20, 2))
	s.put(t, append(recs, quiet, done)...)
	want := func() string {
		sorted := slices.Clone(recs)
		slices.SortFunc(sorted, func(a, b *call.Record) int { return cmp.Compare(*a.ListenPct, *b.ListenPct) })
		var ids []string
		for _, r := range sorted {
			ids = append(ids, r.ID)
		}
		return strings.Join(append(ids, quiet.ID), " ")
	}
	order := `[...document.querySelectorAll('#wall-grid .wall-tile')].map((e) => e.dataset.id).join(' ')`
	if err := chromedp.Do(s.tab, chromedp.Navigate(s.base+"/wall")); err != nil {
		t.Fatal(err)
	}
	poll := func(w string) string {
		got, err := chromedp.Run(s.tab, chromedp.Poll[string](`(() => { const o = `+order+`; return o === `+strconv.Quote(w)+` ? o : false; })()`, chromedp.WithPollingTimeout(10*time.Second)))
		if err != nil {
			now, _ := chromedp.Run(s.tab, chromedp.Evaluate[string](order))
			t.Fatalf("wall order %q, want %q (furthest below target first, no speech last, no ended call)", now, w)
		}
		return got
	}
	poll(want())
	s.screenshot(t, "screenshot-wall.png")
	// The best call turns bad: it moves to the front.
	best := recs[0]
	for _, r := range recs {
		if *r.ListenPct > *best.ListenPct {
			best = r
		}
	}
	worse := analyzedRecord(best.ID, best.Name, best.Rep, best.Customer, call.StateLive, best.StartedAt, best.DurationS+10, synthCall(rnd, best.DurationS+10, 30, 1))
	*best = *worse
	s.put(t, worse)
	poll(want())
	if first := strings.Fields(want())[0]; first != best.ID {
		t.Errorf("the call that turned worst (%s, %.1f%%) is not first: %s", best.ID, *best.ListenPct, first)
	}
}

// A 96-minute call's replay (issue 11, point 10) zooms and pans: the
// timeline starts on the whole call, zooms in around the playhead, the
// map below moves the view, and a link with ?t= opens the call there.
func TestBrowserReplayZoom(t *testing.T) {
	s := newTruthService(t, 1280, 1000)
	rnd := rand.New(rand.NewPCG(96, 1))
	const dur = 96 * 60
	segs := synthCall(rnd, dur, 8, 6)
	rec := analyzedRecord("long96", "Quarterly review (96 min)", "Dana", "Umbrella", call.StateEnded, day, dur, segs)
	other := analyzedRecord("lee1", "Lee's call", "Lee", "Globex", call.StateEnded, day, 600, synthCall(rnd, 600, 4, 12))
	s.put(t, rec, other)
	t.Logf("%d segments in %d s", len(segs.Rep)+len(segs.Customer), dur)
	if err := chromedp.Do(s.tab, chromedp.Navigate(s.base+"/replay/long96")); err != nil {
		t.Fatal(err)
	}
	s.text(t, "#replay-state", func(v string) bool { return v == "ready" || v == "paused" }, "replay state")
	s.text(t, "#tl-view", func(v string) bool { return v == "whole call · 1:36:00" }, "view at first")
	// The named figures, and the averages beside the call's own.
	if got, want := s.text(t, "#replay-interactivity", func(v string) bool { return v != "" }, "interactivity"), strconv.FormatFloat(rec.TurnSwitchesPerMinute, 'f', 1, 64); got != want {
		t.Errorf("interactivity %q, want %q switches a minute", got, want)
	}
	if got, want := s.text(t, "#replay-patience", func(v string) bool { return v != "" }, "patience"), strconv.FormatFloat(rec.RepReplyPauseMedianS, 'f', 2, 64); got != want {
		t.Errorf("patience %q, want %q s", got, want)
	}
	team := tally.RoundListen((*rec.ListenPct + *other.ListenPct) / 2)
	wantAvg := "Dana's average " + strconv.FormatFloat(*rec.ListenPct, 'f', 1, 64) + "% · team " + strconv.FormatFloat(team, 'f', 1, 64) + "%"
	s.text(t, "#avg-listen", func(v string) bool { return v == wantAvg }, "listen averages (want "+wantAvg+")")
	s.screenshot(t, "screenshot-replay-90min-out.png")
	click := func(id string) {
		t.Helper()
		if err := chromedp.Do(s.tab, chromedp.Click(chromedp.ID(id))); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 {
		click("tl-zoom-in")
	}
	// 5760 s halved five times is 180 s, around the playhead at 0.
	s.text(t, "#tl-view", func(v string) bool { return v == "0:00–3:00 of 1:36:00" }, "zoomed in")
	mapView, err := chromedp.Run(s.tab, chromedp.Evaluate[float64](`parseFloat(document.getElementById('tl-map-view').style.width)`))
	if err != nil || math.Abs(mapView-100*180.0/dur) > 0.01 {
		t.Errorf("the map's view is %v%% wide, want %.3f%% (%v)", mapView, 100*180.0/dur, err)
	}
	// A press on the map at three quarters centres the view there (72 min).
	box, err := chromedp.Run(s.tab, chromedp.Evaluate[map[string]float64](`(() => { const r = document.getElementById('replay-minimap').getBoundingClientRect(); return {x: r.left, y: r.top, w: r.width, h: r.height}; })()`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(s.tab, chromedp.MouseClickXY(box["x"]+box["w"]*0.75, box["y"]+box["h"]/2)); err != nil {
		t.Fatal(err)
	}
	s.text(t, "#tl-view", func(v string) bool { return strings.HasPrefix(v, "1:10:") && strings.HasSuffix(v, " of 1:36:00") }, "view after the map press")
	s.screenshot(t, "screenshot-replay-90min-in.png")
	click("tl-zoom-fit")
	s.text(t, "#tl-view", func(v string) bool { return v == "whole call · 1:36:00" }, "whole call again")

	// A link to a moment.
	if err := chromedp.Do(s.tab, chromedp.Navigate(s.base+"/replay/long96?t=3000")); err != nil {
		t.Fatal(err)
	}
	s.text(t, "#replay-time", func(v string) bool { return v == "3000.0" }, "replay opened at ?t=3000")

	// A comment on this moment is kept with the call and links back to it.
	s.text(t, "#comment-at", func(v string) bool { return v == "50:00" }, "the comment's moment")
	if err := chromedp.Do(s.tab,
		chromedp.SendKeys(chromedp.ID("comment-text"), "Here the customer opens up: let her finish."),
		chromedp.Click(chromedp.ID("comment-add")),
	); err != nil {
		t.Fatal(err)
	}
	s.text(t, "#comments-list .comment", func(v string) bool { return strings.HasPrefix(v, "50:00 Here the customer opens up") }, "the comment listed")
	href, err := chromedp.Run(s.tab, chromedp.Evaluate[string](`document.querySelector('#comments-list .c-link').getAttribute('href')`))
	if err != nil || href != "/replay/long96?t=3000" {
		t.Errorf("the comment links to %q (%v), want /replay/long96?t=3000", href, err)
	}
	stored, err := s.st.Get(context.Background(), "long96")
	if err != nil || len(stored.Comments) != 1 || stored.Comments[0].AtS != 3000 || stored.Comments[0].Text != "Here the customer opens up: let her finish." {
		t.Fatalf("stored comments %+v (%v), want the one at 3000 s", stored.Comments, err)
	}
	// It is there when the call is opened again.
	if err := chromedp.Do(s.tab, chromedp.Navigate(s.base+"/replay/long96")); err != nil {
		t.Fatal(err)
	}
	s.text(t, "#comments-count", func(v string) bool { return v == "1" }, "comments after reopening")
	s.screenshot(t, "screenshot-replay-comment.png")
}

// The reps page flags calls by the one monologue threshold (the nudge's,
// a minute by default), and a phone-wide call page keeps the gauge to a
// part of the screen (issue 11, points 4 and 5).
func TestBrowserRepsAndNarrow(t *testing.T) {
	s := newTruthService(t, 1280, 900)
	rnd := rand.New(rand.NewPCG(4, 5))
	over := 0
	for i := range 12 {
		rep := []string{"Dana", "Lee", "Sam"}[i%3]
		repMean, custMean := []float64{45, 4, 10}[i%3], []float64{8, 24, 14}[i%3]
		dur := 300 + 30*float64(i)
		r := analyzedRecord("r"+strconv.Itoa(i), "Call "+strconv.Itoa(i), rep, "Customer "+strconv.Itoa(i), call.StateEnded, day.Add(time.Duration(i)*24*time.Hour), dur, synthCall(rnd, dur, repMean, custMean))
		s.put(t, r)
		if rep == "Dana" && r.LongestRepMonologue.Dur >= 60 {
			over++
		}
	}
	if err := chromedp.Do(s.tab, chromedp.Navigate(s.base+"/reps")); err != nil {
		t.Fatal(err)
	}
	s.text(t, "#reps-table tbody", func(v string) bool { return strings.Contains(v, "Dana") && strings.Contains(v, "Sam") }, "reps table")
	s.screenshot(t, "screenshot-reps.png")
	if err := chromedp.Do(s.tab, chromedp.Navigate(s.base+"/reps/Dana")); err != nil {
		t.Fatal(err)
	}
	want := strconv.Itoa(over) + " calls with a monologue of 1:00 or more"
	if over == 1 {
		want = "1 call with a monologue of 1:00 or more"
	}
	s.text(t, "#kpi-mono .kpi-sub", func(v string) bool { return v == want }, "Dana's monologue flag (want "+want+")")

	// 480 px wide: the gauge takes part of the screen, not all of it, and
	// the names are whole.
	if err := chromedp.Do(s.tab, chromedp.EmulateViewport(480, 860), chromedp.Navigate(s.base+"/calls/r0")); err != nil {
		t.Fatal(err)
	}
	s.text(t, "#call-clock", func(v string) bool { return v == "5:00" }, "narrow call page")
	got, err := chromedp.Run(s.tab, chromedp.Evaluate[map[string]float64](`(() => {
  const g = document.querySelector('[data-ref=gaugeCard]') || document.getElementById('listen-pct').closest('.card');
  const r = g.getBoundingClientRect();
  const cut = [...document.querySelectorAll('.role-name, [data-ref=roleRepName], [data-ref=roleCustName], #call-name')].filter((e) => e.scrollWidth > e.clientWidth + 1).length;
  return {gaugeH: r.height, gaugeW: r.width, vh: innerHeight, vw: innerWidth, cut, sw: document.documentElement.scrollWidth};
})()`))
	if err != nil {
		t.Fatal(err)
	}
	if got["gaugeH"] > 0.5*got["vh"] || got["gaugeW"] > got["vw"] {
		t.Errorf("at 480 px the gauge card is %.0fx%.0f of a %.0fx%.0f screen: it fills the screen", got["gaugeW"], got["gaugeH"], got["vw"], got["vh"])
	}
	t.Logf("at 480 px: gauge card %.0fx%.0f on a %.0fx%.0f screen (%.0f%% of its height); page %.0f px wide", got["gaugeW"], got["gaugeH"], got["vw"], got["vh"], 100*got["gaugeH"]/got["vh"], got["sw"])
	if got["sw"] > got["vw"] {
		t.Errorf("at 480 px the page is %.0f px wide: it scrolls sideways", got["sw"])
	}
	if got["cut"] > 0 {
		t.Errorf("%v names are cut short at 480 px", got["cut"])
	}
}
