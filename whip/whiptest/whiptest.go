// Package whiptest makes SDP offers for tests of a WHIP endpoint: minimal,
// written by hand, some of them deliberately ones no endpoint can serve.
package whiptest

import "strings"

// Offer builds a minimal offer with one m-line per media section given,
// bundled, with mids 0, 1, ...
func Offer(media ...string) string {
	var b strings.Builder
	b.WriteString("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE")
	for i := range media {
		b.WriteString(" " + string(rune('0'+i)))
	}
	b.WriteString("\r\n")
	for i, m := range media {
		b.WriteString(m)
		b.WriteString("a=mid:" + string(rune('0'+i)) + "\r\n")
	}
	return b.String()
}

// Media sections for Offer.
const (
	// Opus is an Opus audio section with ICE and DTLS attributes.
	Opus = "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\na=sendonly\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\na=setup:actpass\r\na=rtcp-mux\r\n"
	// G722 offers G.722 and comfort noise only.
	G722 = "m=audio 9 UDP/TLS/RTP/SAVPF 9 13\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:9 G722/8000\r\na=rtpmap:13 CN/8000\r\na=sendonly\r\n"
	// PCMU offers the static payload type 0 with no rtpmap.
	PCMU = "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\na=sendonly\r\n"
	// Video is a video section, no audio.
	Video = "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 VP8/90000\r\na=sendonly\r\n"
)
