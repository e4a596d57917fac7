#!/bin/sh
# siprec-sipp.sh: record calls with a client nobody here wrote. SIPp (the
# Debian sip-tester package) plays a SIPREC Session Recording Client
# against a talkratio binary: INVITE with multipart SDP + rs-metadata, ACK,
# the two legs of a stereo test WAV as paced RTP from ffmpeg, optionally a
# re-INVITE halfway, BYE. Then every stored call's listen % must be within
# 1 pp of `analyze` on the same WAV.
#
#   scripts/siprec-sipp.sh [-codec pcmu|pcma] [-reinvite] [-calls N]
#                          [-seconds S] [-wav FILE] [-keep] BINARY
#
# BINARY is a talkratio binary (go build -o /tmp/talkratio ./cmd/talkratio):
#   scripts/siprec-sipp.sh -calls 20 /tmp/talkratio
# It runs `BINARY serve` with its SIPREC flags on loopback, a data
# directory of its own, and reads the stored calls from GET /api/calls.
#
# The default WAV is the ingest tests' stereo call (agent left), decoded
# from ingest/ingesttest/testdata/call.opus. Needs: sipp, ffmpeg, curl.
# Exit status 0 when every call was stored and within 1 pp, 1 otherwise.
set -eu
codec=pcmu reinvite=0 calls=1 seconds=31 wav= keep=0
while [ $# -gt 1 ]; do
	case $1 in
	-codec) codec=$2; shift 2 ;;
	-reinvite) reinvite=1; shift ;;
	-calls) calls=$2; shift 2 ;;
	-seconds) seconds=$2; shift 2 ;;
	-wav) wav=$2; shift 2 ;;
	-keep) keep=1; shift ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || { sed -n '2,19p' "$0" >&2; exit 2; }
bin=$1
for tool in sipp ffmpeg curl; do
	command -v "$tool" >/dev/null || { echo "siprec-sipp.sh: $tool not found" >&2; exit 1; }
done
case $codec in
pcmu) pt=0 name=PCMU ;;
pcma) pt=8 name=PCMA ;;
*) echo "siprec-sipp.sh: codec $codec (want pcmu or pcma)" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/siprec-sipp.XXXXXX)
server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	[ "$keep" = 1 ] && echo "siprec-sipp.sh: kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT INT TERM

# The WAV sent and analyzed: the first SECONDS of the given one, at 8 kHz.
src=${wav:-$root/ingest/ingesttest/testdata/call.opus}
wav=$work/call.wav
ffmpeg -hide_banner -loglevel error -nostdin -i "$src" -t "$seconds" -ar 8000 -ac 2 -c:a pcm_s16le "$wav"

# Free ports: the service's HTTP and SIP, and an RTP range of 4 ports a
# call (two streams on even ports) with room to spare.
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + $$ % 20000)); }
http=$(port) sip=$(port)
rtp_lo=$((30000 + ($$ % 100) * 200)) rtp_hi=$((30000 + ($$ % 100) * 200 + 4 * calls + 40))

"$bin" serve -addr "127.0.0.1:$http" -data "$work/data" -sip-addr "127.0.0.1:$sip" -rtp-ports "$rtp_lo-$rtp_hi" \
	-sip-allow 127.0.0.1/32 -siprec-rep 1000-1999 >"$work/serve.log" 2>&1 &
server_pid=$!
i=0
until curl -fs "http://127.0.0.1:$http/livez" >/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "siprec-sipp.sh: $bin serve did not come up" >&2; cat "$work/serve.log" >&2; exit 1; }
	sleep 0.1
done

# The BYE follows the sender's INFO (the legs are sent: see
# send-legs.sh); the re-INVITE comes halfway through the audio.
pause_ms=1000
scenario=$root/siprec/testdata/sipp/siprec-uac.xml
if [ "$reinvite" = 1 ]; then
	scenario=$root/siprec/testdata/sipp/siprec-uac-reinvite.xml
	pause_ms=$((seconds * 500))
