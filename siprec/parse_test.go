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
	"talkratio/siprec/rsmeta"
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

func requestBody(t testing.TB, req *sip.Request) (*offer, *rsmeta.Metadata) {
	t.Helper()
	b, err := rsmeta.Split(req.ContentType().Value(), req.Body())
	if err != nil {
		t.Fatal(err)
	}
	o, err := parseOffer(b.SDP)
	if err != nil {
		t.Fatal(err)
	}
	md, err := rsmeta.ParseMetadata(b.Metadata)
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
			rule, err := rsmeta.ParseRepRule(tc.rule)
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
			if a.rep.Label() != tc.rep || a.customer.Label() != tc.cust || a.byRule != tc.byRule {
				t.Errorf("rep %q customer %q by rule %v; want %q %q %v", a.rep.Label(), a.customer.Label(), a.byRule, tc.rep, tc.cust, tc.byRule)
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
	a := assignRoles(lines, usable, nil, rsmeta.RepRule{})
	if got := a.roles; got[0] != int(ingest.Rep) || got[1] != roleNone || got[2] != int(ingest.Customer) || got[3] != roleNone {
		t.Errorf("roles %v", got)
	}
	// A single stream carries the rep only.
	a = assignRoles(lines[:1], usable[:1], nil, rsmeta.RepRule{})
	if a.roles[0] != int(ingest.Rep) {
		t.Errorf("one stream: roles %v", a.roles)
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
