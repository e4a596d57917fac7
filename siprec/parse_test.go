package siprec

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"talkratio/ingest"
)

// readInvite parses a testdata SIP message.
func readInvite(t testing.TB, name string) *sip.Request {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := sip.ParseMessage(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	req, ok := msg.(*sip.Request)
	if !ok {
		t.Fatalf("%s is no request", name)
	}
	return req
}

func requestBody(t testing.TB, req *sip.Request) (*offer, *Metadata) {
	t.Helper()
	b, err := splitBody(req.ContentType().Value(), req.Body())
	if err != nil {
		t.Fatal(err)
	}
	o, err := parseOffer(b.sdp)
	if err != nil {
		t.Fatal(err)
	}
	md, err := ParseMetadata(b.metadata)
	if err != nil {
		t.Fatal(err)
	}
	return o, md
}

// TestVendorInvites reads INVITEs in the shapes SRCs send (RFC 7866
// examples, Cisco CUBE, AudioCodes with the draft metadata namespace,
// Oracle/Acme with aor elements and a video stream) and checks what
// talkratio makes of them.
func TestVendorInvites(t *testing.T) {
	for _, tc := range []struct {
		file      string
		rule      string
		codecs    []string // chosen per m-line ("" rejected)
		roles     []int
		rep, cust string
		byRule    bool
	}{
		{"invite-rfc7866.sip", "", []string{"PCMU", "PCMU"}, []int{0, 1}, "Bob Buyer", "Alice Agent", false},
		{"invite-rfc7866.sip", "sip:*@sales.example.com", []string{"PCMU", "PCMU"}, []int{1, 0}, "Alice Agent", "Bob Buyer", true},
		{"invite-rfc7866.sip", "sip:*@elsewhere.example.com", []string{"PCMU", "PCMU"}, []int{0, 1}, "Bob Buyer", "Alice Agent", false},
		{"invite-cube.sip", "1000-1999", []string{"PCMU", "PCMU"}, []int{1, 0}, "sip:1042@10.10.10.1", "sip:4085550100@10.10.10.1", true},
		{"invite-cube.sip", "", []string{"PCMU", "PCMU"}, []int{0, 1}, "sip:4085550100@10.10.10.1", "sip:1042@10.10.10.1", false},
		{"invite-audiocodes.sip", "1000-1999", []string{"PCMA", "PCMA"}, []int{1, 0}, "Dana Rep", "Carol Customer", true},
		{"invite-acme.sip", "*@sales.example.com", []string{"opus", "opus", ""}, []int{1, 0, roleNone}, "Frank Sales", "Erin External", true},
	} {
		t.Run(tc.file+"/"+tc.rule, func(t *testing.T) {
			req := readInvite(t, tc.file)
			o, md := requestBody(t, req)
			rule, err := ParseRepRule(tc.rule)
			if err != nil {
				t.Fatal(err)
			}
			usable := make([]bool, len(o.lines))
			for i := range o.lines {
				c, ok := o.lines[i].choose()
				name := ""
				if ok && o.lines[i].media == "audio" {
					usable[i], name = true, c.name
				}
				if name != tc.codecs[i] {
					t.Errorf("m-line %d: codec %q, want %q", i, name, tc.codecs[i])
				}
				if usable[i] && (!o.lines[i].sending() || o.lines[i].label == "") {
					t.Errorf("m-line %d: sending %v, label %q", i, o.lines[i].sending(), o.lines[i].label)
				}
			}
			a := assignRoles(o.lines, usable, md, rule)
			if strings.Join(intStrings(a.roles), ",") != strings.Join(intStrings(tc.roles), ",") {
				t.Errorf("roles %v, want %v", a.roles, tc.roles)
			}
			if a.rep.label() != tc.rep || a.customer.label() != tc.cust || a.byRule != tc.byRule {
				t.Errorf("rep %q customer %q by rule %v; want %q %q %v", a.rep.label(), a.customer.label(), a.byRule, tc.rep, tc.cust, tc.byRule)
			}
			// The answer has an m-line per offered one, recvonly where
			// read, port 0 where not.
			ans := make([]answerLine, len(o.lines))
			for i, r := range a.roles {
				if r != roleNone {
					c, _ := o.lines[i].choose()
					ans[i] = answerLine{port: 30000 + 2*i, codec: c, dtmf: o.lines[i].dtmf, dir: answerDir(&o.lines[i])}
				}
			}
			sdpAns := string(buildAnswer(o, ans, netip.MustParseAddr("192.0.2.7"), 1, 2))
			back, err := parseOffer([]byte(sdpAns))
			if err != nil {
				t.Fatalf("answer does not parse: %v\n%s", err, sdpAns)
			}
			for i, m := range back.lines {
				if (m.port != 0) != (tc.roles[i] != roleNone) {
					t.Errorf("answer m-line %d port %d", i, m.port)
				}
				if m.port != 0 && (m.dir != dirRecvOnly || m.label != o.lines[i].label) {
					t.Errorf("answer m-line %d: %s label %q", i, m.dir, m.label)
				}
			}
		})
	}
}

func intStrings(v []int) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = string(rune('0' + x + 1))
	}
	return out
}

