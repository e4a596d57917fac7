package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// What `talkratio analyze` prints, byte for byte, beyond the JSON goldens of
// TestAnalyzeFixtures: the text and CSV reports, a JSON Lines batch, the
// channel flags, and the messages of the inputs that cannot make a call.
// Recorded before the server was split into packages (issue 9), which moved
// how a recording is opened; rewrite with -update only for an intended
// change.
func TestAnalyzeGoldenCLI(t *testing.T) {
	dir := t.TempDir()
	stereo := "testdata/call-bleed-mulaw.wav"
	rep, cust := "testdata/pair-rep-alaw.wav", "testdata/pair-customer-alaw.wav"
	mono := writeFile(t, dir, "mono.wav", wavBytes(1, 8000, make([]int16, 8000)))
	three := make([]int16, 3*8000)
	threeCh := writeFile(t, dir, "three.wav", wavBytes(3, 8000, three))
	var buf bytes.Buffer
	for _, args := range [][]string{
		{"analyze", stereo},
		{"analyze", "--format", "csv", stereo, "--rep", rep, "--customer", cust},
		{"analyze", "--format", "csv", stereo, rep},
		{"analyze", "--format", "json", stereo, mono},
		{"analyze", "--format", "text", "--rep", rep, "--customer", cust},
		{"analyze", "--format", "csv", "--rep-channel", "right", stereo},
		{"analyze", "--format", "csv", "--rep-channel", "R", stereo},
		{"analyze", "--format", "csv", "--rep-channel", "1", "--customer-channel", "0", stereo},
		{"analyze", "--format", "csv", "--target", "0.4", stereo},
		{"analyze", "--format", "csv", "--rep-channel", "2", threeCh},
		{"analyze", "--format", "csv", "--rep-channel", "2", "--customer-channel", "0", threeCh},
		{"analyze", "--format", "csv", "--rep-channel", "0", "--customer-channel", "0", stereo},
		{"analyze", "--format", "csv", "--rep-channel", "5", "--customer-channel", "0", stereo},
		{"analyze", "--format", "csv", mono},
		{"analyze", "--rep", stereo, "--customer", cust},
		{"analyze", "--rep", rep, "--customer", stereo},
		{"analyze", "--rep", rep, "--customer", filepath.Join(dir, "nope.wav")},
		{"analyze", "--rep-channel", "middle", stereo},
	} {
		code, out, errOut := runCmd(args...)
		mask := strings.NewReplacer(dir, "<dir>")
		fmt.Fprintf(&buf, "=== talkratio %s\nexit %d\n--- stdout\n%s--- stderr\n%s\n", mask.Replace(strings.Join(args[:], " ")), code, mask.Replace(out), mask.Replace(errOut))
	}
	path := filepath.Join("testdata", "golden", "cli.txt")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		gl, wl := strings.Split(buf.String(), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("%s differs at line %d:\n got: %.300s\nwant: %.300s", path, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s differs in length: %d lines, want %d", path, len(gl), len(wl))
	}
}
