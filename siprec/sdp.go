package siprec

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// maxMediaLines bounds the m-lines of an offer: a recorded two-party call
// has two, a conference or a video call a few more.
const maxMediaLines = 16

// Directions of an m-line (RFC 3264 section 5.1).
const (
	dirSendRecv = "sendrecv"
	dirSendOnly = "sendonly"
	dirRecvOnly = "recvonly"
	dirInactive = "inactive"
)

// codec is one payload format of an m-line.
type codec struct {
	pt       int
	name     string // as in rtpmap: PCMU, PCMA, G722, opus, telephone-event, CN
	clock    int    // RTP clock rate
	channels int
}

// mime is the codec's MIME type, as audio.NewPacketDecoder takes it.
func (c codec) mime() string { return "audio/" + c.name }

// supported reports whether talkratio decodes the codec.
func (c codec) supported() bool {
	switch strings.ToUpper(c.name) {
	case "PCMU", "PCMA", "G722":
		return c.clock == 8000
	case "OPUS":
		return c.clock == 48000
	}
	return false
}

// rtpmap is the codec's a=rtpmap value.
func (c codec) rtpmap() string {
	s := fmt.Sprintf("%d %s/%d", c.pt, c.name, c.clock)
	if c.channels > 1 {
		s += "/" + strconv.Itoa(c.channels)
	}
	return s
}

// staticCodecs are the static payload types of RFC 3551 talkratio knows.
var staticCodecs = map[int]codec{
	0:  {0, "PCMU", 8000, 1},
	8:  {8, "PCMA", 8000, 1},
	9:  {9, "G722", 8000, 1},
	13: {13, "CN", 8000, 1},
}

// mline is one m-line of an offer.
type mline struct {
	media   string // audio, video, ...
	port    int
	proto   string
	formats []string
	label   string
	dir     string
	addr    netip.Addr // connection address (0.0.0.0 when held the RFC 2543 way)
	codecs  []codec    // the formats talkratio could read, in offer order
	dtmf    *codec     // telephone-event at the audio's rate, if offered
}

// sending reports whether the SRC will send media on the m-line.
func (m *mline) sending() bool {
	return m.port != 0 && (m.dir == dirSendOnly || m.dir == dirSendRecv) && !m.addr.IsUnspecified()
}

// choose picks the codec to receive: the first offered that talkratio
// decodes (the SRC lists its preference first).
func (m *mline) choose() (codec, bool) {
	for _, c := range m.codecs {
		if c.supported() {
			return c, true
		}
	}
	return codec{}, false
}

// offer is a parsed SDP offer.
type offer struct {
	lines []mline
}

var errSDP = errors.New("malformed SDP")

// parseOffer reads an SDP offer (RFC 4566).
func parseOffer(b []byte) (*offer, error) {
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("%w: %v", errSDP, err)
	}
	if len(sd.MediaDescriptions) == 0 {
		return nil, fmt.Errorf("%w: no m-line", errSDP)
	}
	if len(sd.MediaDescriptions) > maxMediaLines {
		return nil, fmt.Errorf("%w: %d m-lines (at most %d)", errSDP, len(sd.MediaDescriptions), maxMediaLines)
	}
	sessAddr, err := connAddr(sd.ConnectionInformation)
	if err != nil {
		return nil, err
	}
	sessDir := direction(sd.Attributes, dirSendRecv)
	o := &offer{}
	for i, md := range sd.MediaDescriptions {
		m := mline{
			media:   md.MediaName.Media,
			port:    md.MediaName.Port.Value,
			proto:   strings.Join(md.MediaName.Protos, "/"),
			formats: md.MediaName.Formats,
			dir:     direction(md.Attributes, sessDir),
			addr:    sessAddr,
		}
		if m.port < 0 || m.port > 65535 {
			return nil, fmt.Errorf("%w: m-line %d port %d", errSDP, i, m.port)
		}
		if len(m.formats) == 0 {
			return nil, fmt.Errorf("%w: m-line %d has no formats", errSDP, i)
		}
		if md.ConnectionInformation != nil {
			a, err := connAddr(md.ConnectionInformation)
			if err != nil {
				return nil, err
			}
			m.addr = a
		}
		if !m.addr.IsValid() && m.port != 0 {
			return nil, fmt.Errorf("%w: m-line %d has no connection address", errSDP, i)
		}
		if v, ok := attr(md.Attributes, "label"); ok {
			m.label = strings.TrimSpace(v)
		}
		if m.media == "audio" && (m.proto == "RTP/AVP" || m.proto == "RTP/AVPF") {
			if err := m.readCodecs(md.Attributes); err != nil {
				return nil, fmt.Errorf("%w: m-line %d: %v", errSDP, i, err)
			}
		}
		o.lines = append(o.lines, m)
	}
	return o, nil
}

