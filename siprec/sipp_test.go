package siprec

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestSIPp runs the committed SIPp scenario (a client nobody here wrote)
// through scripts/siprec-sipp.sh against the harness that stands in for
// `talkratio serve` until the recording server is wired in: three
// concurrent PCMA calls with a re-INVITE halfway, 15 s each, ffmpeg
// sending the legs; each call's listen % within 1 pp of analyze. It needs
// sipp, ffmpeg and curl, and is skipped without them or with -short.
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
	harness := filepath.Join(t.TempDir(), "harness")
	build := exec.Command("go", "build", "-o", harness, "./testdata/harness")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the harness: %v\n%s", err, out)
	}
	cmd := exec.Command("../scripts/siprec-sipp.sh", "-codec", "pcma", "-reinvite", "-calls", "3", "-seconds", "15", harness)
	cmd.Env = os.Environ()
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("siprec-sipp.sh: %v", err)
	}
}
