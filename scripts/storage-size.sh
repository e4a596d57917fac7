#!/bin/sh
# storage-size.sh: measures how much audio talkratio stores per call-minute.
#
# Run from the repository root (../shared/eval must exist; needs go, curl,
# jq, sox, flite, espeak-ng):
#
#   scripts/storage-size.sh                 # 40 calls, seed 4040, all voices
#   scripts/storage-size.sh -n 12 -seed 7
#
# It generates a holdout-like set with the eval generator (once, into the
# cache: $TALKRATIO_EVAL_CACHE or /tmp/talkratio-eval/corpus, as
# holdout-SEED), starts `talkratio serve` on a fresh data directory,
# imports every call through the API (`talkratio import`), waits for the
# analyses, and prints the stored audio per call-minute: in all, the worst
# call, and per source sample rate, beside the WAVs uploaded. Exit status 1
# when the total is over 2 MB per call-minute.
set -eu

n=40
seed=4040
cache=${TALKRATIO_EVAL_CACHE:-/tmp/talkratio-eval/corpus}
while [ $# -gt 0 ]; do
	case $1 in
	-n) n=$2; shift ;;
	-seed) seed=$2; shift ;;
	*) echo "storage-size: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
log() { echo "storage-size: $*" >&2; }
root=$(pwd)
[ -f "$root/go.mod" ] && [ -d "$root/cmd/talkratio" ] || { log "run me from the talkratio repository root"; exit 2; }
for t in go curl jq; do
	command -v "$t" >/dev/null 2>&1 || { log "needs $t"; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/talkratio-size.XXXXXX")
pid=
cleanup() {
	[ -z "$pid" ] || kill "$pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# 1. The calls: generated once (same seed, same files).
corpus=$cache/holdout-$seed-n$n
if [ ! -f "$corpus/index.json" ]; then
	[ -d "$root/../shared/eval" ] || { log "no ../shared/eval next to the repository"; exit 2; }
	log "generating $n calls (seed $seed) into $corpus ..."
	cp -R "$root/../shared/eval" "$tmp/eval"
	chmod -R u+w "$tmp/eval"
	(cd "$tmp/eval" && go build -o "$tmp/gencorpus" ./cmd/gencorpus)
	mkdir -p "$cache"
	rm -rf "$corpus.partial"
	"$tmp/gencorpus" -set holdout -seed "$seed" -n "$n" -voices all -out "$corpus.partial" >&2
	mv "$corpus.partial" "$corpus"
fi

# 2. The service, on a data directory of its own.
go build -o "$tmp/talkratio" ./cmd/talkratio
port=$((20000 + $$ % 20000))
"$tmp/talkratio" serve -addr "127.0.0.1:$port" -data "$tmp/data" -log-level warn &
pid=$!
i=0
until curl -fs "http://127.0.0.1:$port/readyz" >/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || { log "the service did not start"; exit 1; }
	sleep 0.1
done

# 3. Import every call, then wait until none is analyzing.
"$tmp/talkratio" import -url "http://127.0.0.1:$port" -state "$tmp/import.tsv" "$corpus" >/dev/null
while [ "$(curl -fs "http://127.0.0.1:$port/api/calls?limit=500" | jq '[.calls[] | select(.state == "analyzing")] | length')" != 0 ]; do
	sleep 0.5
done

# 4. Sizes: each call's stored audio against its minutes and its WAV.
curl -fs "http://127.0.0.1:$port/api/calls?limit=500" | jq -r '.calls[] | [.id, .name, .duration_s, .state] | @tsv' |
	while IFS="$(printf '\t')" read -r id name dur state; do
		[ "$state" = ended ] || { log "$name: $state"; continue; }
		# Through the API, as the replay fetches it: where the store keeps
		# the file is its own business (it moved once already).
		curl -fs "http://127.0.0.1:$port/api/calls/$id/audio" -o "$tmp/audio"
		[ "$(head -c 4 "$tmp/audio")" = fLaC ] || { log "$name: the stored audio is not FLAC"; exit 1; }
		stored=$(wc -c <"$tmp/audio")
		wav=$corpus/$name.wav
		rate=$(od -An -tu4 -j24 -N4 "$wav" | tr -d ' ')
		printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$dur" "$stored" "$(wc -c <"$wav")" "$rate"
	done >"$tmp/sizes.tsv"
awk -F '\t' '
{ mins = $2 / 60; mb = $3 / 1e6; r = mb / mins
  tot += $3; wav += $4; m += mins; calls++
  if (r > worst) { worst = r; wname = $1 }
  rb[$5] += $3; rm[$5] += mins; rn[$5]++ }
END {
  for (k in rb) printf "  %6d Hz sources: %2d calls, %6.1f min: %.3f MB per call-minute\n", k, rn[k], rm[k], rb[k] / 1e6 / rm[k]
  printf "%d calls, %.1f call-minutes: stored %.2f MB, %.3f MB per call-minute (the WAVs uploaded: %.2f MB, %.3f MB per minute); worst %.3f (%s)\n",
    calls, m, tot / 1e6, tot / 1e6 / m, wav / 1e6, wav / 1e6 / m, worst, wname
  if (tot / 1e6 / m > 2) exit 1
}' "$tmp/sizes.tsv"
