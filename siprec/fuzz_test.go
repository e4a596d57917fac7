package siprec

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func addInvites(f *testing.F, part func(*sip.Request) []byte) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.sip"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no testdata INVITEs: %v", err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if part == nil {
			f.Add(b)
			continue
		}
		msg, err := sip.ParseMessage(b)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(part(msg.(*sip.Request)))
	}
}

// FuzzSIPRequest takes a whole SIP message through what an INVITE goes
// through before the answer: the SIP parser, the body split, the SDP and
// metadata parsers, role assignment and the answer. Nothing may panic; an
// accepted offer gives an answer that parses.
func FuzzSIPRequest(f *testing.F) {
	addInvites(f, nil)
	f.Add([]byte("INVITE sip:a@b SIP/2.0\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("garbage"))
	rule, _ := ParseRepRule("sip:*@sales.example.com, 1000-1999")
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, err := sip.ParseMessage(b)
		if err != nil {
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok {
			return
		}
		ct := ""
		if h := req.ContentType(); h != nil {
			ct = h.Value()
		}
		body, err := splitBody(ct, req.Body())
		if err != nil {
			if !errors.Is(err, errMalformedBody) && !errors.Is(err, errUnsupportedType) {
				t.Fatalf("body error of no kind: %v", err)
			}
			return
		}
		checkOfferAndMetadata(t, body.sdp, body.metadata, rule)
	})
}

func checkOfferAndMetadata(t *testing.T, sdpBytes, mdBytes []byte, rule RepRule) {
	var md *Metadata
	if mdBytes != nil {
		var err error
		if md, err = ParseMetadata(mdBytes); err != nil {
			if !errors.Is(err, errMetadata) {
				t.Fatalf("metadata error of no kind: %v", err)
			}
			return
		}
	}
	if sdpBytes == nil {
		return
	}
	o, err := parseOffer(sdpBytes)
	if err != nil {
		if !errors.Is(err, errSDP) {
			t.Fatalf("SDP error of no kind: %v", err)
		}
		return
	}
	usable := make([]bool, len(o.lines))
	ans := make([]answerLine, len(o.lines))
	for i := range o.lines {
		if c, ok := o.lines[i].choose(); ok && o.lines[i].media == "audio" && o.lines[i].port != 0 {
			usable[i] = true
			ans[i] = answerLine{port: 20000 + 2*i, codec: c, dtmf: o.lines[i].dtmf, dir: answerDir(&o.lines[i])}
		}
	}
	a := assignRoles(o.lines, usable, md, rule)
	reps, custs := 0, 0
	for i, r := range a.roles {
		if r != roleNone && !usable[i] {
			t.Fatalf("role for an unusable m-line %d", i)
		}
		switch r {
		case 0:
			reps++
		case 1:
			custs++
		}
	}
	if reps > 1 || custs > 1 {
		t.Fatalf("roles %v: a role read twice", a.roles)
	}
	back, err := parseOffer(buildAnswer(o, ans, netip.MustParseAddr("192.0.2.1"), 1, 1))
	if err != nil {
		t.Fatalf("answer does not parse: %v", err)
	}
	if len(back.lines) != len(o.lines) {
		t.Fatalf("answer has %d m-lines for %d", len(back.lines), len(o.lines))
	}
}

// FuzzMultipart: arbitrary bodies under the INVITE's multipart type.
func FuzzMultipart(f *testing.F) {
	addInvites(f, func(r *sip.Request) []byte { return r.Body() })
	f.Add([]byte("--foobar\r\n\r\n--foobar--"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, ct := range []string{"multipart/mixed;boundary=foobar", "multipart/mixed;boundary=uniqueBoundary", "application/sdp"} {
			body, err := splitBody(ct, b)
			if err != nil {
				if !errors.Is(err, errMalformedBody) && !errors.Is(err, errUnsupportedType) {
					t.Fatalf("error of no kind: %v", err)
				}
				continue
			}
			if len(body.sdp) > maxBodyBytes || len(body.metadata) > maxBodyBytes {
				t.Fatal("a part larger than the body limit")
			}
		}
	})
}

// FuzzSDP: arbitrary SDP offers.
func FuzzSDP(f *testing.F) {
	addInvites(f, func(r *sip.Request) []byte {
		b, _ := splitBody(r.ContentType().Value(), r.Body())
		return b.sdp
	})
	rule, _ := ParseRepRule("1000-1999")
	f.Fuzz(func(t *testing.T, b []byte) {
		checkOfferAndMetadata(t, b, nil, rule)
	})
}

// FuzzMetadata: arbitrary rs-metadata documents.
func FuzzMetadata(f *testing.F) {
	addInvites(f, func(r *sip.Request) []byte {
		b, _ := splitBody(r.ContentType().Value(), r.Body())
		return b.metadata
	})
	f.Add([]byte(`<recording><participant participant_id="a"><send>s</send></participant><stream stream_id="s"><label>1</label></stream></recording>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		md, err := ParseMetadata(b)
		if err != nil {
			if !errors.Is(err, errMetadata) {
				t.Fatalf("error of no kind: %v", err)
			}
			return
		}
		for _, s := range md.Streams {
			if p := md.SenderOfLabel(s.Label); p != nil && p.ID == "" {
				t.Fatal("a sender without id")
			}
		}
		if len(md.Participants) > maxMetadataItems || len(md.Streams) > maxMetadataItems {
			t.Fatal("more items than the limit")
		}
	})
}

// FuzzRepRule: arbitrary rules and AORs.
func FuzzRepRule(f *testing.F) {
	f.Add("sip:*@sales.example.com, 1000-1999", "sip:1042@pbx")
	f.Add("***a**b", "aaaab")
	f.Fuzz(func(t *testing.T, rule, aor string) {
		r, err := ParseRepRule(rule)
		if err != nil {
			return
		}
		_ = r.Match(aor)
	})
}
