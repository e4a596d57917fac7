package main

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"talkratio/blobdir"
	"talkratio/blobfiles"
	"talkratio/call"
	"talkratio/inmem"
	"talkratio/server"
	"talkratio/web"
)

// TestBrowserUploadForm: on the library page, choosing several stereo WAVs
// uploads each as a call of its own, named after its file; with one file,
// the suggested name is replaced (not appended to) by what is typed.
func TestBrowserUploadForm(t *testing.T) {
	chrome := needChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	diag := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("diagnostics:\n%s", diag.String())
		}
	})
	log := slog.New(slog.NewTextHandler(diag, nil))
	bs, err := blobdir.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	files := blobfiles.New(bs)
	store := inmem.NewStore()
	srv, err := server.New(server.Config{Store: store, Audio: files, Staging: files, Static: web.FS(), Logger: log, UploadRate: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer dcancel()
		srv.Drain(dctx)
		srv.Close()
	})
	dir := t.TempDir()
	var wavs []string
	for _, n := range []string{"monday-call.wav", "tuesday-call.wav", "wednesday-call.wav"} {
		p := filepath.Join(dir, n)
		writeToneWAV(t, p)
		wavs = append(wavs, p)
	}
	names := func() []string {
		rows, _, err := store.List(context.Background(), call.ListQuery{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rows {
			out = append(out, r.Name)
		}
		slices.Sort(out)
		return out
	}

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, browserOptions(t, chrome, diag)...)
	defer cancelAlloc()
	tab, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start %s: %v", chrome, err)
	}
	go collectConsole(tab, diag, "page")

	// 1. Two stereo files at once: two calls.
	if err := chromedp.Do(tab,
		chromedp.Navigate(ts.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("upload-submit")),
		chromedp.SetUploadFiles(chromedp.ID("upload-audio"), wavs[:2]),
	); err != nil {
		t.Fatalf("library page: %v", err)
	}
	if err := chromedp.Do(tab, chromedp.Click(chromedp.ID("upload-submit"))); err != nil {
		t.Fatal(err)
	}
	if got, err := chromedp.Run(tab, pollText("upload-status", 60*time.Second, "done", "error")); err != nil || got != "done" {
		msg, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.getElementById('upload-error').textContent`))
		t.Fatalf("two files: #upload-status %q, %v, #upload-error %q", got, err, msg)
	}
	if got := names(); !slices.Equal(got, []string{"monday-call", "tuesday-call"}) {
		t.Errorf("two files stored as %v", got)
	}

	// 2. One file: its suggested name is selected when the field is
	// entered, so typing replaces it.
	if err := chromedp.Do(tab, chromedp.SetUploadFiles(chromedp.ID("upload-audio"), wavs[2:])); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(tab, chromedp.Poll[string](
		`(() => { const v = document.getElementById('upload-name').value; return v === 'wednesday-call' ? v : false; })()`,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		t.Fatalf("no suggested name: %v", err)
	}
	if err := chromedp.Do(tab,
		chromedp.Click(chromedp.ID("upload-name")),
		chromedp.SendKeys(chromedp.ID("upload-name"), "Acme renewal"),
	); err != nil {
		t.Fatal(err)
	}
	typed, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.getElementById('upload-name').value`))
	if err != nil || typed != "Acme renewal" {
		t.Fatalf("after typing over the suggestion the name reads %q (%v), want %q", typed, err, "Acme renewal")
	}
	if err := chromedp.Do(tab, chromedp.Click(chromedp.ID("upload-submit"))); err != nil {
		t.Fatal(err)
	}
	if got, err := chromedp.Run(tab, pollText("upload-status", 60*time.Second, "done", "error")); err != nil || got != "done" {
		t.Fatalf("one file: #upload-status %q, %v", got, err)
	}
	if got := names(); !slices.Equal(got, []string{"Acme renewal", "monday-call", "tuesday-call"}) {
		t.Errorf("stored %v", got)
	}
}
