#!/bin/bash
# Sends a SIPREC call's two legs as paced RTP: the left channel of a
# stereo WAV (the agent, stream 1) to PORT1 and the right (the customer,
# stream 2) to PORT2, in real time, as G.711 (PCMU or PCMA) in 20 ms
# packets (172 bytes: a 12-byte RTP header and 160 samples). The SIPp
# scenarios exec it once the answer's ports are known. When the legs are
# sent, it tells the scenario with a SIP INFO on the call (to SIPp at
# SIPP_IP:SIPP_PORT), which answers it and hangs up: the BYE follows the
# last packet however late a busy machine started ffmpeg.
#
#   send-legs.sh IP PORT1 PORT2 PCMU|PCMA WAV SECONDS SIPP_IP SIPP_PORT CALL_ID
set -eu
ip=$1 port1=$2 port2=$3 codec=$4 wav=$5 seconds=$6 sipp_ip=$7 sipp_port=$8 call_id=$9
log=${SEND_LEGS_LOG:-/dev/null}
case $codec in
PCMU) enc=pcm_mulaw ;;
PCMA) enc=pcm_alaw ;;
*) echo "send-legs.sh: codec $codec (want PCMU or PCMA)" >&2; exit 2 ;;
esac
case $ip in *:*) ip="[$ip]" ;; esac
# One ffmpeg for both legs keeps them on one clock, as one SBC's are. It
# is tried again if it fails to start (twenty starting at once may pick
# the same local port).
for try in 1 2 3; do
	echo "send-legs: $(date +%s.%N) start $port1 $port2 try $try" >>"$log"
	if ffmpeg -hide_banner -loglevel error -nostdin -re -t "$seconds" -i "$wav" \
		-filter_complex "[0:a]aresample=8000,channelsplit=channel_layout=stereo[L][R]" \
		-map "[L]" -c:a "$enc" -ar 8000 -ac 1 -packetsize 172 -f rtp "rtp://$ip:$port1" \
		-map "[R]" -c:a "$enc" -ar 8000 -ac 1 -packetsize 172 -f rtp "rtp://$ip:$port2" \
		</dev/null >/dev/null 2>>"$log"; then
		break
	fi
done
echo "send-legs: $(date +%s.%N) done $port1 $port2" >>"$log"
case $sipp_ip in *:*) host="[$sipp_ip]" ;; *) host=$sipp_ip ;; esac
# One datagram: the message is written whole from a file (printf to
# /dev/udp writes a datagram a line).
msg=$(mktemp)
printf 'INFO sip:sbc@%s:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:9;branch=z9hG4bK-legs-%s\r\nFrom: <sip:legs@%s>;tag=legs%s\r\nTo: <sip:sbc@%s>\r\nCall-ID: %s\r\nCSeq: 1 INFO\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' \
	"$host" "$sipp_port" "$host" "$$" "$host" "$$" "$host" "$call_id" >"$msg"
cat "$msg" >"/dev/udp/$sipp_ip/$sipp_port"
rm -f "$msg"
