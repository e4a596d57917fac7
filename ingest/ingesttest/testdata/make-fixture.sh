#!/bin/sh
# Regenerates call.opus, the stereo test call of the ingest tests: the
# project's synthetic call (server/testdata/rep.opus on the left, the rep;
# customer.opus on the right), resampled to the telephone rate and coded at
# 24 kbit/s so the fixture stays small. The tests decode it with the
# project's own Opus decoder, so other ffmpeg versions only change the audio
# slightly, and every test compares against analyze on that same decode.
set -eu
cd "$(dirname "$0")"
ffmpeg -hide_banner -loglevel error -y \
	-i ../../../server/testdata/rep.opus -i ../../../server/testdata/customer.opus \
	-filter_complex "[0:a][1:a]join=inputs=2:channel_layout=stereo,aresample=8000[a]" \
	-map "[a]" -c:a libopus -b:a 24k -application voip call.opus
