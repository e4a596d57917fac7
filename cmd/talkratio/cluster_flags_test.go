package main

import (
	"bytes"
	"strings"
	"testing"
)

// serve refuses a cluster it cannot run, before it opens anything.
func TestServeClusterFlagsRefused(t *testing.T) {
	pg := "postgres://db.example/talkratio"
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"a cluster on SQLite", []string{"-cluster"}, "SQLite is one node's"},
		{"external NATS on SQLite", []string{"-nats-url", "nats://127.0.0.1:4222"}, "SQLite is one node's"},
		{"cluster flags without a cluster", []string{"-node-id", "a"}, "add -cluster"},
		{"a node id that is no subject token", []string{"-cluster", "-db", pg, "-node-id", "a.b"}, "-node-id"},
		{"a node URL with a path", []string{"-cluster", "-db", pg, "-node-id", "a", "-node-url", "http://h:1/x"}, "-node-url"},
		{"routes with an external NATS", []string{"-cluster", "-db", pg, "-node-id", "a", "-nats-url", "nats://127.0.0.1:4222", "-nats-routes", "nats-route://127.0.0.1:6222"}, "one or the other"},
		{"embedded NATS open to the network, in the clear", []string{"-cluster", "-db", pg, "-node-id", "a", "-nats-listen", "0.0.0.0:4222"}, "reachable from other hosts"},
		{"external NATS elsewhere, no TLS", []string{"-db", pg, "-node-id", "a", "-nats-url", "nats://10.0.0.9:4222", "-nats-creds", "x.creds"}, "TLS"},
		{"external NATS elsewhere, no credentials", []string{"-db", pg, "-node-id", "a", "-nats-url", "tls://10.0.0.9:4222"}, "credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runServe(append([]string{"-addr", "127.0.0.1:0", "-data", t.TempDir()}, tc.args...), &stdout, &stderr)
			if code != exitUsage || !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, stderr.String(), exitUsage, tc.want)
			}
		})
	}
}
