package whip

import (
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"

	"talkratio/icelite"
	"talkratio/reply"
)

// midExtensionURI is the RTP header extension that names a packet's m-line
// (RFC 8843 section 15.2): the way to tell tracks apart when an offer has
// no a=ssrc lines.
const midExtensionURI = "urn:ietf:params:rtp-hdrext:sdes:mid"

// liteOffer is what the ICE-lite path keeps of an offer: the publisher's
// fingerprint, and how its audio m-lines are answered.
type liteOffer struct {
	fingerprint icelite.Fingerprint
	lines       []*liteLine // every m-line, in order
	ssrcMid     map[uint32]*liteLine
	bundled     bool
}

// liteLine is one m-line of the offer and how it is answered.
type liteLine struct {
	media     string // audio, video...
	proto     string
	format    string // the offer's first format, echoed when refused
	mid       string
	accept    bool // answered with media (else port 0)
	codecs    []liteCodec
	direction string // the answer's
	midExtID  uint8  // the offer's id for midExtensionURI, 0 if none
}

// liteCodec is a payload type of an m-line that talkratio decodes.
type liteCodec struct {
	pt     uint8
	mime   string // audio/opus, audio/PCMU, audio/PCMA
	rtpmap string // the offer's rtpmap value ("" for a static type)
	fmtp   string // the offer's fmtp parameters
}

// codec is the m-line's codec of payload type pt, if it takes it.
func (l *liteLine) codec(pt uint8) (liteCodec, bool) {
	for _, c := range l.codecs {
		if c.pt == pt {
			return c, true
		}
	}
	return liteCodec{}, false
}

// parseLiteOffer reads what the ICE-lite answer needs from an offer that
// inspectOffer and planRoles have passed.
func parseLiteOffer(body []byte, plan rolePlan) (*liteOffer, error) {
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(body); err != nil {
		return nil, reply.Errorf(http.StatusBadRequest, "malformed SDP offer: %v", err)
	}
	o := &liteOffer{ssrcMid: map[uint32]*liteLine{}}
	if g, ok := sd.Attribute(sdp.AttrKeyGroup); ok && strings.HasPrefix(g, "BUNDLE") {
		o.bundled = true
	}
	fp, _ := sd.Attribute("fingerprint")
	setup, _ := sd.Attribute("setup")
	ufrag, _ := sd.Attribute("ice-ufrag")
	for _, md := range sd.MediaDescriptions {
		l := &liteLine{media: md.MediaName.Media, proto: strings.Join(md.MediaName.Protos, "/"), format: "0"}
		if len(md.MediaName.Formats) > 0 {
			l.format = md.MediaName.Formats[0]
		}
		l.mid, _ = md.Attribute("mid")
		o.lines = append(o.lines, l)
		if v, ok := md.Attribute("fingerprint"); ok && fp == "" {
			fp = v
		}
		if v, ok := md.Attribute("setup"); ok && setup == "" {
			setup = v
		}
		if v, ok := md.Attribute("ice-ufrag"); ok && ufrag == "" {
			ufrag = v
		}
		if md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 {
			continue
		}
		l.codecs = decodable(md)
		if len(l.codecs) == 0 || (plan.mode == twoTracks && plan.rolesFor(l.mid) == nil) {
			continue
		}
		l.accept = true
		l.direction = "recvonly"
		for _, a := range md.Attributes {
			switch a.Key {
			case "recvonly", "inactive":
				l.direction = "inactive" // the publisher sends nothing on it
			case "ssrc":
				f, _, _ := strings.Cut(a.Value, " ")
				if v, err := strconv.ParseUint(f, 10, 32); err == nil {
					o.ssrcMid[uint32(v)] = l
				}
			case "extmap":
				id, uri, _ := strings.Cut(a.Value, " ")
				id, _, _ = strings.Cut(id, "/")
				uri, _, _ = strings.Cut(uri, " ")
				if n, err := strconv.Atoi(id); err == nil && n > 0 && n < 15 && uri == midExtensionURI {
					l.midExtID = uint8(n)
				}
			}
		}
	}
	if ufrag == "" {
		return nil, reply.Errorf(http.StatusBadRequest, "the offer was refused: it has no a=ice-ufrag")
	}
	f, err := icelite.ParseFingerprint(fp)
	if err != nil {
		return nil, reply.Errorf(http.StatusBadRequest, "the offer was refused: it needs an a=fingerprint (sha-256, sha-384, sha-512 or sha-1)")
	}
	o.fingerprint = f
	if strings.EqualFold(strings.TrimSpace(setup), "passive") {
		return nil, reply.Errorf(http.StatusUnprocessableEntity, "the offer was refused: a=setup:passive asks the service to open DTLS; offer actpass or active")
	}
	return o, nil
}

