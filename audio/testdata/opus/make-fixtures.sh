#!/bin/sh
# Regenerates the Opus fixtures of audio/opus_fork_test.go: short streams of
# each Opus mode and of mode switches, encoded by ffmpeg's libopus from
# synthetic speech (flite), pink noise and a sawtooth chord. libopus picks
# the mode from the bitrate, the bandwidth and its speech/music detector, so
# each file's mix is chosen to land in the mode its name says; the test
# checks the TOC bytes. Other ffmpeg or libopus versions encode differently:
# after running this, regenerate the pristine decoder's reference with
#   go generate ./audio
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }
text='Thanks for taking the call today. I wanted to walk you through the pricing, and then we can talk about the rollout plan for your team. Does that work for you?'

# Sources at 48 kHz. flite speaks at 8 kHz: pink noise puts energy above
# 4 kHz so libopus codes the upper bands; the chord makes it choose CELT.
ff -f lavfi -i "flite=text='$text':voice=slt" -ar 48000 "$tmp/clean.wav"
ff -f lavfi -i "flite=text='$text':voice=kal" -ar 48000 "$tmp/clean2.wav"
ff -i "$tmp/clean.wav" -f lavfi -i "anoisesrc=color=pink:amplitude=0.02:r=48000:seed=7" \
	-filter_complex "[0:a]volume=1.5[s];[s][1:a]amix=inputs=2:duration=first:normalize=0" "$tmp/noisy.wav"
ff -i "$tmp/clean2.wav" -f lavfi -i "anoisesrc=color=pink:amplitude=0.02:r=48000:seed=8" \
	-filter_complex "[0:a]volume=1.5[s];[s][1:a]amix=inputs=2:duration=first:normalize=0" "$tmp/noisy2.wav"
ff -f lavfi -i "aevalsrc='0.15*(2*mod(220*t,1)-1)+0.1*(2*mod(277.2*t,1)-1)+0.1*(2*mod(329.6*t*(1+0.01*sin(6*t)),1)-1)':s=48000:d=4" "$tmp/music.wav"
ff -i "$tmp/noisy.wav" -i "$tmp/noisy2.wav" -filter_complex "[0:a][1:a]join=inputs=2:channel_layout=stereo" "$tmp/stereo.wav"

# Clean speech, noisy speech and music in turn: libopus moves between SILK
# (clean speech has nothing above 4 kHz), hybrid (noisy speech) and CELT
# (music), with redundant CELT frames at the CELT switches.
ff -i "$tmp/clean.wav" -i "$tmp/noisy.wav" -i "$tmp/music.wav" -filter_complex "\
[0:a]atrim=0:1.5,asetpts=N/SR/TB[a];[1:a]atrim=1.5:2.5,asetpts=N/SR/TB[b];[2:a]atrim=0:1,asetpts=N/SR/TB[c];\
[1:a]atrim=2.5:3.5,asetpts=N/SR/TB[d];[2:a]atrim=1:1.6,asetpts=N/SR/TB[e];[1:a]atrim=3.5:4.5,asetpts=N/SR/TB[f];\
[a][b][c][d][e][f]concat=n=6:v=0:a=1" "$tmp/switch.wav"

enc() { # enc NAME SECONDS INPUT ENCODER-OPTIONS...
	name=$1 dur=$2 in=$3
	shift 3
	ff -i "$tmp/$in" -t "$dur" -c:a libopus "$@" -map_metadata -1 -fflags +bitexact -flags:a +bitexact "$name.opus"
}
enc silk-nb 2 clean.wav -application voip -b:a 8k
enc silk-wb 2 noisy.wav -application voip -cutoff 8000 -b:a 14k
enc silk-wb-60ms 2 noisy.wav -application voip -cutoff 8000 -b:a 14k -frame_duration 60
enc hybrid-swb 2 noisy.wav -application voip -cutoff 12000 -b:a 16k
enc hybrid-fb 2 noisy.wav -application voip -b:a 24k
enc hybrid-fb-10ms 1 noisy.wav -application voip -b:a 24k -frame_duration 10
enc hybrid-fb-40ms 2 noisy.wav -application voip -b:a 24k -frame_duration 40
enc hybrid-fb-stereo 2 stereo.wav -application voip -b:a 32k
enc celt-fb 2 noisy.wav -application lowdelay -b:a 32k
enc switch-hybrid-silk-celt 7 switch.wav -application audio -b:a 16k
enc switch-silk-celt 7 switch.wav -application audio -cutoff 8000 -b:a 16k
