#!/bin/sh
# The load tool's SILK wideband sender: the project's synthetic rep and
# customer speech (server/testdata/*.opus, hybrid full-band as a client
# that ignores the answer's maxplaybackrate sends it) re-encoded as a
# browser that honours maxplaybackrate=16000 sends it: 16 kHz mono, VoIP
# mode, 16 kbit/s, 20 ms frames. Every packet comes out SILK wideband
# (TOC configs 8-11). Needs ffmpeg with libopus. The Ogg stream serials
# are random, so the files' bytes differ from run to run; the packets do not.
set -eu
cd "$(dirname "$0")"
for r in rep customer; do
	ffmpeg -hide_banner -loglevel error -y -i "../../../server/testdata/$r.opus" \
		-ar 16000 -ac 1 -c:a libopus -application voip -b:a 16k -vbr on \
		-frame_duration 20 -f ogg "$r-silkwb.opus"
done
