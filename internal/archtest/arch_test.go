package archtest

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Size limits, in lines of non-test Go (vendored code under third_party/
// and testdata aside).
const (
	maxFileLines    = 400
	maxPackageLines = 2000
)

// oversize are the files and packages allowed over the limits for now, and
// why. Each must still be over its limit: one that is back under fails the
// test until its line here goes.
var oversize = map[string]string{}

// root is the module's directory.
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s: %v", dir, err)
	}
	return dir
}

// goList runs go list in the module and returns its output's lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = root(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.Fields(string(out))
}

// deps is every package pkg builds on (go list -deps), itself included.
func deps(t *testing.T, pkg string) []string { return goList(t, "-deps", pkg) }

// nonStandard is what of pkg's dependencies is not in the standard
// library.
func nonStandard(t *testing.T, pkg string) []string {
	return goList(t, "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg)
}

func matching(pkgs []string, match func(string) bool) []string {
	var out []string
	for _, p := range pkgs {
		if match(p) {
			out = append(out, p)
		}
	}
	return out
}

func isPion(p string) bool { return strings.HasPrefix(p, "github.com/pion/") }

// The domain knows no transport: call builds on neither net/http nor any
// pion package (nor, through package audio, on the Opus decoder).
func TestCallIsTheDomain(t *testing.T) {
	bad := matching(deps(t, "talkratio/call"), func(p string) bool {
		return p == "net/http" || strings.HasPrefix(p, "net/http/") || isPion(p)
	})
	if len(bad) > 0 {
		t.Errorf("talkratio/call builds on %v", bad)
	}
}

// WebRTC stays in two packages: only whip (the ingest) and whipclient (the
// publisher) import pion/webrtc.
func TestOnlyWHIPImportsWebRTC(t *testing.T) {
	lines := goList(t, "-f", "{{.ImportPath}}:{{join .Imports \",\"}}", "./...")
	allowed := []string{"talkratio/whip", "talkratio/whipclient"}
	seen := 0
	for _, l := range lines {
		pkg, imports, _ := strings.Cut(l, ":")
		for _, imp := range strings.Split(imports, ",") {
			if imp == "github.com/pion/webrtc/v4" || strings.HasPrefix(imp, "github.com/pion/webrtc/") {
				seen++
				if !slices.Contains(allowed, pkg) {
					t.Errorf("%s imports %s: only %v may", pkg, imp, allowed)
				}
			}
		}
	}
	if seen == 0 {
		t.Error("no package imports pion/webrtc: the check looks at nothing")
	}
}

// icelite is transport alone: it builds on no talkratio package, so that
// calls, roles and SDP answers stay whip's, and it never imports
// pion/webrtc, whose PeerConnection it replaces.
func TestICELiteIsTransportOnly(t *testing.T) {
	imports := goList(t, "-f", "{{join .Imports \" \"}}", "./icelite")
	if len(imports) == 0 {
		t.Fatal("go list gave icelite no imports: the check looks at nothing")
	}
	for _, imp := range imports {
		if strings.HasPrefix(imp, "talkratio/") || strings.HasPrefix(imp, "github.com/pion/webrtc/") {
			t.Errorf("icelite imports %s", imp)
		}
	}
}

// audio and vad stand alone: neither imports the other, and neither builds
// on anything outside the standard library, but for audio's Opus decoder
// and vad's tally (and its own internal dsp). tally builds on the standard
// library alone; audio/flac on audio alone (and its own internal encoder).
func TestAudioAndVADStandAlone(t *testing.T) {
	isOpus := func(p string) bool {
		return p == "github.com/pion/opus" || strings.HasPrefix(p, "github.com/pion/opus/")
	}
	for _, c := range []struct {
		pkg, other string
		allowed    func(string) bool
	}{
		{"talkratio/vad", "talkratio/audio", func(p string) bool {
			return p == "talkratio/vad" || p == "talkratio/vad/internal/dsp" || p == "talkratio/tally"
		}},
		{"talkratio/tally", "talkratio/audio", func(p string) bool { return p == "talkratio/tally" }},
		{"talkratio/audio", "talkratio/vad", func(p string) bool { return p == "talkratio/audio" || isOpus(p) }},
		{"talkratio/audio/flac", "talkratio/vad", func(p string) bool {
			return p == "talkratio/audio/flac" || strings.HasPrefix(p, "talkratio/audio/flac/") || p == "talkratio/audio" || isOpus(p)
		}},
	} {
		all := nonStandard(t, c.pkg)
		if slices.Contains(all, c.other) {
			t.Errorf("%s builds on %s", c.pkg, c.other)
		}
		if bad := matching(all, func(p string) bool { return !c.allowed(p) }); len(bad) > 0 {
			t.Errorf("%s builds on %v, outside the standard library", c.pkg, bad)
		}
	}
}

// The load tool is a client: it builds on whipclient, not on the server.
func TestLoadToolIsAClient(t *testing.T) {
	all := deps(t, "talkratio/cmd/talkratio-load")
	if slices.Contains(all, "talkratio/server") {
		t.Error("cmd/talkratio-load builds on talkratio/server")
	}
	if !slices.Contains(all, "talkratio/whipclient") {
		t.Error("cmd/talkratio-load does not use whipclient: the check looks at the wrong thing")
	}
}

// No file over maxFileLines and no package over maxPackageLines of
// non-test Go, third_party/ and testdata aside.
func TestSizes(t *testing.T) {
	dir := root(t)
	files := map[string]int{}
	packages := map[string]int{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "third_party" || d.Name() == "testdata" || (strings.HasPrefix(d.Name(), ".") && rel != ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		n, err := countLines(p)
		if err != nil {
			return err
		}
		files[rel] = n
		packages[filepath.ToSlash(filepath.Dir(rel))] += n
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, n, limit int) {
		why, excused := oversize[name]
		switch {
		case n > limit && !excused:
			t.Errorf("%s: %d lines, over the limit of %d", name, n, limit)
		case n > limit:
			t.Logf("%s: %d lines, over the limit of %d for now: %s", name, n, limit, why)
		case excused:
			t.Errorf("%s: %d lines, within the limit of %d: remove it from oversize", name, n, limit)
		}
	}
	for f, n := range files {
		check(f, n, maxFileLines)
	}
	for p, n := range packages {
		check(p, n, maxPackageLines)
	}
	for name := range oversize {
		if _, ok := files[name]; !ok {
			if _, ok := packages[name]; !ok {
				t.Errorf("oversize names %s, which is not there: remove it", name)
			}
		}
	}
}

func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		n++
	}
	return n, sc.Err()
}
