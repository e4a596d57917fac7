#!/bin/sh
# The cluster bus's fan-out figure: 200 calls x 10 snapshots/s published
# on one node and watched on another (two embedded NATS servers, routed,
# in one process). Prints delivered/sent, p50/p99/max delivery latency and
# the CPU per call the bus adds. TALKRATIO_FANOUT_SECONDS sets the run's
# length (default 10).
set -eu
cd "$(dirname "$0")/.."
out=$(TALKRATIO_FANOUT=1 go test -run '^TestFanoutFigure$' -count=1 -v ./nats/) || {
	printf '%s\n' "$out" >&2
	exit 1
}
printf '%s\n' "$out" | grep 'fanout: ' | sed 's/^ *fanout_test.go:[0-9]*: //'
