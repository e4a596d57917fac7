package main

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"talkratio/call"
	"talkratio/tally"
)

// fakeSocket stands in for the page's WebSocket: it opens at once and
// delivers window.__snap (a snapshot's JSON) ten times a second, as the
// service does for a live call, so that a test decides what is said.
const fakeSocket = `window.WebSocket = class {
  constructor(url) {
    this.url = url;
    setTimeout(() => this.onopen && this.onopen(), 0);
    this.timer = setInterval(() => { if (window.__snap && this.onmessage) this.onmessage({ data: window.__snap }); }, 100);
  }
  send() {}
  close() { clearInterval(this.timer); }
};`

// A live call's speaking pills (issue 11, point 5) say who is talking:
// the silent side's pill says Quiet and is not lit, never a dimmed
// "Speaking" or a guessed "Listening".
func TestBrowserSpeakingPills(t *testing.T) {
	s := newTruthService(t, 1280, 900)
	rnd := rand.New(rand.NewPCG(5, 5))
	rec := analyzedRecord("pills", "Acme renewal", "Dana", "Acme", call.StateLive, time.Now().Add(-90*time.Second), 90, synthCall(rnd, 90, 8, 6))
	s.put(t, rec)
	if _, err := chromedp.Call(s.tab, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: fakeSocket}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(s.tab, chromedp.Navigate(s.base+"/calls/pills")); err != nil {
		t.Fatal(err)
	}
	snap := call.Rules{}.WithDefaults().FinalSnapshot(rec)
	snap.Call.State = call.StateLive
	type pills struct{ Rep, Cust, RepOn, CustOn, Hint string }
	read := `(() => ({rep: document.getElementById('speaking-rep').textContent, cust: document.getElementById('speaking-customer').textContent,
  repOn: document.querySelector('[data-ref=roleRep]').dataset.speaking, custOn: document.querySelector('[data-ref=roleCust]').dataset.speaking,
  hint: document.querySelector('[data-ref=monoHint]').textContent}))()`
	for _, tc := range []struct {
		rep, cust bool
		want      pills
	}{
		{false, true, pills{"Quiet", "Speaking", "false", "true", "Rep is listening"}},
		{true, false, pills{"Speaking", "Quiet", "true", "false", "Rep is talking"}},
		{false, false, pills{"Quiet", "Quiet", "false", "false", "Nobody is talking"}},
	} {
		snap.Speaking = call.RoleFlags{Rep: tc.rep, Customer: tc.cust}
		snap.NowS += 0.1
		b, err := json.Marshal(snap)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Run(s.tab, chromedp.Evaluate[chromedp.Void](`window.__snap = `+strconv.Quote(string(b)))); err != nil {
			t.Fatal(err)
		}
		var got pills
		for i := 0; i < 100; i++ {
			if got, err = chromedp.Run(s.tab, chromedp.Evaluate[pills](read)); err != nil {
				t.Fatal(err)
			}
			if got == tc.want {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if got != tc.want {
			t.Errorf("rep speaking %v, customer speaking %v: pills %+v, want %+v", tc.rep, tc.cust, got, tc.want)
		}
	}
	s.text(t, "#call-state", func(v string) bool { return v == "live" }, "the call's state")
}

// One monologue threshold everywhere (issue 11, point 4): the replay's
// markers flag only the rep's runs of the nudge's length or more, even for
// a call analyzed when markers started at 30 s.
func TestBrowserReplayMarkersUseTheNudge(t *testing.T) {
	s := newTruthService(t, 1280, 900)
	// The rep talks 40 s, then 70 s; the customer answers in between.
	segs := tally.Segments{
		Rep:      []tally.Segment{{Start: 1, End: 41}, {Start: 60, End: 130}},
		Customer: []tally.Segment{{Start: 42, End: 59}, {Start: 131, End: 170}},
	}
	rec := analyzedRecord("runs", "Two runs", "Dana", "Acme", call.StateEnded, day, 180, segs)
	if n := len(rec.LongMonologues); n != 1 {
		t.Fatalf("the tally finds %d long monologues, want 1 (the 70 s run)", n)
	}
	// As an older analysis with a 30 s threshold stored it.
	rec.LongMonologues = append([]tally.Run{{Start: 1, End: 41, Dur: 40}}, rec.LongMonologues...)
	s.put(t, rec)
	if err := chromedp.Do(s.tab, chromedp.Navigate(s.base+"/replay/runs")); err != nil {
		t.Fatal(err)
	}
	s.text(t, "#replay-state", func(v string) bool { return v == "ready" || v == "paused" }, "replay state")
	marks, err := chromedp.Run(s.tab, chromedp.Evaluate[[]string](`[...document.querySelectorAll('.moment[data-kind=mono] .m-sub')].map((e) => e.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(marks) != 1 || !strings.Contains(marks[0], "1:10") {
		t.Errorf("monologue markers %q, want one, the 70 s run (1:10)", marks)
	}
}

// The login page's token field is styled as the other pages' fields
// (issue 11, point 5), not the browser's default white box.
func TestBrowserLoginFieldStyled(t *testing.T) {
	s := newTruthService(t, 1280, 900)
	if err := chromedp.Do(s.tab, chromedp.Navigate(s.base+"/login")); err != nil {
		t.Fatal(err)
	}
	s.text(t, "label[for=login-token]", func(v string) bool { return v == "Access token" }, "login page")
	// A text field made on the same page has the dashboard's field style.
	got, err := chromedp.Run(s.tab, chromedp.Evaluate[map[string]string](`(() => {
  const ref = document.createElement('input'); ref.type = 'text';
  document.getElementById('login-token').after(ref);
  const keys = ['backgroundColor', 'color', 'borderTopColor', 'borderTopLeftRadius', 'height', 'paddingLeft', 'fontSize'];
  const a = getComputedStyle(document.getElementById('login-token')), b = getComputedStyle(ref);
  const out = {};
  for (const k of keys) out[k] = a[k] + ' | ' + b[k];
  return out;
})()`))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range got {
		a, b, _ := strings.Cut(v, " | ")
		if a != b {
			t.Errorf("token field %s %q, the pages' fields %q", k, a, b)
		}
	}
	if bg := strings.Split(got["backgroundColor"], " | ")[0]; bg == "rgb(255, 255, 255)" || bg == "" {
		t.Errorf("token field background %q: the browser's default", bg)
	}
}