fi
# All calls start within a second and overlap for their whole length.
SEND_LEGS_LOG=$work/ffmpeg.log sipp -sf "$scenario" -m "$calls" -l "$calls" -r "$calls" -rp 1000 \
	-d "$pause_ms" -i 127.0.0.1 -mp 40000 -nostdin -timeout $((seconds + 60))s \
	-set script "$root/siprec/testdata/sipp/send-legs.sh" -set wav "$wav" -set pt "$pt" \
	-set codecname "$name" -set seconds "$seconds" \
	-trace_err -error_file "$work/sipp-errors.log" -trace_stat -stf "$work/sipp-stats.csv" \
	"127.0.0.1:$sip" >"$work/sipp.log" 2>&1 || {
	echo "siprec-sipp.sh: sipp failed" >&2
	tail -20 "$work/sipp.log" "$work/sipp-errors.log" >&2 2>/dev/null
	exit 1
}

# The calls end with the BYE; each is stored once analyzed.
i=0
while :; do
	curl -fs "http://127.0.0.1:$http/api/calls?limit=500" >"$work/calls.json"
	ended=$(grep -o '"state":"ended"' "$work/calls.json" | wc -l)
	[ "$ended" -ge "$calls" ] && break
	i=$((i + 1))
	[ $i -lt 150 ] || { echo "siprec-sipp.sh: $ended of $calls calls stored" >&2; exit 1; }
	sleep 0.2
done

want=$("$bin" analyze --format json "$wav" | grep -o '"listen_pct": *[0-9.]*' | head -1 | sed 's/.*: *//')
[ -n "$want" ] || { echo "siprec-sipp.sh: analyze found no listen %" >&2; exit 1; }
# One "listen_pct" per stored call, in the list's order.
tr '{' '\n' <"$work/calls.json" | grep '"state":"ended"' | grep -o '"listen_pct": *[0-9.null]*' | sed 's/.*: *//' >"$work/got.txt"
status=0
n=0
while read -r got; do
	n=$((n + 1))
	if [ "$got" = null ]; then
		echo "call $n: no speech found" >&2
		status=1
		continue
	fi
	delta=$(awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; if (d < 0) d = -d; printf "%.2f", d }')
	ok=$(awk -v d="$delta" 'BEGIN { print (d <= 1.0) ? "ok" : "FAIL" }')
	echo "call $n: listen $got% vs analyze $want% (delta $delta pp) $ok"
	[ "$ok" = ok ] || status=1
done <"$work/got.txt"
[ "$n" -eq "$calls" ] || { echo "siprec-sipp.sh: $n calls with a result, want $calls" >&2; status=1; }
if [ $status != 0 ]; then
	# What the service and the senders said: the reason is in there.
	echo "siprec-sipp.sh: RTP packets taken (each call sends $((seconds * 100)) for its two legs):" >&2
	curl -fs "http://127.0.0.1:$http/metrics" | grep -E '^talkratio_(siprec_rtp_packets|siprec_errors|rtp_packets_(late|lost|ahead)|audio_missing|audio_analyzed)' | grep -v ' 0$' >&2
	echo "siprec-sipp.sh: the service's warnings and errors:" >&2
	grep -v 'level=DEBUG\|level=INFO' "$work/serve.log" | cut -c1-400 | head -40 >&2
	grep -h 'RTP clock\|late\|ended' "$work/serve.log" | cut -c1-300 | head -40 >&2
	[ -s "$work/ffmpeg.log" ] && { echo "siprec-sipp.sh: the senders:" >&2; head -60 "$work/ffmpeg.log" >&2; }
fi
echo "siprec-sipp.sh: $calls call(s), $name, re-INVITE $([ "$reinvite" = 1 ] && echo yes || echo no): $([ $status = 0 ] && echo PASS || echo FAIL)"
exit $status
