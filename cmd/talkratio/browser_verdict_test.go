package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"talkratio/call"
	"talkratio/inmem"
	"talkratio/server"
	"talkratio/tally"
	"talkratio/web"
)

// verdictRecord builds an ended call for the pages: after a second of
// quiet the customer talks cust seconds, then, after missing seconds of
// audio that never arrived (a live call's), the rep talks rep seconds.
func verdictRecord(id, rep string, cust, repTalk, missing float64) *call.Record {
	cfg := tally.DefaultConfig()
	tl := tally.New(cfg)
	if missing > 0 {
		tl.AddMissing(tally.Segment{Start: 1 + cust, End: 1 + cust + missing})
	}
	if cust > 0 {
		tl.Add(tally.Customer, tally.Segment{Start: 1, End: 1 + cust})
	}
	if repTalk > 0 {
		tl.Add(tally.Rep, tally.Segment{Start: 1 + cust + missing, End: 1 + cust + missing + repTalk})
	}
	dur := 2 + cust + missing + repTalk
	tl.Settle(dur)
	segs := tally.Segments{Rep: append([]tally.Segment{}, tl.Segments(tally.Rep)...), Customer: append([]tally.Segment{}, tl.Segments(tally.Customer)...), Missing: tl.Missing()}
	res := tally.Result{Metrics: tl.Report(dur), Segments: segs}
	meter := tally.MeterSeries(segs, dur, 1, cfg)
	src := "upload"
	if missing > 0 {
		src = "live"
	}
	return &call.Record{ID: id, Name: id, Rep: rep, Customer: "Acme", Source: src, State: "ended",
		StartedAt: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), DurationS: dur, Result: &res, Meter: &meter}
}

