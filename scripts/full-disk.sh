#!/bin/sh
# full-disk.sh BIN: the service on a real, small, full file system (a
# 16 MiB tmpfs; needs root to mount it, as CI has). It checks that
# /readyz fails below -min-free-space, that an upload on the full disk is
# refused with 507 and a message that names no file, that the refusal is
# counted, and that once there is room again uploads are stored and
# analyzed. Issue 10: "no call lost".
set -eu
bin=${1:?usage: full-disk.sh path/to/talkratio}
port=18092
base=http://localhost:$port
dir=$(mktemp -d)
wav=$(mktemp --suffix=.wav)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	umount "$dir" 2>/dev/null || true
	rm -rf "$dir" "$wav"
}
trap cleanup EXIT
fail() { echo "full-disk: FAIL: $*"; exit 1; }

mount -t tmpfs -o size=16m tmpfs "$dir"
# Two seconds of a stereo call, 8 kHz: a tone on the left, silence right.
sox -n -r 8000 -c 2 -b 16 "$wav" synth 2 sine 300 sine 0 vol 0.5
"$bin" serve -addr localhost:$port -data "$dir" -log-level error -upload-rate 100 -min-free-space 4194304 &
pid=$!
for _ in $(seq 50); do
	curl -fsS "$base/livez" >/dev/null 2>&1 && break
	sleep 0.2
done
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")
[ "$code" = 200 ] || fail "/readyz with room: $code"

# Fill the file system.
dd if=/dev/zero of="$dir/filler" bs=64k 2>/dev/null || true
code=$(curl -s -o /tmp/full-disk-ready.txt -w '%{http_code}' "$base/readyz")
[ "$code" = 503 ] && grep -q "low on space" /tmp/full-disk-ready.txt || fail "/readyz on a full disk: $code $(cat /tmp/full-disk-ready.txt)"
body=$(curl -s -w ' %{http_code}' -F "audio=@$wav" "$base/api/calls")
echo "upload on a full disk: $body"
case "$body" in
*' 507') ;;
*) fail "upload on a full disk: want 507" ;;
esac
case "$body" in
*"$dir"* | *"/tmp"*) fail "the message names a file" ;;
esac
curl -fsS "$base/metrics" | grep -q '^talkratio_store_errors_total [1-9]' || fail "the refusal is not counted"
total=$(curl -fsS "$base/api/calls" | sed -n 's/.*"total":\([0-9]*\).*/\1/p')
[ "$total" = 0 ] || fail "$total calls listed after refused uploads"

# Room again: the next upload is stored and analyzed.
rm -f "$dir/filler"
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")
[ "$code" = 200 ] || fail "/readyz with room again: $code"
id=$(curl -fsS -F "audio=@$wav" "$base/api/calls" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
[ -n "$id" ] || fail "upload with room again refused"
for _ in $(seq 100); do
	state=$(curl -fsS "$base/api/calls/$id" | sed -n 's/.*"state":"\([a-z]*\)".*/\1/p')
	[ "$state" = ended ] && break
	sleep 0.1
done
[ "$state" = ended ] || fail "the upload after the disk had room: $state"
echo "full-disk: ok (507 on a full 16 MiB tmpfs, /readyz 503 below -min-free-space, stored once there was room)"
