package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionLine(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var out []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			out = append(out, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	for _, tc := range []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"a clone", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: vcs("vcs.revision", "9ff44a223e9911fe718512ca8b5deb7dad5578c7", "vcs.time", "2026-12-01T04:24:27Z", "vcs.modified", "false")},
			"talkratio (devel) 9ff44a223e99 2026-12-01T04:24:27Z go1.26.8"},
		{"changed files", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: vcs("vcs.revision", "9ff44a2", "vcs.modified", "true")},
			"talkratio (devel) 9ff44a2 modified go1.26.8"},
		{"go install of a tag", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}},
			"talkratio v1.2.3 go1.26.8"},
		{"nothing known", debug.BuildInfo{GoVersion: "go1.26.8"}, "talkratio (unknown) go1.26.8"},
	} {
		if got := versionLine(&tc.bi); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	code, out, _ := runCapture("version")
	if code != exitOK || !strings.HasPrefix(out, "talkratio ") || !strings.HasSuffix(out, " "+runtime.Version()+"\n") {
		t.Errorf("talkratio version: exit %d, %q", code, out)
	}
	if code, _, _ := runCapture("version", "extra"); code != exitUsage {
		t.Errorf("talkratio version extra: exit %d", code)
	}
}

func TestLivezURL(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{":9000", "http://127.0.0.1:9000/livez"},
		{"0.0.0.0:9000", "http://127.0.0.1:9000/livez"},
		{"[::]:9000", "http://127.0.0.1:9000/livez"},
		{"localhost:8080", "http://localhost:8080/livez"},
		{"10.0.0.5:8081", "http://10.0.0.5:8081/livez"},
		{"[::1]:8080", "http://[::1]:8080/livez"},
	} {
		if got := livezURL(tc.addr); got != tc.want {
			t.Errorf("livezURL(%q) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}

// The image's HEALTHCHECK probes the port the service listens on,
// whatever it is: both read TALKRATIO_ADDR, and no port is written into
// the probe.
func TestDockerfileHealthcheckFollowsTheAddress(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	var health, cmd string
	for _, l := range strings.Split(strings.ReplaceAll(df, "\\\n", " "), "\n") {
		switch {
		case strings.HasPrefix(l, "HEALTHCHECK"):
			health = l
		case strings.HasPrefix(l, "CMD"):
			cmd = l
		}
	}
	if !strings.Contains(df, "ENV TALKRATIO_ADDR=") || health == "" || strings.Contains(health, "-url") || strings.Contains(health, ":80") {
		t.Errorf("HEALTHCHECK %q; want it to probe TALKRATIO_ADDR (no -url, no port), set by ENV", health)
	}
	if strings.Contains(cmd, "-addr") {
		t.Errorf("CMD %q sets -addr: the HEALTHCHECK would not follow it", cmd)
	}
}

// The HEALTHCHECK's probe, run as the image runs it: TALKRATIO_ADDR names
// the service's address and nothing else is given.
func TestHealthcheckReadsTheAddress(t *testing.T) {
	is := newImportService(t, serverConfigOpen())
	addr := strings.TrimPrefix(is.url, "http://")
	t.Setenv(addrEnv, addr)
	if code, out, errOut := runCapture("healthcheck"); code != exitOK || out != "ok\n" {
		t.Errorf("healthcheck with %s=%s: exit %d, %q %q", addrEnv, addr, code, out, errOut)
	}
	t.Setenv(addrEnv, "127.0.0.1:1")
	if code, _, _ := runCapture("healthcheck", "-timeout", "2s"); code != exitFail {
		t.Errorf("healthcheck of a closed port: exit %d", code)
	}
}
