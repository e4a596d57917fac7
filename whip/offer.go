package whip

import (
	"net/http"
	"strings"

	"github.com/pion/sdp/v3"

	"talkratio/call"
	"talkratio/reply"
	"talkratio/tally"
)

// roleMode says how a WHIP session's audio maps to the call's roles.
type roleMode int

const (
	// twoTracks: one session, two audio tracks; roles named by stream or
	// track id ("rep", "customer"), else by m-line order (rep first).
	twoTracks roleMode = iota
	// stereoTrack: one session, one stereo Opus track; channels map to
	// roles like a WAV's (rep on the left unless rep-channel=right).
	stereoTrack
	// perRole: one session per role (role=rep or role=customer), joined
	// into one call by call=ID.
	perRole
)

// rolePlan is how one session's tracks become roles.
type rolePlan struct {
	mode     roleMode
	byMid    map[string]tally.Role // twoTracks
	repRight bool                  // stereoTrack: the rep is on the right channel
	role     tally.Role            // perRole
}

// roles returns the role of each output channel of a track's decoder.
func (p rolePlan) rolesFor(mid string) []tally.Role {
	switch p.mode {
	case stereoTrack:
		if p.repRight {
			return []tally.Role{tally.Customer, tally.Rep}
		}
		return []tally.Role{tally.Rep, tally.Customer}
	case perRole:
		return []tally.Role{p.role}
	}
	if r, ok := p.byMid[mid]; ok {
		return []tally.Role{r}
	}
	return nil
}

// carried lists the roles the session brings to its call.
func (p rolePlan) carried() []tally.Role {
	if p.mode == perRole {
		return []tally.Role{p.role}
	}
	return []tally.Role{tally.Rep, tally.Customer}
}

// supportedCodec reports whether talkratio decodes an audio codec, by its
// SDP name in lower case.
func supportedCodec(name string) bool {
	return name == "opus" || name == "pcmu" || name == "pcma"
}

// offerInfo is what the server needs to know of an offer before pion sees
// it.
type offerInfo struct {
	audio  []audioMedia
	codecs []string // every audio codec offered, for error messages
	// bundled: the offer has an a=group:BUNDLE; media is the number of
	// m-lines of any kind.
	bundled bool
	media   int
}

type audioMedia struct {
	mid      string
	streamID string
	trackID  string
	codecs   []string
}

// inspectOffer parses the SDP and checks that it can be served: at least
// one audio m-line that offers a codec talkratio decodes.
func inspectOffer(body []byte) (*offerInfo, error) {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, reply.Errorf(http.StatusBadRequest, "malformed SDP offer: the body is empty")
	}
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(body); err != nil {
		return nil, reply.Errorf(http.StatusBadRequest, "malformed SDP offer: %v", err)
	}
	info := &offerInfo{media: len(sd.MediaDescriptions)}
	if g, ok := sd.Attribute(sdp.AttrKeyGroup); ok && strings.HasPrefix(g, "BUNDLE") {
		info.bundled = true
	}
	seen := map[string]bool{}
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 {
			continue
		}
		am := audioMedia{}
		am.mid, _ = md.Attribute("mid")
		if msid, ok := md.Attribute("msid"); ok {
			f := strings.Fields(msid)
			if len(f) > 0 {
				am.streamID = f[0]
			}
			if len(f) > 1 {
				am.trackID = f[1]
			}
		}
		names := map[string]string{"0": "pcmu", "8": "pcma"} // static payload types
		for _, a := range md.Attributes {
			if a.Key != "rtpmap" {
				continue
			}
			pt, enc, _ := strings.Cut(a.Value, " ")
			name, _, _ := strings.Cut(enc, "/")
			names[pt] = strings.ToLower(name)
		}
		for _, f := range md.MediaName.Formats {
			if n, ok := names[f]; ok {
				am.codecs = append(am.codecs, n)
				if !seen[n] {
					seen[n] = true
					info.codecs = append(info.codecs, n)
				}
			}
		}
		info.audio = append(info.audio, am)
	}
	if len(info.audio) == 0 {
		return nil, reply.Errorf(http.StatusUnprocessableEntity, "the offer has no audio: talkratio needs the rep's and the customer's audio")
	}
	if len(info.audio) > 2 {
		return nil, reply.Errorf(http.StatusUnprocessableEntity, "the offer has %d audio tracks: send two (rep and customer), one stereo track, or one per session with role=", len(info.audio))
	}
	if !info.bundled && info.media > 1 {
		return nil, reply.Errorf(http.StatusUnprocessableEntity, "the offer's %d m-lines are not bundled: talkratio takes media over one transport; add a=group:BUNDLE, or send one audio m-line per session (role=rep, role=customer)", info.media)
	}
	for _, am := range info.audio {
		ok := false
		for _, c := range am.codecs {
			ok = ok || supportedCodec(c)
		}
		if !ok {
			return nil, reply.Errorf(http.StatusUnprocessableEntity, "no supported audio codec in the offer (offered: %s); talkratio takes opus, PCMU and PCMA", strings.Join(am.codecs, ", "))
		}
	}
	return info, nil
}

