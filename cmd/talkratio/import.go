package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

const importUsage = `Usage:
  talkratio import [flags] DIR|FILE...

Uploads recorded calls (stereo WAVs, rep left unless -rep-channel right) to a
running service through its API (POST /api/calls), one after the other,
showing progress on stderr. A DIR is searched for *.wav files, its
subdirectories included. Each call is named after its file.

Every file uploaded is noted in a state file (-state), so that running the
same command again after an interruption uploads only what is left. On
stdout: one line per file, "FILE<TAB>CALL-ID" (or "FILE<TAB>skipped: ...").
Exit status: 0 when every file is in, 1 when any failed, 2 for a usage error.

A service with tokens needs one that may publish (TALKRATIO_TOKEN or
-token-file); an admin token, or any caller on the service's own machine when
it runs open, is not held to the per-client upload rate.

Flags:
`

// importRetries is how often a refused upload (429 or 503: rate limit,
// draining) is tried again, waiting as the service asks.
const (
	importRetries  = 20
	importMaxWait  = time.Minute
	importProgress = 250 * time.Millisecond
)

type uploader struct {
	url, token        string
	repChannel        string
	rep, customer     string
	client            *http.Client
	progress          *importProgressLine
	stdout            io.Writer
	sleep             func(context.Context, time.Duration) error
	uploaded, skipped int
}

