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
	"/reps":    "reps.html",
	"/wall":    "wall.html",
}

// pagePrefixes are the parameterized page routes: /calls/{id}, /reps/{rep},
// /replay/{id}.
var pagePrefixes = map[string]string{
	"/calls/":  "call.html",
	"/reps/":   "reps.html",
	"/replay/": "replay.html",
}

func TestFSHasPages(t *testing.T) {
	fsys := FS()
	for _, name := range []string{"index.html", "call.html", "capture.html", "reps.html", "replay.html", "wall.html"} {
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
		for prefix, f := range pagePrefixes {
			if strings.HasPrefix(ref, prefix) {
				return f
			}
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
			// Pages are also served at other paths (/calls/{id}, /replay/{id}, ...),
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
		// library + upload
		"index.html": {
			`id="upload-form"`, `id="upload-audio"`, `id="upload-rep-audio"`, `id="upload-customer-audio"`,
			`id="upload-rep-channel"`, `<option value="left"`, `<option value="right"`,
			`id="upload-name"`, `id="upload-rep"`, `id="upload-customer"`, `id="upload-submit"`,
			`id="upload-status"`, `id="upload-call-id"`, `id="calls-table"`,
		},
		"assets/upload.js":    {`'idle'`, `'uploading'`, `'analyzing'`, `'done'`, `'error'`, `XMLHttpRequest`},
		"assets/calltable.js": {`'data-id'`, `'data-state'`},
		// replay
		"replay.html": {
			`id="replay-timeline"`, `id="replay-listen-pct"`, `id="replay-time"`, `id="replay-state"`,
			`id="replay-rep-talk-s"`, `id="replay-customer-talk-s"`,
		},
		"assets/replay.js": {`id="replay-audio"`, `preload="metadata"`, `'loading'`, `'ready'`, `'playing'`, `'paused'`, `'error'`},
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

var (
	moduleScript = regexp.MustCompile(`<script[^>]*type="module"[^>]*src="([^"]+)"`)
	idLookup     = regexp.MustCompile(`(?:getElementById|\$)\(\s*'([A-Za-z][\w-]*)'\s*\)`)
)

// Every element a page's scripts look up by id (getElementById('x') or
// $('x')) must exist: in the page's HTML or in a template of its scripts.
func TestScriptIDsExist(t *testing.T) {
	fsys := FS()
	htmlFiles, _ := fs.Glob(fsys, "*.html")
	checked := 0
	for _, page := range htmlFiles {
		b, err := fs.ReadFile(fsys, page)
		if err != nil {
			t.Fatal(err)
		}
		html := string(b)
		// the page's module scripts and everything they import
		var scripts []string
		seen := map[string]bool{}
		var visit func(name string)
		visit = func(name string) {
			if seen[name] {
				return
			}
			seen[name] = true
			src, err := fs.ReadFile(fsys, name)
			if err != nil {
				t.Errorf("%s: loads %s: %v", page, name, err)
				return
			}
			scripts = append(scripts, string(src))
			for _, m := range importRef.FindAllStringSubmatch(string(src), -1) {
				visit(resolve(name, m[1]+m[2]))
			}
		}
		for _, m := range moduleScript.FindAllStringSubmatch(html, -1) {
			visit(resolve(page, m[1]))
		}
		all := html + strings.Join(scripts, "\n")
		for _, src := range scripts {
			for _, m := range idLookup.FindAllStringSubmatch(src, -1) {
				id := m[1]
				if !strings.Contains(all, `id="`+id+`"`) {
					t.Errorf("%s: a script looks up #%s, which is neither in the page nor in a script template", page, id)
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatal("found no id lookups at all; the pattern is broken")
	}
	t.Logf("%d id lookups checked", checked)
}