func TestAssignRolesWithoutMetadata(t *testing.T) {
	lines := []mline{{media: "audio", label: "1"}, {media: "video"}, {media: "audio", label: "2"}, {media: "audio", label: "3"}}
	usable := []bool{true, false, true, true}
	a := assignRoles(lines, usable, nil, RepRule{})
	if got := a.roles; got[0] != int(ingest.Rep) || got[1] != roleNone || got[2] != int(ingest.Customer) || got[3] != roleNone {
		t.Errorf("roles %v", got)
	}
	// A single stream carries the rep only.
	a = assignRoles(lines[:1], usable[:1], nil, RepRule{})
	if a.roles[0] != int(ingest.Rep) {
		t.Errorf("one stream: roles %v", a.roles)
	}
}

func TestRepRule(t *testing.T) {
	for _, tc := range []struct {
		rule string
		aor  string
		want bool
	}{
		{"sip:*@sales.example.com", "sip:alice@sales.example.com", true},
		{"sip:*@sales.example.com", "<sip:Alice@Sales.Example.com;transport=tcp>", true},
		{"sip:*@sales.example.com", "sips:alice@sales.example.com", false},
		{"*@sales.example.com", "sips:alice@sales.example.com", true},
		{"sip:*@sales.example.com", "sip:alice@sales.example.com.evil.net", false},
		{"1000-1999", "sip:1042@10.1.1.1", true},
		{"1000-1999", "sip:2042@10.1.1.1", false},
		{"1000-1999", "tel:1500", true},
		{"1000-1999", "sip:10420@pbx", false},
		{"1000-1999", "sip:alice@pbx", false},
		{"1000-1999, sip:*@sales.example.com", "sip:bob@sales.example.com", true},
		{"tel:+1555*", "tel:+15551234567", true},
		{"sip:alice@example.com", "sip:alice@example.com", true},
		{"alice", "sip:alice@example.com", true},
		{"alice", "sip:alicia@example.com", false},
		{"", "sip:alice@example.com", false},
		{"*", "", false},
	} {
		r, err := ParseRepRule(tc.rule)
		if err != nil {
			t.Fatalf("%q: %v", tc.rule, err)
		}
		if got := r.Match(tc.aor); got != tc.want {
			t.Errorf("rule %q, AOR %q: %v", tc.rule, tc.aor, got)
		}
	}
	for _, bad := range []string{"2000-1000", "1-1234567890123456"} {
		if _, err := ParseRepRule(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"a*b", "ab", true}, {"a*b", "axxb", true}, {"a*b", "axxbc", false},
		{"*@x.com", "bob@x.com", true}, {"a**b*c", "abxc", true}, {"abc", "ab", false},
		{strings.Repeat("*a", 20), strings.Repeat("a", 1000), true},
	} {
		if got := globMatch(tc.p, tc.s); got != tc.want {
			t.Errorf("%q ~ %q: %v", tc.p, tc.s, got)
		}
	}
}

