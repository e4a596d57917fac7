package siprec

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/emiago/sipgo/sip"

	"talkratio/siprec/rsmeta"
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
	rule, _ := rsmeta.ParseRepRule("sip:*@sales.example.com, 1000-1999")
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
		body, err := rsmeta.Split(ct, req.Body())
		if err != nil {
			if !errors.Is(err, rsmeta.ErrMalformedBody) && !errors.Is(err, rsmeta.ErrUnsupportedType) {
				t.Fatalf("body error of no kind: %v", err)
			}
			return
		}
		checkOfferAndMetadata(t, body.SDP, body.Metadata, rule)
	})
}

func checkOfferAndMetadata(t *testing.T, sdpBytes, mdBytes []byte, rule rsmeta.RepRule) {
	var md *rsmeta.Metadata
	if mdBytes != nil {
		var err error
		if md, err = rsmeta.ParseMetadata(mdBytes); err != nil {
			if !errors.Is(err, rsmeta.ErrMalformedMetadata) {
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

// FuzzSDP: arbitrary SDP offers.
func FuzzSDP(f *testing.F) {
	addInvites(f, func(r *sip.Request) []byte {
		b, _ := rsmeta.Split(r.ContentType().Value(), r.Body())
		return b.SDP
	})
	rule, _ := rsmeta.ParseRepRule("1000-1999")
	f.Fuzz(func(t *testing.T, b []byte) {
		checkOfferAndMetadata(t, b, nil, rule)
	})
}
