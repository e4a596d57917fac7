package main

import (
	"os"
	"path"
	"regexp"
	"strings"
	"testing"
)

// dockerignore reads ../../.dockerignore as the patterns Docker applies:
// each is matched against a path and every directory above it, with *,
// ? and ** as Docker reads them.
func dockerignore(t *testing.T) []*regexp.Regexp {
	t.Helper()
	b, err := os.ReadFile("../../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	var out []*regexp.Regexp
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasPrefix(l, "!") {
			t.Fatalf(".dockerignore: exceptions (%q) are not understood by this test", l)
		}
		p := path.Clean(strings.TrimPrefix(l, "/"))
		re := regexp.QuoteMeta(p)
		re = strings.ReplaceAll(re, `\*\*/`, `(?:.*/)?`)
		re = strings.ReplaceAll(re, `\*\*`, `.*`)
		re = strings.ReplaceAll(re, `\*`, `[^/]*`)
		re = strings.ReplaceAll(re, `\?`, `[^/]`)
		out = append(out, regexp.MustCompile("^"+re+"$"))
	}
	return out
}

func ignored(pats []*regexp.Regexp, p string) bool {
	for q := p; q != "." && q != "/"; q = path.Dir(q) {
		for _, re := range pats {
			if re.MatchString(q) {
				return true
			}
		}
	}
	return false
}

// The image's build context leaves out the history and any data directory
// (customers' audio), and keeps what the build needs.
func TestDockerignore(t *testing.T) {
	pats := dockerignore(t)
	for _, tc := range []struct {
		path string
		out  bool
	}{
		{".git/HEAD", true},
		{".git", true},
		{"talkratio-data/blobs/audio/c1.flac", true},
		{"talkratio-data/talkratio.db", true},
		{"cmd/talkratio/talkratio-data/x", true},
		{"old.db", true},
		{"talkratio", true},
		{"server/server.test", true},
		{"go.mod", false},
		{"go.sum", false},
		{"cmd/talkratio/main.go", false},
		{"web/static/index.html", false},
		{"third_party/pion-opus/go.mod", false},
		{"audio/testdata/x.wav", false},
	} {
		if got := ignored(pats, tc.path); got != tc.out {
			t.Errorf("%s: left out %v, want %v", tc.path, got, tc.out)
		}
	}
}