func TestSplitBody(t *testing.T) {
	invite := readInvite(t, "invite-rfc7866.sip")
	multipart := string(invite.Body())
	ct := invite.ContentType().Value()
	for _, tc := range []struct {
		name, ct, body string
		err            error
		sdp, md        bool
	}{
		{"multipart", ct, multipart, nil, true, true},
		{"sdp only", "application/sdp", "v=0\r\n", nil, true, false},
		{"empty", "", "", nil, false, false},
		{"metadata only", "application/rs-metadata+xml", "<recording/>", nil, false, true},
		{"text", "text/plain", "hello", errUnsupportedType, false, false},
		{"no content type", "", "v=0", errMalformedBody, false, false},
		{"bad content type", "multipart/mixed;;=", multipart, errMalformedBody, false, false},
		{"no boundary", "multipart/mixed", multipart, errMalformedBody, false, false},
		{"wrong boundary", "multipart/mixed;boundary=other", multipart, errMalformedBody, false, false},
		{"truncated", ct, multipart[:len(multipart)/2], errMalformedBody, false, false},
		{"two sdp parts", ct, strings.Replace(multipart, "application/rs-metadata+xml", "application/sdp", 1), errMalformedBody, false, false},
		{"required unknown part", ct, strings.Replace(multipart, "Content-Type: application/rs-metadata+xml\r\nContent-Disposition: recording-session", "Content-Type: application/pidf+xml\r\nContent-Disposition: render;handling=required", 1), errUnsupportedType, false, false},
		{"optional unknown part", ct, strings.Replace(multipart, "Content-Type: application/rs-metadata+xml", "Content-Type: application/pidf+xml", 1), nil, true, false},
		{"too large", "application/sdp", strings.Repeat("x", maxBodyBytes+1), errMalformedBody, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := splitBody(tc.ct, []byte(tc.body))
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if err == nil && ((b.sdp != nil) != tc.sdp || (b.metadata != nil) != tc.md) {
				t.Errorf("sdp %v metadata %v", b.sdp != nil, b.metadata != nil)
			}
		})
	}
}

func TestParseOfferErrors(t *testing.T) {
	good := "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n"
	if _, err := parseOffer([]byte(good)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, sdp string }{
		{"garbage", "hello"},
		{"no m-line", "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"},
		{"host name", strings.Replace(good, "c=IN IP4 192.0.2.1", "c=IN IP4 media.example.com", 1)},
		{"no connection", strings.Replace(good, "c=IN IP4 192.0.2.1\r\n", "", 1)},
		{"bad payload type", strings.Replace(good, "RTP/AVP 0", "RTP/AVP x", 1)},
		{"bad rtpmap", good + "a=rtpmap:96 opus\r\n"},
		{"rtpmap clock", good + "a=rtpmap:96 opus/zero\r\n"},
		{"too many m-lines", good + strings.Repeat("m=audio 4000 RTP/AVP 0\r\n", maxMediaLines)},
	} {
		if _, err := parseOffer([]byte(tc.sdp)); !errors.Is(err, errSDP) {
			t.Errorf("%s: error %v", tc.name, err)
		}
	}
}

func TestHoldDetection(t *testing.T) {
	base := "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %s RTP/AVP 0\r\na=%s\r\n"
	for _, tc := range []struct {
		addr, port, dir string
		sending         bool
	}{
		{"192.0.2.1", "4000", "sendonly", true},
		{"192.0.2.1", "4000", "sendrecv", true},
		{"192.0.2.1", "4000", "inactive", false},
		{"192.0.2.1", "4000", "recvonly", false},
		{"0.0.0.0", "4000", "sendonly", false},
		{"192.0.2.1", "0", "sendonly", false},
	} {
		o, err := parseOffer([]byte(strings.NewReplacer("%s", "").Replace(sprintf3(base, tc.addr, tc.port, tc.dir))))
		if err != nil {
			t.Fatal(err)
		}
		if got := o.lines[0].sending(); got != tc.sending {
			t.Errorf("%+v: sending %v", tc, got)
		}
	}
}

func sprintf3(f, a, b, c string) string {
	return strings.Replace(strings.Replace(strings.Replace(f, "%s", a, 1), "%s", b, 1), "%s", c, 1)
}

