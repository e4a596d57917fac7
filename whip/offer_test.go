package whip

import (
	"net/url"
	"strings"
	"testing"

	"talkratio/vad"
)

// offerSDP builds a minimal offer with one m-line per codec list.
func offerSDP(media ...string) string {
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

const (
	opusMedia = "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\na=sendonly\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\na=setup:actpass\r\na=rtcp-mux\r\n"
	g722Media = "m=audio 9 UDP/TLS/RTP/SAVPF 9 13\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:9 G722/8000\r\na=rtpmap:13 CN/8000\r\na=sendonly\r\n"
	pcmuMedia = "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\na=sendonly\r\n"
	videoOnly = "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 VP8/90000\r\na=sendonly\r\n"
)

func TestPlanRoles(t *testing.T) {
	named := &offerInfo{audio: []audioMedia{{mid: "a", streamID: "customer"}, {mid: "b", streamID: "rep"}}}
	p, err := planRoles(named, nil)
	if err != nil || p.byMid["b"] != 0 || p.byMid["a"] != 1 {
		t.Errorf("named streams: %+v %v", p, err)
	}
	ordered := &offerInfo{audio: []audioMedia{{mid: "0", streamID: "x"}, {mid: "1", streamID: "y"}}}
	p, err = planRoles(ordered, nil)
	if err != nil || p.rolesFor("0")[0] != 0 || p.rolesFor("1")[0] != 1 {
		t.Errorf("m-line order: %+v %v", p, err)
	}
	stereo := &offerInfo{audio: []audioMedia{{mid: "0", codecs: []string{"opus"}}}}
	p, err = planRoles(stereo, map[string][]string{"rep-channel": {"right"}})
	if err != nil || p.mode != stereoTrack || p.rolesFor("0")[0] != 1 {
		t.Errorf("stereo right: %+v %v", p, err)
	}
}

// FuzzWHIPOffer throws arbitrary SDP and query strings at the offer checks
// that run before pion sees anything: they must answer with an error or a
// plan, never panic, and a plan must map at least one role.
func FuzzWHIPOffer(f *testing.F) {
	f.Add(offerSDP(opusMedia, opusMedia), "")
	f.Add(offerSDP(opusMedia), "rep-channel=right")
	f.Add(offerSDP(pcmuMedia), "role=customer&call=abc")
	f.Add(offerSDP(g722Media), "")
	f.Add(offerSDP(videoOnly), "role=rep")
	f.Add("v=0\r\nm=audio 9 RTP/AVP 0 8\r\n", "role=rep")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, sdp, query string) {
		info, err := inspectOffer([]byte(sdp))
		if err != nil {
			return
		}
		q, _ := url.ParseQuery(query)
		plan, err := planRoles(info, q)
		if err != nil {
			return
		}
		if len(plan.carried()) == 0 {
			t.Fatalf("plan carries no role: %+v", plan)
		}
		for _, am := range info.audio {
			for _, r := range plan.rolesFor(am.mid) {
				if r != vad.Rep && r != vad.Customer {
					t.Fatalf("bad role %v", r)
				}
			}
		}
	})
}
