package main

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// readmeBlock returns the first fenced block of the given language after
// the heading in the README.
func readmeBlock(t *testing.T, readme, heading, lang string) string {
	t.Helper()
	i := strings.Index(readme, heading)
	if i < 0 {
		t.Fatalf("README: no %q", heading)
	}
	s := readme[i:]
	a := strings.Index(s, "```"+lang+"\n")
	if a < 0 {
		t.Fatalf("README: no %s block after %q", lang, heading)
	}
	s = s[a+len(lang)+4:]
	e := strings.Index(s, "```")
	if e < 0 {
		t.Fatalf("README: unclosed %s block after %q", lang, heading)
	}
	return s[:e]
}

// README's `analyze` examples are what the command prints for the
// fixture they name, run as README runs it, from the repository's root:
// the JSON value for value, the CSV byte for byte.
func TestReadmeAnalyzeExamples(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	t.Chdir("../..")
	const fixture = "cmd/talkratio/testdata/call-bleed-mulaw.wav"
	if !strings.Contains(readmeBlock(t, readme, "### Output", "sh"), "analyze --format json "+fixture) {
		t.Fatalf("README's example command does not analyze %s", fixture)
	}
	code, out, errOut := runCmd("analyze", "--format", "json", fixture)
	if code != exitOK {
		t.Fatalf("analyze: exit %d: %s", code, errOut)
	}
	var doc, got any
	if err := json.Unmarshal([]byte(readmeBlock(t, readme, "### Output", "json")), &doc); err != nil {
		t.Fatalf("README's JSON example: %v", err)
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(doc, got) {
		t.Errorf("README's JSON example differs from what analyze prints:\n%s", out)
	}
	code, out, errOut = runCmd("analyze", "--format", "csv", fixture)
	if code != exitOK {
		t.Fatalf("analyze: exit %d: %s", code, errOut)
	}
	if doc := readmeBlock(t, readme, "### Output", "csv"); doc != out {
		t.Errorf("README's CSV example:\n%s\nanalyze prints:\n%s", doc, out)
	}
}
