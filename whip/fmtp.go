package whip

import (
	"strings"
)

// opusAsk are the Opus parameters every answer asks senders for (RFC 7587
// section 6.1): audio up to 16 kHz, the rate the analysis runs at. A
// browser that honours them sends SILK wideband at ~16 kbit/s instead of
// hybrid full-band Opus at ~27 kbit/s: the band above 8 kHz, which the
// analysis never uses, is neither coded, sent nor decoded (pion/opus
// decodes SILK-WB in ~18 µs a packet against ~50 µs for hybrid).
// maxaveragebitrate leaves room for a stereo track carrying both sides.
var opusAsk = []struct{ key, value string }{
	{"maxplaybackrate", "16000"},
	{"sprop-maxcapturerate", "16000"},
	{"maxaveragebitrate", "40000"},
}

// askForWideband puts opusAsk into the fmtp line of every Opus payload type
// in an SDP answer, replacing the values it had, and adds an fmtp line
// where there is none. pion's answer copies the offer's fmtp (the
// SDPFmtpLine given to RegisterCodec never reaches it, and a local
// description changed from the answer it made is refused), so this is done
// on the answer's text as it is sent. Payload types are per media section.
func askForWideband(sdp string) string {
	lines := strings.SplitAfter(sdp, "\n")
	var b strings.Builder
	for start := 0; start < len(lines); {
		end := start + 1
		for end < len(lines) && !strings.HasPrefix(lines[end], "m=") {
			end++
		}
		for _, l := range askInSection(lines[start:end]) {
			b.WriteString(l)
		}
		start = end
	}
	return b.String()
}

// askInSection is askForWideband for one media section's lines.
func askInSection(lines []string) []string {
	opus := map[string]bool{} // payload types that are Opus
	for _, l := range lines {
		if pt, codec, ok := rtpmap(l); ok && strings.EqualFold(codec, "opus") {
			opus[pt] = true
		}
	}
	if len(opus) == 0 {
		return lines
	}
	hasFmtp := map[string]bool{}
	for i, l := range lines {
		if pt, params, ok := fmtp(l); ok && opus[pt] {
			hasFmtp[pt] = true
			lines[i] = "a=fmtp:" + pt + " " + withAsk(params) + lineEnd(l)
		}
	}
	out := make([]string, 0, len(lines)+len(opus))
	for _, l := range lines {
		out = append(out, l)
		if pt, _, ok := rtpmap(l); ok && opus[pt] && !hasFmtp[pt] {
			out = append(out, "a=fmtp:"+pt+" "+withAsk("")+lineEnd(l))
			hasFmtp[pt] = true
		}
	}
	return out
}

// rtpmap parses "a=rtpmap:PT CODEC/RATE[/CH]".
func rtpmap(line string) (pt, codec string, ok bool) {
	rest, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "a=rtpmap:")
	if !ok {
		return "", "", false
	}
	pt, enc, ok := strings.Cut(rest, " ")
	if !ok {
		return "", "", false
	}
	codec, _, _ = strings.Cut(enc, "/")
	return pt, codec, true
}

// fmtp parses "a=fmtp:PT PARAMS".
func fmtp(line string) (pt, params string, ok bool) {
	rest, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "a=fmtp:")
	if !ok {
		return "", "", false
	}
	pt, params, _ = strings.Cut(rest, " ")
	return pt, params, true
}

// withAsk is params with opusAsk's keys set (added, or their values
// replaced), the other parameters kept in order.
func withAsk(params string) string {
	var out []string
	for _, p := range strings.Split(params, ";") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		key, _, _ := strings.Cut(p, "=")
		asked := false
		for _, a := range opusAsk {
			asked = asked || strings.EqualFold(strings.TrimSpace(key), a.key)
		}
		if !asked {
			out = append(out, p)
		}
	}
	for _, a := range opusAsk {
		out = append(out, a.key+"="+a.value)
	}
	return strings.Join(out, ";")
}

// lineEnd is the line's own ending (SDP says CRLF; some write LF).
func lineEnd(line string) string {
	if strings.HasSuffix(line, "\r\n") {
		return "\r\n"
	}
	return "\n"
}
