package whip

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"

	"talkratio/reply"
	"talkratio/tally"
	"talkratio/whip/whiptest"
)

var (
	liteTwo    = rolePlan{mode: twoTracks, byMid: map[string]tally.Role{"0": tally.Rep, "1": tally.Customer}}
	liteStereo = rolePlan{mode: stereoTrack}
)

// liteOpus is whiptest.Opus with each old string replaced by its new one
// (pairs, as strings.NewReplacer takes them): each variant differs from a
// section known to be served in the one way its case is about. An old
// string that is not there would make the case test nothing, so it panics.
func liteOpus(oldnew ...string) string {
	for i := 0; i < len(oldnew); i += 2 {
		if !strings.Contains(whiptest.Opus, oldnew[i]) {
			panic("whiptest.Opus has no " + strconv.Quote(oldnew[i]))
		}
	}
	return strings.NewReplacer(oldnew...).Replace(whiptest.Opus)
}

// liteWith adds attribute lines to an Opus section.
func liteWith(attrs ...string) string {
	return liteOpus("a=rtcp-mux\r\n", "a=rtcp-mux\r\n"+strings.Join(attrs, "\r\n")+"\r\n")
}

var (
	litePCMU = liteOpus("SAVPF 111", "SAVPF 0", "a=rtpmap:111 opus/48000/2\r\n", "")
	liteExt  = liteWith("a=extmap:4 " + midExtensionURI)
)

func mustLite(t *testing.T, offer string, plan rolePlan) *liteOffer {
	t.Helper()
	o, err := parseLiteOffer([]byte(offer), plan)
	if err != nil {
		t.Fatalf("parseLiteOffer: %v", err)
	}
	return o
}

// lineWant is what a test checks of a liteLine. The codec fields are only
// compared on accepted lines: a refused line's codec is never used.
type lineWant struct {
	mid, media, format, direction string
	codecs                        string // "PT MIME", comma-separated, in answer order
	accept                        bool
	extID                         uint8
}

func lineOf(l *liteLine) lineWant {
	got := lineWant{mid: l.mid, media: l.media, format: l.format, accept: l.accept, extID: l.midExtID}
	if l.accept {
		var cs []string
		for _, c := range l.codecs {
			cs = append(cs, fmt.Sprintf("%d %s", c.pt, c.mime))
		}
		got.codecs, got.direction = strings.Join(cs, ","), l.direction
	}
	return got
}