func TestParseMetadata(t *testing.T) {
	for _, tc := range []struct {
		name, xml string
		ok        bool
	}{
		{"minimal", `<recording xmlns="urn:ietf:params:xml:ns:recording:1"/>`, true},
		{"not xml", `recording`, false},
		{"other root", `<html/>`, false},
		{"two roots", `<recording/><recording/>`, false},
		{"unclosed", `<recording><participant participant_id="a">`, false},
		{"participant without id", `<recording><participant><nameID aor="sip:a@b"/></participant></recording>`, false},
		{"stream without id", `<recording><stream><label>1</label></stream></recording>`, false},
		{"dtd", `<!DOCTYPE recording [<!ENTITY x "y">]><recording/>`, false},
		{"deep", `<recording>` + strings.Repeat("<x>", 40) + strings.Repeat("</x>", 40) + `</recording>`, false},
		{"many participants", `<recording>` + strings.Repeat(`<participant participant_id="p"/>`, maxMetadataItems+1) + `</recording>`, false},
	} {
		_, err := ParseMetadata([]byte(tc.xml))
		if (err == nil) != tc.ok {
			t.Errorf("%s: error %v", tc.name, err)
		}
		if err != nil && !errors.Is(err, errMetadata) {
			t.Errorf("%s: error %v is not errMetadata", tc.name, err)
		}
	}
	// A partial update renames a participant and keeps the rest.
	_, md := requestBody(t, readInvite(t, "invite-rfc7866.sip"))
	upd, err := ParseMetadata([]byte(`<recording xmlns='urn:ietf:params:xml:ns:recording:1'><datamode>partial</datamode>
		<participant participant_id="srfBElmCRp2QB23b7Mpk0w=="><nameID aor="sip:alice@sales.example.com"><name>Alice A.</name></nameID></participant></recording>`))
	if err != nil {
		t.Fatal(err)
	}
	m2 := md.update(upd)
	if p := m2.SenderOfLabel("97"); p == nil || p.Name != "Alice A." {
		t.Errorf("after update: %+v", p)
	}
	if p := m2.SenderOfLabel("96"); p == nil || p.Name != "Bob Buyer" {
		t.Errorf("after update: %+v", p)
	}
}

func TestPortRange(t *testing.T) {
	for _, tc := range []struct {
		s  string
		ok bool
	}{
		{"20000-20999", true}, {"20000-20001", true}, {"20000", false}, {"100-200", false},
		{"30000-20000", false}, {"20000-70000", false}, {"a-b", false},
	} {
		if _, err := ParsePortRange(tc.s); (err == nil) != tc.ok {
			t.Errorf("%q: %v", tc.s, err)
		}
	}
	p := newPorts(PortRange{40100, 40105}, netip.MustParseAddr("127.0.0.1"))
	p.taken = func(port int) bool { return port == 40102 }
	var got []int
	conns := map[int]interface{ Close() error }{}
	for {
		c, port, err := p.open()
		if err != nil {
			break
		}
		defer c.Close()
		got = append(got, port)
		conns[port] = c
	}
	if len(got) != 2 || got[0] != 40100 || got[1] != 40104 {
		t.Errorf("ports %v, want 40100 40104 (even, 40102 taken)", got)
	}
	conns[40100].Close()
	p.release(40100)
	if c, port, err := p.open(); err != nil || port != 40100 {
		t.Errorf("after release: %d %v", port, err)
	} else {
		c.Close()
	}
}

func TestParseAllow(t *testing.T) {
	a, err := ParseAllow("10.0.0.0/8, 192.0.2.7, ::1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ip   string
		want bool
	}{{"10.1.2.3", true}, {"192.0.2.7", true}, {"192.0.2.8", false}, {"::1", true}, {"::ffff:10.0.0.1", true}} {
		if got := allowedAddr(a, netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("%s: %v", tc.ip, got)
		}
	}
	if _, err := ParseAllow("10.0.0.0/33"); err == nil {
		t.Error("bad CIDR: no error")
	}
}
