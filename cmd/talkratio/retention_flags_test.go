package main

import (
	"strings"
	"testing"
)

func TestRetentionFlags(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "-audio-retention-days", "-1"},
		{"serve", "-call-retention-days", "-30"},
	} {
		code, _, errOut := runCapture(args...)
		if code != exitUsage || !strings.Contains(errOut, "0 (keep) or more days") {
			t.Errorf("%v: exit %d, %q", args, code, errOut)
		}
	}
}