func TestLiteParseOffer(t *testing.T) {
	opus := lineWant{media: "audio", format: "111", accept: true, codecs: "111 audio/opus", direction: "recvonly"}
	at := func(w lineWant, mid, format string) lineWant { w.mid, w.format = mid, format; return w }
	for _, tc := range []struct {
		name, offer string
		plan        rolePlan
		lines       []lineWant
		ssrcs       map[uint32]string // SSRC -> mid of its line
		code        int               // the refusal's HTTP status; 0: accepted
		msg         string            // what the refusal must mention
	}{
		{name: "two Opus tracks", offer: whiptest.Offer(whiptest.Opus, whiptest.Opus), plan: liteTwo,
			lines: []lineWant{at(opus, "0", "111"), at(opus, "1", "111")}},
		// Every codec talkratio decodes is answered, in the offer's
		// order: the publisher's track picks among them.
		{name: "static types and Opus",
			offer: whiptest.Offer(liteOpus("SAVPF 111", "SAVPF 0 9 8 111", "a=rtpmap:111", "a=rtpmap:0 PCMU/8000\r\na=rtpmap:9 G722/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:111")),
			plan:  liteStereo, lines: []lineWant{{mid: "0", media: "audio", format: "0", accept: true, codecs: "0 audio/PCMU,8 audio/PCMA,111 audio/opus", direction: "recvonly"}}},
		{name: "PCMU alone", offer: whiptest.Offer(litePCMU), plan: liteStereo,
			lines: []lineWant{{mid: "0", media: "audio", format: "0", accept: true, codecs: "0 audio/PCMU", direction: "recvonly"}}},
		{name: "PCMA alone", offer: whiptest.Offer(liteOpus("SAVPF 111", "SAVPF 8", "a=rtpmap:111 opus/48000/2\r\n", "")), plan: liteStereo,
			lines: []lineWant{{mid: "0", media: "audio", format: "8", accept: true, codecs: "8 audio/PCMA", direction: "recvonly"}}},
		{name: "video refused", offer: whiptest.Offer(whiptest.Opus, whiptest.Video), plan: liteTwo,
			lines: []lineWant{at(opus, "0", "111"), {mid: "1", media: "video", format: "96"}}},
		{name: "audio line the plan has no role for",
			offer: whiptest.Offer(whiptest.Opus, whiptest.Opus), plan: rolePlan{mode: twoTracks, byMid: map[string]tally.Role{"0": tally.Rep}},
			lines: []lineWant{at(opus, "0", "111"), {mid: "1", media: "audio", format: "111"}}},
		{name: "publisher that sends nothing", offer: whiptest.Offer(liteOpus("a=sendonly", "a=recvonly")), plan: liteStereo,
			lines: []lineWant{{mid: "0", media: "audio", format: "111", accept: true, codecs: "111 audio/opus", direction: "inactive"}}},
		{name: "a=ssrc and the mid extension",
			offer: whiptest.Offer(liteWith("a=ssrc:1234 cname:x", "a=extmap:4 "+midExtensionURI), liteWith("a=ssrc:5678 cname:y")), plan: liteTwo,
			lines: []lineWant{{mid: "0", media: "audio", format: "111", accept: true, codecs: "111 audio/opus", direction: "recvonly", extID: 4}, at(opus, "1", "111")},
			ssrcs: map[uint32]string{1234: "0", 5678: "1"}},
		{name: "malformed", offer: "not SDP", plan: liteStereo, code: 400, msg: "malformed"},
		{name: "no ice-ufrag", offer: whiptest.Offer(liteOpus("a=ice-ufrag:", "a=x-ice-ufrag:")), plan: liteStereo, code: 400, msg: "ice-ufrag"},
		{name: "no fingerprint", offer: whiptest.Offer(liteOpus("a=fingerprint:", "a=x-fingerprint:")), plan: liteStereo, code: 400, msg: "fingerprint"},
		{name: "unknown fingerprint hash", offer: whiptest.Offer(liteOpus("sha-256", "md5")), plan: liteStereo, code: 400, msg: "fingerprint"},
		{name: "setup:passive", offer: whiptest.Offer(liteOpus("a=setup:actpass", "a=setup:passive")), plan: liteStereo, code: 422, msg: "setup:passive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseLiteOffer([]byte(tc.offer), tc.plan)
			if tc.code != 0 {
				var re *reply.Error
				if !errors.As(err, &re) || re.Code != tc.code || !strings.Contains(re.Msg, tc.msg) {
					t.Fatalf("got %v (%#v), want a %d that mentions %q", err, re, tc.code, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []lineWant
			for _, l := range o.lines {
				got = append(got, lineOf(l))
			}
			if !slices.Equal(got, tc.lines) {
				t.Errorf("lines:\n got %+v\nwant %+v", got, tc.lines)
			}
			ssrcs := map[uint32]string{}
			for ssrc, l := range o.ssrcMid {
				ssrcs[ssrc] = l.mid
			}
			if !maps.Equal(ssrcs, tc.ssrcs) {
				t.Errorf("SSRCs (to mids) %v, want %v", ssrcs, tc.ssrcs)
			}
		})
	}
}

func TestLiteLineFor(t *testing.T) {
	ssrc := func(n string) string { return liteWith("a=ssrc:" + n + " cname:x") }
	withMid := func(ssrc uint32, mid string) *rtp.Header {
		h := &rtp.Header{SSRC: ssrc, Extension: true, ExtensionProfile: 0xBEDE}
		_ = h.SetExtension(4, []byte(mid)) // cannot fail: a one-byte id and a short value
		return h
	}
	for _, tc := range []struct {
		name, offer string
		plan        rolePlan
		h           *rtp.Header
		mid         string // "": no line
	}{
		{"by a=ssrc", whiptest.Offer(ssrc("1111"), ssrc("2222")), liteTwo, &rtp.Header{SSRC: 2222}, "1"},
		{"an SSRC no a=ssrc names", whiptest.Offer(ssrc("1111"), ssrc("2222")), liteTwo, &rtp.Header{SSRC: 3333}, ""},
		{"by the mid extension", whiptest.Offer(liteExt, liteExt), liteTwo, withMid(99, "1"), "1"},
		{"by the mid extension, first line", whiptest.Offer(liteExt, liteExt), liteTwo, withMid(99, "0"), "0"},
		{"a mid no line has", whiptest.Offer(liteExt, liteExt), liteTwo, withMid(99, "7"), ""},
		{"the only line", whiptest.Offer(whiptest.Opus), liteStereo, &rtp.Header{SSRC: 42}, "0"},
		{"the only accepted line", whiptest.Offer(whiptest.Opus, whiptest.Video), liteTwo, &rtp.Header{SSRC: 42}, "0"},
		{"two lines, nothing to tell", whiptest.Offer(whiptest.Opus, whiptest.Opus), liteTwo, &rtp.Header{SSRC: 42}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := "" // no line
			if l := mustLite(t, tc.offer, tc.plan).lineFor(tc.h); l != nil {
				got = l.mid
			}
			if got != tc.mid {
				t.Errorf("got mid %q, want %q", got, tc.mid)
			}
		})
	}
}

func TestLiteAnswer(t *testing.T) {
	const pwd = "abcdefghijklmnopqrstuvwx"
	fec := liteWith("a=fmtp:111 minptime=10;useinbandfec=1")
	type ansLine struct {
		port   int
		format string
		fmtp   []string // what its a=fmtp must hold; nil: no a=fmtp
	}
	wb := "maxplaybackrate=16000"
	for _, tc := range []struct {
		name, offer string
		plan        rolePlan
		group       string // the a=group value, "" for none
		lines       []ansLine
		accepted    bool
	}{
		{"two Opus tracks beside video", whiptest.Offer(fec, whiptest.Opus, whiptest.Video), liteTwo, "BUNDLE 0 1",
			[]ansLine{{40000, "111", []string{"minptime=10", "useinbandfec=1", wb}}, {40000, "111", []string{wb}}, {0, "96", nil}}, true},
		{"PCMU unbundled", unbundle(whiptest.Offer(litePCMU)), rolePlan{mode: perRole, role: tally.Rep}, "",
			[]ansLine{{40000, "0", nil}}, true},
		{"nothing taken", unbundle(whiptest.Offer(whiptest.Opus)), rolePlan{mode: twoTracks}, "",
			[]ansLine{{0, "111", nil}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			answer := liteAnswer(mustLite(t, tc.offer, tc.plan), liteTransport{
				port: 40000, cands: []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.0.0.5")},
				fingerprint: "AA:BB", ufrag: "abcd1234", pwd: pwd,
			})
			var sd sdp.SessionDescription
			if err := sd.Unmarshal([]byte(answer)); err != nil {
				t.Fatalf("answer does not parse: %v\n%s", err, answer)
			}
			if _, ok := sd.Attribute("ice-lite"); !ok {
				t.Error("no session-level a=ice-lite")
			}
			if g, _ := sd.Attribute(sdp.AttrKeyGroup); g != tc.group {
				t.Errorf("a=group %q, want %q", g, tc.group)
			}
			if len(sd.MediaDescriptions) != len(tc.lines) {
				t.Fatalf("%d m-lines, want %d:\n%s", len(sd.MediaDescriptions), len(tc.lines), answer)
			}
			for i, md := range sd.MediaDescriptions {
				want := tc.lines[i]
				if md.MediaName.Port.Value != want.port || !slices.Equal(md.MediaName.Formats, []string{want.format}) {
					t.Errorf("m-line %d: port %d formats %v, want %d [%s]", i, md.MediaName.Port.Value, md.MediaName.Formats, want.port, want.format)
				}
				if want.port == 0 {
					continue
				}
				checkLiteLine(t, i, md, pwd, want.format, want.fmtp)
			}
			if accepted(answer) != tc.accepted {
				t.Errorf("accepted(answer) = %v, want %v", !tc.accepted, tc.accepted)
			}
		})
	}
}

// checkLiteLine checks an accepted m-line of the answer: receive-only,
// the service's credentials, fingerprint and candidates, and its fmtp.
func checkLiteLine(t *testing.T, i int, md *sdp.MediaDescription, pwd, pt string, fmtpHas []string) {
	t.Helper()
	for k, v := range map[string]string{"recvonly": "", "setup": "passive", "rtcp-mux": "", "ice-ufrag": "abcd1234",
		"ice-pwd": pwd, "fingerprint": "sha-256 AA:BB", "end-of-candidates": ""} {
		if got, ok := md.Attribute(k); !ok || got != v {
			t.Errorf("m-line %d: a=%s is %q (present %v), want %q", i, k, got, ok, v)
		}
	}
	// Host candidates on the shared port, as "component transport
	// address port typ host" (foundation and priority cut out), the first
	// address preferred.
	var cands []string
	var prios []int
	var fmtpLine string
	for _, a := range md.Attributes {
		switch f := strings.Fields(a.Value); {
		case a.Key == "candidate" && len(f) >= 4:
			p, _ := strconv.Atoi(f[3])
			prios = append(prios, p)
			cands = append(cands, strings.Join(append(f[1:3:3], f[4:]...), " "))
		case a.Key == "fmtp":
			fmtpLine = a.Value
		}
	}
	want := []string{"1 udp 127.0.0.1 40000 typ host", "1 udp 10.0.0.5 40000 typ host"}
	if !slices.Equal(cands, want) || prios[0] <= prios[1] {
		t.Errorf("m-line %d: candidates %q priorities %v, want %q, the first preferred", i, cands, prios, want)
	}
	if (fmtpLine != "") != (fmtpHas != nil) || fmtpHas != nil && !strings.HasPrefix(fmtpLine, pt+" ") {
		t.Errorf("m-line %d: a=fmtp:%q, want one for %s: %v", i, fmtpLine, pt, fmtpHas != nil)
	}
	for _, p := range fmtpHas {
		if !strings.Contains(fmtpLine, p) {
			t.Errorf("m-line %d: a=fmtp:%s lacks %s", i, fmtpLine, p)
		}
	}
}
