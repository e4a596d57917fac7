#!/bin/sh
# speed.sh: how fast is `talkratio analyze` next to the read floor and to
# ffmpeg silencedetect, and how much memory does it take, on long calls.
#
#   scripts/speed.sh [WORKDIR]        (default /tmp/talkratio-speed)
#   SPEED_RUNS=N scripts/speed.sh     (rounds per file, default 5)
#   SPEED_BASE=OLD/talkratio scripts/speed.sh
#                                     (also time an older build in the same
#                                     rounds, to compare before and after)
#
# It builds talkratio (static, as shipped) and the floor program
# (scripts/floor: read the WAV in 1 MiB reads and sum the squares of every
# 10 ms frame of both channels, on one core), makes synthetic stereo calls
# (flite speech, rep left, customer right, light noise) of 1 hour at 8, 16
# and 48 kHz and of 4 hours at 16 kHz, then for each file runs, in turn,
# SPEED_RUNS rounds of:
#   - floor FILE
#   - talkratio analyze --format json FILE
#   - ffmpeg over both channels in one pass, as a user would: channelsplit,
#     then silencedetect (-35 dB, 0.3 s) on each channel
# Each round runs the three back to back, so the ratios of one round share
# the machine's load; the report gives the median wall time of each, the
# median of the per-round ratios, and talkratio's largest peak RSS (GNU
# time's maximum resident set size). One warm-up run of each comes first,
# so that the file is in the page cache.
# Needs: go, sox, flite, ffmpeg, GNU time (/usr/bin/time).
set -eu
work=${1:-/tmp/talkratio-speed}
runs=${SPEED_RUNS:-5}
base=${SPEED_BASE:-}
mkdir -p "$work"
for tool in go sox soxi flite ffmpeg /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "speed.sh: $tool not found" >&2; exit 1; }
done

bin=$work/talkratio
floor=$work/floor
# Built as the project ships it (the Dockerfile's build): without cgo, a
# static binary. Where a C compiler is installed, a plain go build links
# the C resolver, and the dynamic loader then adds 2-3 ms to every run
# (talkratio version: 34.1-34.8 ms against 31.6-32.2 ms static, medians
# of 31 runs).
CGO_ENABLED=0 go build -o "$bin" ./cmd/talkratio
CGO_ENABLED=0 go build -o "$floor" ./scripts/floor

# One minute of conversation: utterances alternate between the two sides,
# each side's voice only on its own channel.
mk_minute() {
	out=$1
	i=0
	set -- \
		"rep:Thanks for taking the call. What made you look at scheduling software this quarter?" \
		"cust:Honestly we keep double booking our technicians, and customers wait all day for a visit." \
		"rep:How often does that happen in a normal week?" \
		"cust:Three or four times a week at least, and every time someone has to call the customer back and apologize." \
		"rep:What does that cost you?" \
		"cust:A lost job is maybe four hundred dollars, and we lose a couple of customers a month over it. The owner is tired of the reviews." \
		"rep:Who else would be part of a decision like this?" \
		"cust:Our office manager, she runs the calendar, and the owner signs anything over a thousand dollars." \
		"rep:When would you want this fixed by?" \
		"cust:Before the winter rush, so October at the latest."
	parts=""
	for u in "$@"; do
		who=${u%%:*}
		text=${u#*:}
		voice=slt
		[ "$who" = cust ] && voice=kal16
		flite -voice "$voice" -t "$text" -o "$work/u$i.wav"
		sox "$work/u$i.wav" -r 16000 -c 1 "$work/m$i.wav"
		# Put the utterance on its own side, silence on the other.
		if [ "$who" = rep ]; then
			sox "$work/m$i.wav" "$work/s$i.wav" remix 1 0 pad 0 0.4
		else
			sox "$work/m$i.wav" "$work/s$i.wav" remix 0 1 pad 0 0.4
		fi
		parts="$parts $work/s$i.wav"
		i=$((i + 1))
	done
	# shellcheck disable=SC2086
	sox $parts "$work/minute-clean.wav"
	len=$(soxi -D "$work/minute-clean.wav")
	sox -n -r 16000 -c 2 "$work/noise.wav" synth "$len" pinknoise vol 0.003
	sox -m "$work/minute-clean.wav" "$work/noise.wav" "$out"
	rm -f "$work"/u[0-9]*.wav "$work"/m[0-9]*.wav "$work"/s[0-9]*.wav "$work/minute-clean.wav" "$work/noise.wav"
}

# The calls: NAME RATE HOURS.
calls="8k-1h 8000 1
16k-1h 16000 1
48k-1h 48000 1
16k-4h 16000 4"

if [ ! -f "$work/minute.wav" ]; then
	echo "making test calls in $work ..."
	mk_minute "$work/minute.wav"
fi
echo "$calls" | while read -r name rate hours; do
	f=$work/call-$name.wav
	[ -f "$f" ] && continue
	sox "$work/minute.wav" -r "$rate" "$work/minute-$rate.wav"
	len=$(soxi -D "$work/minute-$rate.wav")
	# repeat N plays the minute N+1 times.
	reps=$(awk -v l="$len" -v h="$hours" 'BEGIN { print int(h * 3600 / l) - 1 }')
	sox "$work/minute-$rate.wav" "$f" repeat "$reps"
	rm -f "$work/minute-$rate.wav"
done

# One ffmpeg pass over both channels, as a user would run it.
ff_graph="[0:a]channelsplit=channel_layout=stereo[l][r];[l]silencedetect=n=-35dB:d=0.3[a];[r]silencedetect=n=-35dB:d=0.3[b]"

# timed TOOL FILE: runs one tool once; prints "wall_seconds peak_rss_kib".
# Wall time is taken around the run in nanoseconds (GNU time's own %e has
# only 10 ms steps); the peak RSS is GNU time's %M.
timed() {
	t0=$(date +%s%N)
	case $1 in
	floor) /usr/bin/time -f %M -o "$work/rss" "$floor" "$2" >/dev/null ;;
	analyze) /usr/bin/time -f %M -o "$work/rss" "$bin" analyze --format json "$2" >/dev/null ;;
	base) /usr/bin/time -f %M -o "$work/rss" "$base" analyze --format json "$2" >/dev/null ;;
	ffmpeg) /usr/bin/time -f %M -o "$work/rss" ffmpeg -hide_banner -nostats -nostdin -i "$2" \
		-filter_complex "$ff_graph" -map "[a]" -f null - -map "[b]" -f null - 2>/dev/null ;;
	esac
	t1=$(date +%s%N)
	echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }') $(tail -1 "$work/rss")"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

load() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?"; }
echo "machine: $(nproc) cores, $(uname -m); $runs rounds per file after one warm-up; $(date -u +%Y-%m-%d); load average $(load)"
printf '%-7s %8s %8s %8s %10s %10s %9s %9s  %s\n' call floor analyze ffmpeg "an/floor" "ff/an" "RSS MiB" "ff RSS" targets
echo "$calls" | while read -r name rate hours; do
	f=$work/call-$name.wav
	for tool in floor analyze ffmpeg ${base:+base}; do timed $tool "$f" >/dev/null; done
	: >"$work/rounds"
	i=0
	while [ $i -lt "$runs" ]; do
		line="$(timed floor "$f") $(timed analyze "$f") $(timed ffmpeg "$f")"
		[ -n "$base" ] && line="$line $(timed base "$f")"
		echo "$line" >>"$work/rounds"
		i=$((i + 1))
	done
	# rounds: floor_s floor_kib analyze_s analyze_kib ffmpeg_s ffmpeg_kib
	fl=$(awk '{ print $1 }' "$work/rounds" | median)
	an=$(awk '{ print $3 }' "$work/rounds" | median)
	ff=$(awk '{ print $5 }' "$work/rounds" | median)
	r1=$(awk '{ print $3 / $1 }' "$work/rounds" | median)
	r2=$(awk '{ print $5 / $3 }' "$work/rounds" | median)
	rss=$(awk '{ if ($4 > m) m = $4 } END { printf "%.1f", m / 1024 }' "$work/rounds")
	ffrss=$(awk '{ if ($6 > m) m = $6 } END { printf "%.1f", m / 1024 }' "$work/rounds")
	verdict=$(awk -v a="$r1" -v b="$r2" -v m="$rss" 'BEGIN { v = ""
		v = v (a <= 2.0 ? "floor ok" : "floor MISSED")
		v = v (b >= 2.0 ? ", ffmpeg ok" : ", ffmpeg MISSED")
		v = v (m < 64 ? ", RSS ok" : ", RSS MISSED"); print v }')
	printf '%-7s %7.3fs %7.3fs %7.3fs %9.2fx %9.2fx %9s %9s  %s\n' "$name" "$fl" "$an" "$ff" "$r1" "$r2" "$rss" "$ffrss" "$verdict"
	if [ -n "$base" ]; then
		bs=$(awk '{ print $7 }' "$work/rounds" | median)
		printf '        base %7.3fs: %.2fx the floor, ffmpeg %.2fx it, %.1f MiB; this build %.2fx faster\n' "$bs" \
			"$(awk '{ print $7 / $1 }' "$work/rounds" | median)" "$(awk '{ print $5 / $7 }' "$work/rounds" | median)" \
			"$(awk '{ if ($8 > m) m = $8 } END { print m / 1024 }' "$work/rounds")" "$(awk '{ print $7 / $3 }' "$work/rounds" | median)"
	fi
done
echo "an/floor: analyze's wall time over the floor's (median of per-round ratios; target <= 2.0)"
echo "ff/an:    ffmpeg's wall time over analyze's (target >= 2.0); RSS: largest peak over the rounds (target < 64 MiB)"
echo "load average at the end: $(load) (analyze uses both cores, the floor one: a busy machine costs analyze more)"