// planRoles decides how the session's audio maps to roles, from the offer
// and the query parameters.
func planRoles(info *offerInfo, q map[string][]string) (rolePlan, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	role := strings.ToLower(get("role"))
	switch {
	case role != "":
		if len(info.audio) != 1 {
			return rolePlan{}, reply.Errorf(http.StatusUnprocessableEntity, "role=%s takes an offer with one audio track, this one has %d", role, len(info.audio))
		}
		switch role {
		case "rep":
			return rolePlan{mode: perRole, role: tally.Rep}, nil
		case "customer":
			return rolePlan{mode: perRole, role: tally.Customer}, nil
		}
		return rolePlan{}, reply.Errorf(http.StatusBadRequest, "role=%q: want rep or customer", role)
	case len(info.audio) == 1:
		am := info.audio[0]
		hasOpus := false
		for _, c := range am.codecs {
			hasOpus = hasOpus || c == "opus"
		}
		if !hasOpus {
			return rolePlan{}, reply.Errorf(http.StatusUnprocessableEntity, "one %s track carries one side of the call: add role=rep or role=customer (and call=ID to join the other side), or send stereo Opus", strings.ToUpper(am.codecs[0]))
		}
		rc := strings.ToLower(get("rep-channel"))
		right, err := call.RepOnRight(rc)
		if err != nil {
			return rolePlan{}, reply.Errorf(http.StatusBadRequest, "rep-channel=%q: %v", rc, err)
		}
		return rolePlan{mode: stereoTrack, repRight: right}, nil
	}
	// Two tracks: names first, then order.
	p := rolePlan{mode: twoTracks, byMid: map[string]tally.Role{}}
	named := map[tally.Role]string{}
	for _, am := range info.audio {
		for _, id := range []string{am.trackID, am.streamID} {
			switch strings.ToLower(id) {
			case "rep":
				named[tally.Rep] = am.mid
			case "customer":
				named[tally.Customer] = am.mid
			}
		}
	}
	if len(named) == 2 && named[tally.Rep] != named[tally.Customer] {
		p.byMid[named[tally.Rep]] = tally.Rep
		p.byMid[named[tally.Customer]] = tally.Customer
		return p, nil
	}
	if info.audio[0].mid == "" || info.audio[1].mid == "" || info.audio[0].mid == info.audio[1].mid {
		return rolePlan{}, reply.Errorf(http.StatusBadRequest, "the audio m-lines need distinct a=mid values")
	}
	p.byMid[info.audio[0].mid] = tally.Rep
	p.byMid[info.audio[1].mid] = tally.Customer
	return p, nil
}

// bundleOne makes an offer of one m-line without a=group:BUNDLE one that
// pion answers: pion rejects (port 0) every m-line outside a BUNDLE group,
// and one m-line on its own transport is the same as a group of one. The
// answer's group line is dropped again (unbundle), so that the client
// gets what it offered.
func bundleOne(offer []byte, info *offerInfo) []byte {
	if info.bundled || info.media != 1 || len(info.audio) != 1 || info.audio[0].mid == "" {
		return offer
	}
	s := string(offer)
	nl := "\r\n"
	if !strings.Contains(s, nl) {
		nl = "\n"
	}
	i := strings.Index(s, nl+"m=")
	if i < 0 {
		return offer
	}
	return []byte(s[:i] + nl + "a=group:BUNDLE " + info.audio[0].mid + s[i:])
}

// unbundle removes the group line from an answer to an offer that had
// none.
func unbundle(answer string) string {
	var out []string
	for _, l := range strings.SplitAfter(answer, "\n") {
		if !strings.HasPrefix(l, "a=group:BUNDLE") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}

// accepted reports whether an answer takes some audio: pion rejects an
// m-line it cannot serve with port 0, and an answer that rejects all of
// them is no session.
func accepted(answer string) bool {
	var sd sdp.SessionDescription
	if err := sd.Unmarshal([]byte(answer)); err != nil {
		return false
	}
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media == "audio" && md.MediaName.Port.Value != 0 {
			return true
		}
	}
	return false
}
