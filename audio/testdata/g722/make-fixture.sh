#!/bin/sh
# Regenerates speech.g722, the G.722 fixture of audio/g722_test.go: 3 s of
# the project's synthetic speech (server/testdata/rep.opus from 1.5 s) at
# 16 kHz with pink noise mixed in, so that the higher band (4-8 kHz) is
# busy too, coded by ffmpeg's G.722 encoder at 64 kbit/s. It prints the
# SHA-256 of ffmpeg's decode of the result: g722_test.go holds that digest
# and a few of its samples, which this decoder must reproduce exactly.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }
ff -ss 1.5 -t 3 -i ../../../server/testdata/rep.opus \
	-f lavfi -t 3 -i "anoisesrc=color=pink:amplitude=0.01:r=16000:seed=3" \
	-filter_complex "[0:a]aresample=16000[s];[s][1:a]amix=inputs=2:duration=first:normalize=0" \
	-ac 1 -ar 16000 "$tmp/in.wav"
ff -i "$tmp/in.wav" -c:a g722 -f g722 speech.g722
ff -f g722 -i speech.g722 -f s16le -ar 16000 "$tmp/ffmpeg.s16"
sha256sum "$tmp/ffmpeg.s16" | cut -d' ' -f1
