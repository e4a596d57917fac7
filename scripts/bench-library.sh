#!/bin/sh
# The call library at scale (issue 12's acceptance), on SQLite and on
# Postgres in the same run: a library of 10,000 and of 1,000,000 synthetic
# calls (500 reps, a year), the start to /readyz, p50/p99 of every listed
# query (the median of 5 rounds of 100 requests), the server's RSS; then
# talkratio migrate of 100,000 calls in the old format, with its check of
# every record and audio file.
#
#   scripts/bench-library.sh WORKDIR
#
# Postgres: PG_10K and PG_1M name two empty (or already generated)
# databases, e.g. postgres://postgres@/bench1m?host=/tmp/pg; without them
# only SQLite runs. Libraries already in WORKDIR (or the databases) are
# reused: generating a million calls takes a while. SKIP_MIGRATE=1 leaves
# the migration out.
set -eu
work=${1:?usage: scripts/bench-library.sh WORKDIR}
cd "$(dirname "$0")/.."
mkdir -p "$work"
go build -o "$work/talkratio" ./cmd/talkratio
go build -o "$work/talkratio-gen" ./cmd/talkratio-gen
go build -o "$work/talkratio-libbench" ./cmd/talkratio-libbench

gen() { # gen N TARGET-FLAGS...: once per library
	n=$1
	shift
	marker=$(printf '%s' "$*" | tr -c 'a-zA-Z0-9' _)
	if [ ! -e "$work/done-$n-$marker" ]; then
		"$work/talkratio-gen" -n "$n" -reps 500 -days 365 "$@" >&2
		touch "$work/done-$n-$marker"
	fi
	# Opened once more by this binary: migrations run now, not during the
	# measured start.
	"$work/talkratio-gen" -n 0 "$@" >/dev/null 2>&1
}

echo "| library | query | | |"
echo "|---|---|---|---|"
for n in 10000 1000000; do
	gen "$n" -data "$work/sqlite-$n"
	"$work/talkratio-libbench" -bin "$work/talkratio" -serve "-data $work/sqlite-$n" -label "SQLite, $n calls"
	case $n in 10000) pg=${PG_10K:-} ;; *) pg=${PG_1M:-} ;; esac
	if [ -n "$pg" ]; then
		gen "$n" -db "$pg"
		"$work/talkratio-libbench" -bin "$work/talkratio" -serve "-data $work/pg-data-$n -db $pg" -label "Postgres, $n calls"
	fi
done

[ -n "${SKIP_MIGRATE:-}" ] && exit 0
echo
echo "talkratio migrate, 100,000 calls in the old format (one in ten with audio):"
if [ ! -d "$work/old-100k" ]; then
	"$work/talkratio-gen" -n 100000 -old "$work/old-100k" >&2
fi
rm -rf "$work/migrated-100k"
start=$(date +%s)
"$work/talkratio" migrate -from "$work/old-100k" -data "$work/migrated-100k" 2>"$work/migrate.log"
echo "took $(( $(date +%s) - start )) s (log: $work/migrate.log)"