// TestBrowserOneVerdict checks the verdict on every page in a real
// (headless) Chromium: a call whose customer talked 79.91% of the talk time
// reads 79.9% and is below the 80% target on the library list, the reps
// page, the replay (verdict, final numbers, meter at the end) and the call
// page (meter and its ended banner); a call with no speech shows no figure
// and is never on target; a live call with missing audio shows it apart in
// the replay.
func TestBrowserOneVerdict(t *testing.T) {
	chrome := needChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	diag := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("diagnostics:\n%s", diag.String())
		}
	})
	st := inmem.NewStore()
	for _, rec := range []*call.Record{
		verdictRecord("close", "Dana", 79.91, 20.09, 0),
		verdictRecord("silent", "Dana", 0, 0, 0),
		verdictRecord("gappy", "Lee", 10, 5, 2),
	} {
		if err := st.Put(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := server.New(server.Config{Store: st, Static: web.FS(), Logger: slog.New(slog.NewTextHandler(diag, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, browserOptions(t, chrome, diag)...)
	defer cancelAlloc()
	tab, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start %s: %v", chrome, err)
	}
	go collectConsole(tab, diag, "page")

	// wait navigates to path and polls js (an expression that is false
	// until the page is ready, then a string) for up to 15 s.
	wait := func(path, js string) string {
		t.Helper()
		if err := chromedp.Do(tab, chromedp.Navigate(ts.URL+path)); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		s, err := chromedp.Run(tab, chromedp.Poll[string](js, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second)))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return s
	}
	row := func(id string) string {
		return fmt.Sprintf(`(() => { const tr = document.querySelector('#calls-table tr[data-id=%q]'); if (!tr) return false;
  const v = tr.querySelector('.td-listen .v').textContent.trim(); if (!v) return false;
  return v + '|' + tr.querySelector('.td-listen').className + '|' + (tr.querySelector('.td-flags') || tr).textContent; })()`, id)
	}

	// The library.
	got := wait("/", row("close"))
	if parts := strings.SplitN(got, "|", 3); parts[0] != "79.9" || strings.Contains(parts[1], "tone-good") || !strings.Contains(parts[2], "below target") {
		t.Errorf("library row of the 79.91%% call: %q, want 79.9, not good, below target", got)
	}
	got = wait("/", row("silent"))
	if parts := strings.SplitN(got, "|", 3); parts[0] != DASHText || strings.Contains(parts[2], "below target") || strings.Contains(parts[2], "On target") {
		t.Errorf("library row of the call with no speech: %q, want no figure and no verdict", got)
	}

	// The reps page: Dana's mean is her one scored call's figure.
	got = wait("/reps", `(() => { const tr = document.querySelector('#reps-body tr[data-rep="Dana"]'); if (!tr) return false;
  return tr.querySelector('.tb-v').textContent.trim() + '|' + tr.querySelector('.team-bar').className; })()`)
	if parts := strings.SplitN(got, "|", 2); parts[0] != "79.9%" || strings.Contains(parts[1], "tone-good") {
		t.Errorf("reps row: %q, want 79.9%% and not good", got)
	}

	// The replay: verdict, final numbers (the rep's and the team's
	// averages beside the call's), and the meter at the end.
	finalListen := regexp.MustCompile(`Rep listenedof the talk time · target ≥ 80%(Dana's average 79\.9% · team [0-9.]+%)?79\.9%`)
	got = wait("/replay/close", `(() => { const v = document.getElementById('replay-verdict'); if (!v || !v.textContent.trim()) return false;
  return v.dataset.zone + '|' + v.textContent.replace(/\s+/g, ' ') + '|' + document.getElementById('final-grid').textContent.replace(/\s+/g, ' '); })()`)
	if parts := strings.SplitN(got, "|", 3); parts[0] == "good" || !strings.Contains(parts[1], "Below target: the rep listened 79.9%") || !strings.Contains(parts[1], "79.9%listened") || !finalListen.MatchString(parts[2]) {
		t.Errorf("replay verdict and final numbers: %q", got)
	}
	if err := chromedp.Do(tab, chromedp.KeyEvent(kb.End)); err != nil {
		t.Fatal(err)
	}
	if got, err := chromedp.Run(tab, pollText("replay-listen-pct", 5*time.Second, "79.9")); err != nil {
		r := readReplayMeter(t, tab)
		t.Errorf("replay meter at the end: %q, %v; want 79.9 (page: %+v)", got, err, r)
	}
	got = wait("/replay/silent", `(() => { const v = document.getElementById('replay-verdict'); if (!v || !v.textContent.trim()) return false; return v.dataset.zone + '|' + v.textContent.replace(/\s+/g, ' '); })()`)
	if !strings.HasPrefix(got, "none|") || !strings.Contains(got, "No speech found") || strings.Contains(got, "On target") {
		t.Errorf("replay of the call with no speech: %q", got)
	}

	// The call page of the ended call: the meter and its banner.
	got = wait("/calls/close", `(() => { if (document.getElementById('call-state').textContent !== 'ended') return false;
  return document.getElementById('listen-pct').textContent + '|' + document.querySelector('.gauge-card').dataset.zone + '|' + document.querySelector('.banner').textContent; })()`)
	if parts := strings.SplitN(got, "|", 3); parts[0] != "79.9" || parts[1] != "warn" || !strings.Contains(parts[2], "listened 79.9% (0.1 pp below the 80% target)") {
		t.Errorf("call page of the 79.91%% call: %q", got)
	}
	got = wait("/calls/silent", `(() => { if (document.getElementById('call-state').textContent !== 'ended') return false;
  return document.getElementById('listen-pct').textContent + '|' + document.querySelector('.banner').textContent; })()`)
	if parts := strings.SplitN(got, "|", 2); parts[0] != DASHText || !strings.Contains(parts[1], "nobody spoke") {
		t.Errorf("call page of the call with no speech: %q", got)
	}

	// Missing audio, apart: in the replay's numbers and legend, and on the
	// ended call page beside the mutual silence.
	got = wait("/replay/gappy", `(() => { const m = document.getElementById('replay-missing-audio-s'); if (!m) return false;
  return m.textContent + '|' + document.querySelector('.replay-legend').textContent; })()`)
	if parts := strings.SplitN(got, "|", 2); parts[0] != "2.0 s" || !strings.Contains(parts[1], "No audio") {
		t.Errorf("replay of a call with missing audio: %q, want 2.0 s and a legend entry", got)
	}
	shot, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err == nil {
		saveScreenshot(t, "replay-missing.png", shot)
	}
	got = wait("/calls/gappy", `(() => { if (document.getElementById('call-state').textContent !== 'ended') return false;
  const n = document.getElementById('missing-audio-s'); return n.textContent + '|' + n.closest('.missing-note').hidden + '|' + document.querySelector('.tl-legend').textContent; })()`)
	if parts := strings.SplitN(got, "|", 3); parts[0] != "2.0" || parts[1] != "false" || !strings.Contains(parts[2], "No audio") {
		t.Errorf("call page of a call with missing audio: %q", got)
	}
	if shot, err := chromedp.Run(tab, chromedp.FullScreenshot(100)); err == nil {
		saveScreenshot(t, "call-missing.png", shot)
	}
}

// DASHText is what the pages show for no figure (common.js DASH).
const DASHText = "\u2013"
