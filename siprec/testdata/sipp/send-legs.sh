#!/bin/sh
# Sends a SIPREC call's two legs as paced RTP: the left channel of a
# stereo WAV (the agent, stream 1) to PORT1 and the right (the customer,
# stream 2) to PORT2, in real time, as G.711 (PCMU or PCMA) in 20 ms
# packets (172 bytes: a 12-byte RTP header and 160 samples). The SIPp
# scenarios exec it once the answer's ports are known.
#
#   send-legs.sh IP PORT1 PORT2 PCMU|PCMA WAV SECONDS
set -eu
ip=$1 port1=$2 port2=$3 codec=$4 wav=$5 seconds=$6
case $codec in
PCMU) enc=pcm_mulaw ;;
PCMA) enc=pcm_alaw ;;
*) echo "send-legs.sh: codec $codec (want PCMU or PCMA)" >&2; exit 2 ;;
esac
case $ip in *:*) ip="[$ip]" ;; esac
# One ffmpeg for both legs keeps them on one clock, as one SBC's are.
exec ffmpeg -hide_banner -loglevel error -nostdin -re -t "$seconds" -i "$wav" \
	-filter_complex "[0:a]aresample=8000,channelsplit=channel_layout=stereo[L][R]" \
	-map "[L]" -c:a "$enc" -ar 8000 -ac 1 -packetsize 172 -f rtp "rtp://$ip:$port1" \
	-map "[R]" -c:a "$enc" -ar 8000 -ac 1 -packetsize 172 -f rtp "rtp://$ip:$port2" \
	</dev/null >/dev/null 2>>"${SEND_LEGS_LOG:-/dev/null}"
