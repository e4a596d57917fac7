package flac

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// flacChromiumNames are the browser binaries looked for, in order (as in
// cmd/talkratio's browser tests).
var flacChromiumNames = []string{
	"chromium", "chromium-browser", "google-chrome", "google-chrome-stable",
	"headless_shell", "headless-shell", "chrome",
}

// needChromium skips under -short or without a Chromium binary (failing
// instead when CI=true, where .ci/run installs one) and returns the binary.
func needChromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test: skipped in -short mode")
	}
	for _, n := range flacChromiumNames {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	msg := "no Chromium/Chrome binary found (looked for " + strings.Join(flacChromiumNames, ", ") + "); install one, e.g. apt-get install -y chromium"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// TestFLACChromiumSeek plays what the writer stores the way the replay page
// will: an <audio> element in headless Chromium, the file served with
// http.ServeContent (so with Range support) over loopback. Chromium must
// read the duration from the metadata, seek to 70% with a Range request
// far into the file (the seek table at work) rather than reading up to
// it, land exactly there, play on from there, and decode every sample
// bit for bit (Web Audio's decoder, checked at a spread of positions).
//
// The file is a minute of 16 kHz stereo speech-like audio, 2.6 MB. With
// preload="metadata" Chromium stops reading once it has the metadata, so
// the seek has to ask for the bytes it needs.
func TestFLACChromiumSeek(t *testing.T) {
	chrome := needChromium(t)

	const secs = 60
	rate := 16000
	p := flacSignals["speech"](rand.New(rand.NewPCG(41, 42)), 2, rate*secs)
	file := encodeFLAC(t, p, rate, rate, 2*time.Minute)
	meta := parseFLACMeta(t, file)

	var mu sync.Mutex
	var starts []int64 // first byte of every request for the audio
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>flac</title><audio id="a" preload="metadata" src="/call.flac"></audio>`)
	})
	mux.HandleFunc("/call.flac", func(w http.ResponseWriter, r *http.Request) {
		start := int64(0)
		if rg := r.Header.Get("Range"); strings.HasPrefix(rg, "bytes=") {
			if n, err := strconv.ParseInt(strings.SplitN(strings.TrimPrefix(rg, "bytes="), "-", 2)[0], 10, 64); err == nil {
				start = n
			}
		}
		mu.Lock()
		starts = append(starts, start)
		mu.Unlock()
		w.Header().Set("Content-Type", "audio/flac")
		http.ServeContent(w, r, "call.flac", time.Time{}, bytes.NewReader(file))
	})
	srv := httptest.NewServer(mux) // loopback
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-component-update", true),
		// play() without a user gesture.
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	tab, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()
	if err := chromedp.Do(tab, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatalf("start %s: %v", chrome, err)
	}

	// 1. Metadata: the duration comes from STREAMINFO.
	dur, err := chromedp.Run(tab, chromedp.Evaluate[float64](`new Promise((ok, fail) => {
		const a = document.getElementById('a');
		const done = () => ok(a.duration);
		if (a.readyState >= 1) return done();
		a.addEventListener('loadedmetadata', done, {once: true});
		a.addEventListener('error', () => fail('media error ' + (a.error && a.error.code) + ': ' + (a.error && a.error.message)), {once: true});
	})`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("waiting for metadata: %v", err)
	}
	want := float64(meta.total) / float64(rate)
	if math.Abs(dur-want) > 0.001 {
		t.Errorf("duration %.4f s, want %.4f", dur, want)
	}
	mu.Lock()
	before := len(starts)
	mu.Unlock()

	// 2. Seek to 70% while paused; Chromium fires 'seeked' once it has
	// decoded audio there.
	target := 0.7 * dur
	landed, err := chromedp.Run(tab, chromedp.Evaluate[float64](fmt.Sprintf(`new Promise((ok, fail) => {
		const a = document.getElementById('a');
		a.addEventListener('seeked', () => ok(a.currentTime), {once: true});
		a.addEventListener('error', () => fail('media error ' + (a.error && a.error.code)), {once: true});
		a.currentTime = %f;
	})`, target), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("seeking: %v", err)
	}
	if math.Abs(landed-target) > 0.001 {
		t.Errorf("seek to %.3f s landed at %.3f s", target, landed)
	}

	// 3. Play on from there for half a second of media time.
	played, err := chromedp.Run(tab, chromedp.Evaluate[float64](fmt.Sprintf(`(async () => {
		const a = document.getElementById('a');
		await a.play();
		const t0 = performance.now();
		while (a.currentTime < %f + 0.5) {
			if (performance.now() - t0 > 20000) throw new Error('stuck at ' + a.currentTime);
			await new Promise(r => setTimeout(r, 50));
		}
		a.pause();
		return a.currentTime;
	})()`, target), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("playing after the seek: %v", err)
	}

	// The seek must have fetched from the seek point at or before the
	// target, not read up to it: a request starting at most 256 KiB before
	// that point (Chromium asks for whole blocks of its cache).
	mu.Lock()
	got := append([]int64(nil), starts...)
	mu.Unlock()
	var point flacSeekPoint
	for _, sp := range meta.points {
		if float64(sp.sample) <= target*float64(rate) {
			point = sp
		}
	}
	pointByte := meta.firstFrame + int64(point.offset)
	var near []int64
	for _, s := range got[before:] {
		if s > pointByte-256<<10 && s <= pointByte {
			near = append(near, s)
		}
	}
	t.Logf("%.1f MB file, %.3f s long; requests started at bytes %v (%d before the seek); seek to %.3f s (seek point %.3f s at byte %d) landed at %.3f s, played to %.3f s",
		float64(len(file))/1e6, dur, got, before, target, float64(point.sample)/float64(rate), pointByte, landed, played)
	if len(near) == 0 || pointByte < int64(len(file))/2 {
		t.Errorf("no Range request starting just before byte %d, the seek point for %.3f s; requests started at %v", pointByte, target, got)
	}

	// 4. Chromium's decoder gives back exactly what was written.
	idx := []int{0, 1, 2047, 2048, 2049, rate * 30, int(target * float64(rate)), len(p[0]) - 1}
	idxJS := strings.Trim(strings.Join(strings.Fields(fmt.Sprint(idx)), ","), "[]")
	samples, err := chromedp.Run(tab, chromedp.Evaluate[[][]float64](fmt.Sprintf(`(async () => {
		const buf = await (await fetch('/call.flac')).arrayBuffer();
		const ctx = new OfflineAudioContext(2, 1, %d);
		const audio = await ctx.decodeAudioData(buf);
		if (audio.length !== %d || audio.numberOfChannels !== 2) throw new Error('decoded ' + audio.length + ' samples x ' + audio.numberOfChannels);
		return [0, 1].map(c => { const d = audio.getChannelData(c); return [%s].map(i => d[i]); });
	})()`, rate, len(p[0]), idxJS), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("decodeAudioData: %v", err)
	}
	// Chromium turns 16-bit samples into floats asymmetrically, dividing
	// positive ones by 32767 and negative ones by 32768 (media::AudioBus),
	// so each is scaled back by its own factor.
	for c := range 2 {
		for k, i := range idx {
			want := float64(p[c][i])
			scale := 32768.0
			if want > 0 {
				scale = 32767
			}
			if got := samples[c][k] * scale; math.Abs(got-want) > 1e-3 {
				t.Errorf("Chromium decodes channel %d sample %d as %v (x %v = %v), want %v", c, i, samples[c][k], scale, got, want)
			}
		}
	}
}
