#!/bin/sh
# fuzz.sh: bounded fuzzing of one target, for CI.
#
#   scripts/fuzz.sh PKG TARGET TIME
#
# Go 1.26's fuzz coordinator can end a run that found nothing with
# "context deadline exceeded" when a starved worker misses the -fuzztime
# deadline (go.dev/issue/75804, fixed in Go 1.27). A real finding is always
# written to PKG/testdata/fuzz/TARGET, so: a failure that wrote a new
# input there fails at once; a failure that wrote nothing is run again,
# once, and fails only if it fails again.
set -u
pkg=$1
target=$2
fuzztime=$3
corpus="$pkg/testdata/fuzz/$target"

count() { find "$corpus" -type f 2>/dev/null | wc -l; }

for attempt in 1 2; do
	before=$(count)
	if go test -run='^$' -fuzz="^$target\$" -fuzztime="$fuzztime" "$pkg"; then
		exit 0
	fi
	after=$(count)
	if [ "$after" -gt "$before" ]; then
		echo "fuzz.sh: $target wrote a failing input to $corpus" >&2
		exit 1
	fi
	echo "fuzz.sh: $target failed without a failing input (attempt $attempt); the Go 1.26 deadline race, see go.dev/issue/75804" >&2
done
exit 1
