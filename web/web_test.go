package web

import (
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"
)

// pageRoutes are the server routes that the pages link to, mapped to the file
// the server answers them with.
var pageRoutes = map[string]string{
	"/":        "index.html",
	"/capture": "capture.html",
}

func TestFSHasPages(t *testing.T) {
	fsys := FS()
	for _, name := range []string{"index.html", "call.html", "capture.html"} {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			t.Errorf("FS is missing %s at its root: %v", name, err)
			continue
		}
		if !strings.Contains(strings.ToLower(string(b)), "<!doctype html>") {
			t.Errorf("%s does not look like an HTML document", name)
		}
	}
}

var (
	attrRef   = regexp.MustCompile(`(?i)\s(?:src|href)\s*=\s*["']([^"']*)["']`)
	cssURLRef = regexp.MustCompile(`url\(\s*["']?([^"')]+)["']?\s*\)`)
	importRef = regexp.MustCompile(`(?m)(?:^|[;\s])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)`)
)

// isExternal reports whether ref points outside the embedded files.
func isExternal(ref string) bool {
	l := strings.ToLower(ref)
	for _, p := range []string{"http:", "https:", "data:", "mailto:", "javascript:", "blob:", "//", "#"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return ref == ""
}

// resolve maps a reference found in file `from` onto a path in the FS
// (absolute references are relative to the FS root, which the server mounts at "/").
func resolve(from, ref string) string {
	ref, _, _ = strings.Cut(ref, "#")
	ref, _, _ = strings.Cut(ref, "?")
	if strings.HasPrefix(ref, "/") {
		if f, ok := pageRoutes[ref]; ok {
			return f
		}
		if strings.HasPrefix(ref, "/calls/") {
			return "call.html"
		}
		return strings.TrimPrefix(path.Clean(ref), "/")
	}
	return path.Join(path.Dir(from), ref)
}

func TestLocalReferencesResolve(t *testing.T) {
	fsys := FS()
	htmlFiles, err := fs.Glob(fsys, "*.html")
	if err != nil || len(htmlFiles) == 0 {
		t.Fatalf("no HTML files in FS (err=%v)", err)
	}
	checked := 0
	check := func(from, ref string) {
		if isExternal(ref) {
			return
		}
		target := resolve(from, ref)
		st, err := fs.Stat(fsys, target)
		if err != nil {
			t.Errorf("%s references %q, which is not in the FS (looked for %q)", from, ref, target)
			return
		}
		if st.IsDir() {
			t.Errorf("%s references %q, which is a directory", from, ref)
		}
		checked++
	}
	for _, name := range htmlFiles {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range attrRef.FindAllStringSubmatch(string(b), -1) {
			ref := m[1]
			// Pages are also served at other paths (/calls/{id}, /capture),
			// where a relative reference would point elsewhere.
			if !isExternal(ref) && !strings.HasPrefix(ref, "/") {
				t.Errorf("%s: reference %q must be absolute (the page is served under other paths, e.g. /calls/{id})", name, ref)
			}
			check(name, ref)
		}
	}
	// ES module imports between the shared scripts must resolve too.
	jsFiles, _ := fs.Glob(fsys, "assets/*.js")
	for _, name := range jsFiles {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range importRef.FindAllStringSubmatch(string(b), -1) {
			ref := m[1] + m[2]
			check(name, ref)
		}
	}
	// url(...) in the stylesheets.
	cssFiles, _ := fs.Glob(fsys, "assets/*.css")
	for _, name := range cssFiles {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range cssURLRef.FindAllStringSubmatch(string(b), -1) {
			check(name, m[1])
		}
	}
	if checked == 0 {
		t.Fatal("found no local references at all; the pattern is broken")
	}
}

// The browser tests rely on these element ids; keep them stable.
func TestTestHooksPresent(t *testing.T) {
	fsys := FS()
	want := map[string][]string{
		"assets/meter.js": {`id="listen-pct"`, `id="recent-listen-pct"`, `id="call-state"`, `id="rep-talk-s"`, `id="customer-talk-s"`},
		"capture.html":    {`id="start"`, `id="stop"`, `id="source-mode"`, `<option value="stereo"`, `id="call-id"`, `id="publish-state"`},
	}
	for file, needles := range want {
		b, err := fs.ReadFile(fsys, file)
		if err != nil {
			t.Errorf("read %s: %v", file, err)
			continue
		}
		for _, n := range needles {
			if !strings.Contains(string(b), n) {
				t.Errorf("%s lacks %s", file, n)
			}
		}
	}
}
