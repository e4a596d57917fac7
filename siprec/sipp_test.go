package siprec

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestSIPp runs the committed SIPp scenarios (a client nobody here wrote)
// through scripts/siprec-sipp.sh against `talkratio serve` with SIPREC on:
// 20 concurrent PCMU calls, and PCMA calls with a re-INVITE halfway, 15 s
// each (one run after the other: SIPp binds its own ports), ffmpeg
// sending the legs; every stored call's listen % must be
// within 1 pp of `talkratio analyze` on the same WAV. It needs sipp,
// ffmpeg and curl (CI installs them), and is skipped without them or with
// -short.
func TestSIPp(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time SIPp calls; run without -short")
	}
	for _, tool := range []string{"sipp", "ffmpeg", "curl", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not installed; .ci/run installs it", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
	bin := filepath.Join(t.TempDir(), "talkratio")
	build := exec.Command("go", "build", "-o", bin, "../cmd/talkratio")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build talkratio: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"PCMU, 20 concurrent calls", []string{"-codec", "pcmu", "-calls", "20"}},
		{"PCMA, re-INVITE halfway", []string{"-codec", "pcma", "-reinvite", "-calls", "2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(tc.args, "-seconds", "15", bin)
			cmd := exec.Command("../scripts/siprec-sipp.sh", args...)
			cmd.Env = os.Environ()
			out, err := cmd.CombinedOutput()
			t.Logf("%s", out)
			if err != nil {
				t.Fatalf("siprec-sipp.sh %v: %v", args, err)
			}
		})
	}
}
