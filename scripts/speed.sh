#!/bin/sh
# speed.sh: how fast is `talkratio analyze` next to ffmpeg silencedetect, and
# how much memory does it take, on long calls.
#
#   scripts/speed.sh [WORKDIR]        (default /tmp/talkratio-speed)
#
# It builds talkratio, makes a synthetic 1-hour and 4-hour 16 kHz stereo call
# (flite speech, rep left, customer right, light noise), then in the same run
# times, best of 3 each:
#   - talkratio analyze --format json FILE
#   - ffmpeg silencedetect on both channels, the way the eval's reference
#     adapter runs it (one pass per channel, -35 dB, 0.3 s)
# and reports the speed ratio and the peak RSS of talkratio on both files.
# Needs: go, sox, flite, ffmpeg, GNU time (/usr/bin/time).
set -eu
work=${1:-/tmp/talkratio-speed}
mkdir -p "$work"
for tool in go sox flite ffmpeg /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "speed.sh: $tool not found" >&2; exit 1; }
done

bin=$work/talkratio
go build -o "$bin" ./cmd/talkratio

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
}

if [ ! -f "$work/call-4h.wav" ]; then
	echo "making test calls in $work ..."
	mk_minute "$work/minute.wav"
	len=$(soxi -D "$work/minute.wav")
	reps=$(awk -v l="$len" 'BEGIN { print int(3600 / l) }')
	sox "$work/minute.wav" "$work/call-1h.wav" repeat "$reps"
	sox "$work/call-1h.wav" "$work/call-4h.wav" repeat 3
fi

best() { # best of 3 wall-clock seconds of a shell command
	b=""
	for _ in 1 2 3; do
		t=$(/usr/bin/time -f %e sh -c "$1" 2>&1 >/dev/null | tail -1)
		b=$(awk -v a="$b" -v t="$t" 'BEGIN { print (a == "" || t < a) ? t : a }')
	done
	echo "$b"
}
ffmpeg_both() { # the eval reference adapter's two passes, one per channel
	echo "for ch in 0 1; do ffmpeg -hide_banner -nostats -nostdin -i '$1' -af \"pan=mono|c0=c\$ch,silencedetect=n=-35dB:d=0.3\" -f null - 2>/dev/null; done"
}
rss_mib() { # peak RSS of talkratio analyze, MiB
	/usr/bin/time -f %M "$bin" analyze --format json "$1" 2>&1 >/dev/null | tail -1 | awk '{ printf "%.1f", $1 / 1024 }'
}

f1=$work/call-1h.wav
dur=$(soxi -D "$f1")
echo "file: $f1 ($(soxi -r "$f1") Hz, $(soxi -c "$f1") channels, $(awk -v d="$dur" 'BEGIN { printf "%.0f", d }') s), machine: $(nproc) cores"
tr=$(best "'$bin' analyze --format json '$f1'")
ff=$(best "$(ffmpeg_both "$f1")")
echo "talkratio analyze:            $tr s  ($(awk -v d="$dur" -v t="$tr" 'BEGIN { printf "%.0f", d / t }')x real time)"
echo "ffmpeg silencedetect, 2 ch:   $ff s"
echo "speed-up over ffmpeg:         $(awk -v a="$ff" -v b="$tr" 'BEGIN { printf "%.2f", a / b }')x"
echo "peak RSS, 1-hour file:        $(rss_mib "$f1") MiB"
echo "peak RSS, 4-hour file:        $(rss_mib "$work/call-4h.wav") MiB"