// readCodecs maps the m-line's payload types to codecs: static ones by
// RFC 3551, dynamic ones by their rtpmap.
func (m *mline) readCodecs(attrs []sdp.Attribute) error {
	maps := map[int]codec{}
	for _, a := range attrs {
		if a.Key != "rtpmap" {
			continue
		}
		c, err := parseRTPMap(a.Value)
		if err != nil {
			return err
		}
		maps[c.pt] = c
	}
	for _, f := range m.formats {
		pt, err := strconv.Atoi(f)
		if err != nil || pt < 0 || pt > 127 {
			return fmt.Errorf("payload type %q", f)
		}
		c, ok := maps[pt]
		if !ok {
			if c, ok = staticCodecs[pt]; !ok {
				continue // a dynamic type without rtpmap: unusable
			}
		}
		if strings.EqualFold(c.name, "telephone-event") {
			if m.dtmf == nil {
				cc := c
				m.dtmf = &cc
			}
			continue
		}
		m.codecs = append(m.codecs, c)
	}
	return nil
}

// parseRTPMap reads "<pt> <name>/<clock>[/<channels>]".
func parseRTPMap(v string) (codec, error) {
	ptStr, enc, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return codec{}, fmt.Errorf("rtpmap %q", v)
	}
	pt, err := strconv.Atoi(ptStr)
	if err != nil || pt < 0 || pt > 127 {
		return codec{}, fmt.Errorf("rtpmap payload type %q", ptStr)
	}
	parts := strings.Split(strings.TrimSpace(enc), "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" {
		return codec{}, fmt.Errorf("rtpmap encoding %q", enc)
	}
	clock, err := strconv.Atoi(parts[1])
	if err != nil || clock <= 0 || clock > 192000 {
		return codec{}, fmt.Errorf("rtpmap clock rate %q", parts[1])
	}
	ch := 1
	if len(parts) == 3 {
		if ch, err = strconv.Atoi(parts[2]); err != nil || ch < 1 || ch > 8 {
			return codec{}, fmt.Errorf("rtpmap channels %q", parts[2])
		}
	}
	return codec{pt: pt, name: parts[0], clock: clock, channels: ch}, nil
}

func connAddr(ci *sdp.ConnectionInformation) (netip.Addr, error) {
	if ci == nil || ci.Address == nil {
		return netip.Addr{}, nil
	}
	if ci.NetworkType != "IN" {
		return netip.Addr{}, fmt.Errorf("%w: network type %q", errSDP, ci.NetworkType)
	}
	a, err := netip.ParseAddr(ci.Address.Address)
	if err != nil {
		// A host name: SRCs send addresses; resolving names for media
		// would let a request make the service look up any name.
		return netip.Addr{}, fmt.Errorf("%w: connection address %q is not an IP address", errSDP, ci.Address.Address)
	}
	return a.Unmap(), nil
}

func attr(attrs []sdp.Attribute, key string) (string, bool) {
	for _, a := range attrs {
		if a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

func direction(attrs []sdp.Attribute, def string) string {
	for _, a := range attrs {
		switch a.Key {
		case dirSendRecv, dirSendOnly, dirRecvOnly, dirInactive:
			return a.Key
		}
	}
	return def
}

// answerLine is how talkratio answers one m-line.
type answerLine struct {
	port  int   // 0: rejected
	codec codec // the codec to receive
	dtmf  *codec
	dir   string // recvonly or inactive
}

// buildAnswer writes the SDP answer (RFC 3264): one m-line per offered
// one, in order; a rejected one with port 0 and its first format.
func buildAnswer(o *offer, ans []answerLine, ip netip.Addr, sessID, version uint64) []byte {
	ipType := "IP4"
	if ip.Is6() {
		ipType = "IP6"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=talkratio %d %d IN %s %s\r\ns=talkratio\r\nc=IN %s %s\r\nt=0 0\r\n", sessID, version, ipType, ip, ipType, ip)
	for i, m := range o.lines {
		a := ans[i]
		if a.port == 0 {
			fmt.Fprintf(&b, "m=%s 0 %s %s\r\n", m.media, m.proto, m.formats[0])
			continue
		}
		pts := strconv.Itoa(a.codec.pt)
		if a.dtmf != nil {
			pts += " " + strconv.Itoa(a.dtmf.pt)
		}
		fmt.Fprintf(&b, "m=audio %d %s %s\r\n", a.port, m.proto, pts)
		fmt.Fprintf(&b, "a=rtpmap:%s\r\n", a.codec.rtpmap())
		if a.dtmf != nil {
			fmt.Fprintf(&b, "a=rtpmap:%s\r\na=fmtp:%d 0-16\r\n", a.dtmf.rtpmap(), a.dtmf.pt)
		}
		if m.label != "" {
			fmt.Fprintf(&b, "a=label:%s\r\n", m.label)
		}
		fmt.Fprintf(&b, "a=%s\r\n", a.dir)
	}
	return []byte(b.String())
}