// decodable lists the m-line's payload types that talkratio decodes, in
// the offer's order of preference: the answer lists them all, as pion's
// does, and the publisher sends its track's codec among them.
func decodable(md *sdp.MediaDescription) []liteCodec {
	rtpmaps, fmtps := map[string]string{}, map[string]string{}
	for _, a := range md.Attributes {
		pt, v, _ := strings.Cut(a.Value, " ")
		switch a.Key {
		case "rtpmap":
			rtpmaps[pt] = v
		case "fmtp":
			fmtps[pt] = v
		}
	}
	var out []liteCodec
	for _, f := range md.MediaName.Formats {
		pt, err := strconv.Atoi(f)
		if err != nil || pt < 0 || pt > 127 {
			continue
		}
		name := map[int]string{0: "pcmu", 8: "pcma"}[pt]
		if v, ok := rtpmaps[f]; ok {
			enc, _, _ := strings.Cut(v, "/")
			name = strings.ToLower(enc)
		}
		mime := map[string]string{"opus": "audio/opus", "pcmu": "audio/PCMU", "pcma": "audio/PCMA"}[name]
		if mime == "" {
			continue
		}
		out = append(out, liteCodec{pt: uint8(pt), mime: mime, rtpmap: rtpmaps[f], fmtp: fmtps[f]})
	}
	return out
}

// lineFor finds the m-line of an RTP packet's SSRC.
func (o *liteOffer) lineFor(h *rtp.Header) *liteLine {
	if l := o.ssrcMid[h.SSRC]; l != nil {
		return l
	}
	var only *liteLine
	n := 0
	for _, l := range o.lines {
		if !l.accept {
			continue
		}
		n++
		only = l
		if l.midExtID != 0 {
			if mid := h.GetExtension(l.midExtID); len(mid) > 0 && string(mid) == l.mid {
				return l
			}
		}
	}
	if n == 1 {
		return only
	}
	return nil
}

// liteTransport is what the answer says of the ICE-lite transport: the
// shared port and its addresses, the service's certificate fingerprint
// (sha-256) and the session's ICE credentials.
type liteTransport struct {
	port                    int
	cands                   []netip.Addr
	fingerprint, ufrag, pwd string
}

func transportOf(l *icelite.Listener, s *icelite.Session) liteTransport {
	return liteTransport{port: l.Port(), cands: l.Candidates(), fingerprint: l.Fingerprint(), ufrag: s.Ufrag(), pwd: s.Pwd()}
}

// liteAnswer writes the ICE-lite answer: the session's credentials and the
// service's fingerprint, one host candidate per address on the shared
// port, every accepted audio m-line receive-only with the one codec taken
// (Opus asked for wideband, as the pion path's answer does), the others
// refused with port 0.
func liteAnswer(o *liteOffer, t liteTransport) string {
	port, cands := t.port, t.cands
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\r\n", a...) }
	w("v=0")
	w("o=- %d 2 IN IP4 0.0.0.0", time.Now().UnixNano()&0x7fffffffffff)
	w("s=-")
	w("t=0 0")
	if o.bundled {
		var mids []string
		for _, l := range o.lines {
			if l.accept {
				mids = append(mids, l.mid)
			}
		}
		w("a=group:BUNDLE %s", strings.Join(mids, " "))
	}
	w("a=ice-lite")
	for _, l := range o.lines {
		if !l.accept {
			proto := l.proto
			if proto == "" {
				proto = "UDP/TLS/RTP/SAVPF"
			}
			w("m=%s 0 %s %s", l.media, proto, l.format)
			w("c=IN IP4 0.0.0.0")
			if l.mid != "" {
				w("a=mid:%s", l.mid)
			}
			w("a=inactive")
			continue
		}
		pts := make([]string, len(l.codecs))
		for i, c := range l.codecs {
			pts[i] = strconv.Itoa(int(c.pt))
		}
		w("m=audio %d UDP/TLS/RTP/SAVPF %s", port, strings.Join(pts, " "))
		w("c=IN IP4 %s", cands[0])
		if l.mid != "" {
			w("a=mid:%s", l.mid)
		}
		w("a=%s", l.direction)
		w("a=rtcp-mux")
		w("a=ice-ufrag:%s", t.ufrag)
		w("a=ice-pwd:%s", t.pwd)
		w("a=fingerprint:sha-256 %s", t.fingerprint)
		w("a=setup:passive")
		for _, c := range l.codecs {
			if c.rtpmap != "" {
				w("a=rtpmap:%d %s", c.pt, c.rtpmap)
			}
			if c.mime == "audio/opus" {
				w("a=fmtp:%d %s", c.pt, withAsk(c.fmtp))
			}
		}
		if l.midExtID != 0 {
			w("a=extmap:%d %s", l.midExtID, midExtensionURI)
		}
		for i, ip := range cands {
			// Host candidates, the first preferred (RFC 8445 section
			// 5.1.2: type preference 126, local preference falling).
			prio := 126<<24 | (65535-i)<<8 | 255
			w("a=candidate:%d 1 udp %d %s %d typ host", i+1, prio, ip, port)
		}
		w("a=end-of-candidates")
	}
	return b.String()
}