func runImport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	im := &uploader{client: &http.Client{}, stdout: stdout, sleep: sleepCtx}
	fs.StringVar(&im.url, "url", envOr("TALKRATIO_URL", "http://localhost:8080"), "the service's base URL (or set TALKRATIO_URL)")
	tokenFile := fs.String("token-file", "", "file holding a token that may publish (or set TALKRATIO_TOKEN)")
	fs.StringVar(&im.repChannel, "rep-channel", "left", "the rep's channel in every file: left or right")
	fs.StringVar(&im.rep, "rep", "", "the rep of every call imported")
	fs.StringVar(&im.customer, "customer", "", "the customer of every call imported")
	state := fs.String("state", "", "file remembering what was uploaded (default: one per service URL in the user's cache directory)")
	fs.Usage = func() {
		fmt.Fprint(stderr, importUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "talkratio import: give a directory or files to import")
		return exitUsage
	}
	if im.repChannel != "left" && im.repChannel != "right" {
		fmt.Fprintf(stderr, "talkratio import: -rep-channel %q: want left or right\n", im.repChannel)
		return exitUsage
	}
	im.url = strings.TrimRight(im.url, "/")
	im.token = strings.TrimSpace(os.Getenv("TALKRATIO_TOKEN"))
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			fmt.Fprintf(stderr, "talkratio import: %v\n", err)
			return exitUsage
		}
		im.token = strings.TrimSpace(string(b))
	}
	files, err := importFiles(fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "talkratio import: %v\n", err)
		return exitUsage
	}
	if *state == "" {
		if *state, err = defaultImportState(im.url); err != nil {
			fmt.Fprintf(stderr, "talkratio import: %v (give -state FILE)\n", err)
			return exitUsage
		}
	}
	done, err := loadImportState(*state)
	if err != nil {
		fmt.Fprintf(stderr, "talkratio import: %v\n", err)
		return exitFail
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	im.progress = newImportProgressLine(stderr)
	failed := 0
	for i, f := range files {
		key, err := importKey(f)
		if err == nil && done[key] != "" {
			im.skipped++
			im.result(f, "skipped: imported before as "+done[key])
			continue
		}
		var id string
		if err == nil {
			id, err = im.upload(ctx, f, fmt.Sprintf("[%d/%d]", i+1, len(files)))
		}
		if err == nil {
			err = appendImportState(*state, key, id, f)
		}
		if err != nil {
			failed++
			im.progress.clear()
			fmt.Fprintf(stderr, "talkratio import: %s: %v\n", f, err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		im.uploaded++
		im.result(f, id)
	}
	im.progress.clear()
	fmt.Fprintf(stderr, "talkratio import: %d uploaded, %d imported before, %d failed (of %d)\n", im.uploaded, im.skipped, failed, len(files))
	if failed > 0 {
		return exitFail
	}
	return exitOK
}

func (im *uploader) result(file, what string) {
	im.progress.clear()
	fmt.Fprintf(im.stdout, "%s\t%s\n", file, what)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// upload sends one file, trying again while the service asks to wait, and
// returns the call's id.
func (im *uploader) upload(ctx context.Context, path, label string) (string, error) {
	for attempt := 0; ; attempt++ {
		id, wait, err := im.try(ctx, path, label)
		if wait == 0 || attempt == importRetries {
			return id, err
		}
		im.progress.show(fmt.Sprintf("%s %s: %v; again in %s", label, filepath.Base(path), err, wait))
		if err := im.sleep(ctx, wait); err != nil {
			return "", err
		}
	}
}

// try makes one upload. wait > 0 means the service asked to try again
// after that long.
func (im *uploader) try(ctx context.Context, path, label string) (id string, wait time.Duration, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", 0, err
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	// The body is written as it is sent, never held in memory; the writer
	// is waited for, so that it never outlives the file it reads.
	written := make(chan struct{})
	defer func() { <-written }()
	go func() {
		defer close(written)
		fields := [][2]string{{"name", name}, {"rep_channel", im.repChannel}, {"rep", im.rep}, {"customer", im.customer}}
		for _, kv := range fields {
			if kv[1] != "" {
				if err := mw.WriteField(kv[0], kv[1]); err != nil {
					pw.CloseWithError(err)
					return
				}
			}
		}
		part, err := mw.CreateFormFile("audio", filepath.Base(path))
		if err == nil {
			_, err = io.Copy(part, &countingReader{r: f, total: st.Size(), show: func(done, total int64) {
				im.progress.show(fmt.Sprintf("%s %s: %d%% of %.1f MB", label, filepath.Base(path), 100*done/max(total, 1), float64(total)/1e6))
			}})
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, im.url+"/api/calls", pr)
	if err != nil {
		pr.Close()
		return "", 0, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if im.token != "" {
		req.Header.Set("Authorization", "Bearer "+im.token)
	}
	resp, err := im.client.Do(req)
	pr.Close()
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var ans struct {
		ID    string `json:"id"`
		Error string `json:"error"`
	}
	json.Unmarshal(body, &ans)
	switch {
	case resp.StatusCode == http.StatusAccepted && ans.ID != "":
		return ans.ID, 0, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		wait = time.Second
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			wait = min(time.Duration(s)*time.Second, importMaxWait)
		}
	}
	msg := ans.Error
	if msg == "" {
		msg = strings.TrimSpace(string(body))
	}
	return "", wait, fmt.Errorf("%s: %s", resp.Status, msg)
}

// countingReader reports how much of a file was read, at most every
// importProgress.
type countingReader struct {
	r           io.Reader
	done, total int64
	last        time.Time
	show        func(done, total int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.done += int64(n)
	if now := time.Now(); now.Sub(c.last) >= importProgress || err == io.EOF {
		c.last = now
		c.show(c.done, c.total)
	}
	return n, err
}

// importProgressLine is one line on stderr rewritten in place when stderr
// is a terminal, and nothing otherwise (the per-file lines on stdout say
// enough in a log). It is cleared before anything else is written, so
// that it never garbles other output on the same terminal.
type importProgressLine struct {
	mu    sync.Mutex // the body's writer shows progress too
	w     io.Writer
	on    bool
	shown bool
}

func newImportProgressLine(w io.Writer) *importProgressLine {
	p := &importProgressLine{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	return p
}

func (p *importProgressLine) show(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.on {
		fmt.Fprintf(p.w, "\r\033[K%s", s)
		p.shown = true
	}
}

func (p *importProgressLine) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}
