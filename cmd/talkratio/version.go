package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// runVersion prints what the binary was built from, as the Go toolchain
// recorded it (no flags to set at build time): the module version (a tag
// for `go install talkratio@v1.2.3`, "(devel)" for a build from a clone),
// the commit, its time and whether the tree had changes, and the Go
// version.
func runVersion(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "usage: talkratio version")
		return exitUsage
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Fprintln(stderr, "talkratio version: this binary carries no build information")
		return exitFail
	}
	fmt.Fprintln(stdout, versionLine(bi))
	return exitOK
}

// versionLine is one line: "talkratio VERSION [COMMIT TIME [modified]] GO".
func versionLine(bi *debug.BuildInfo) string {
	parts := []string{"talkratio", bi.Main.Version}
	if bi.Main.Version == "" {
		parts[1] = "(unknown)"
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		parts = append(parts, rev[:min(len(rev), 12)])
		if t := settings["vcs.time"]; t != "" {
			parts = append(parts, t)
		}
		if settings["vcs.modified"] == "true" {
			parts = append(parts, "modified")
		}
	}
	return strings.Join(append(parts, bi.GoVersion), " ")
}
