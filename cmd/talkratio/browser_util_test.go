package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// chromiumNames are the browser binaries the browser tests look for, in
// order.
var chromiumNames = []string{
	"chromium", "chromium-browser", "google-chrome", "google-chrome-stable",
	"headless_shell", "headless-shell", "chrome",
}

func findChromium() string {
	for _, n := range chromiumNames {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// needChromium skips the test under -short or without a Chromium binary
// (failing instead when CI=true, where .ci/run installs one), and returns
// the binary.
func needChromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser end-to-end test: skipped in -short mode")
	}
	chrome := findChromium()
	if chrome == "" {
		msg := "no Chromium/Chrome binary found (looked for " + strings.Join(chromiumNames, ", ") + " in PATH); install one, e.g. apt-get install -y chromium"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return chrome
}

// browserOptions starts chrome headless and offline with a fresh profile
// and a fixed window, its output going to diag; extra adds flags. The
// defaults already have headless, no-first-run,
// disable-background-networking and disable-sync.
func browserOptions(t *testing.T, chrome string, diag io.Writer, extra ...chromedp.ExecAllocatorOption) []chromedp.ExecAllocatorOption {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(prefixWriter{diag, "chrome: "}),
	)
	return append(opts, extra...)
}

// saveScreenshot keeps a page's screenshot with the test's artifacts (go
// test -artifacts), or in docs/ with TALKRATIO_SCREENSHOTS=1, which is how
// the README's pictures are made.
func saveScreenshot(t *testing.T, name string, png []byte) {
	t.Helper()
	path := filepath.Join(t.ArtifactDir(), name)
	if os.Getenv("TALKRATIO_SCREENSHOTS") == "1" {
		path = filepath.Join("..", "..", "docs", name)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
