package rsmeta

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// inviteBody reads a recording server test INVITE (../testdata) and
// returns its Content-Type and body.
func inviteBody(t testing.TB, name string) (string, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	head, body, ok := strings.Cut(string(b), "\r\n\r\n")
	if !ok {
		t.Fatalf("%s: no body", name)
	}
	for _, line := range strings.Split(head, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && (strings.EqualFold(k, "Content-Type") || k == "c") {
			return strings.TrimSpace(v), []byte(body)
		}
	}
	t.Fatalf("%s: no Content-Type", name)
	return "", nil
}

// inviteParts splits a test INVITE's body and parses its metadata.
func inviteParts(t testing.TB, name string) (Parts, *Metadata) {
	t.Helper()
	b, err := Split(inviteBody(t, name))
	if err != nil {
		t.Fatal(err)
	}
	md, err := ParseMetadata(b.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	return b, md
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
	ct, b := inviteBody(t, "invite-rfc7866.sip")
	multipart := string(b)
	for _, tc := range []struct {
		name, ct, body string
		err            error
		sdp, md        bool
	}{
		{"multipart", ct, multipart, nil, true, true},
		{"sdp only", "application/sdp", "v=0\r\n", nil, true, false},
		{"empty", "", "", nil, false, false},
		{"metadata only", "application/rs-metadata+xml", "<recording/>", nil, false, true},
		{"text", "text/plain", "hello", ErrUnsupportedType, false, false},
		{"no content type", "", "v=0", ErrMalformedBody, false, false},
		{"bad content type", "multipart/mixed;;=", multipart, ErrMalformedBody, false, false},
		{"no boundary", "multipart/mixed", multipart, ErrMalformedBody, false, false},
		{"wrong boundary", "multipart/mixed;boundary=other", multipart, ErrMalformedBody, false, false},
		{"truncated", ct, multipart[:len(multipart)/2], ErrMalformedBody, false, false},
		{"two sdp parts", ct, strings.Replace(multipart, "application/rs-metadata+xml", "application/sdp", 1), ErrMalformedBody, false, false},
		{"required unknown part", ct, strings.Replace(multipart, "Content-Type: application/rs-metadata+xml\r\nContent-Disposition: recording-session", "Content-Type: application/pidf+xml\r\nContent-Disposition: render;handling=required", 1), ErrUnsupportedType, false, false},
		{"optional unknown part", ct, strings.Replace(multipart, "Content-Type: application/rs-metadata+xml", "Content-Type: application/pidf+xml", 1), nil, true, false},
		{"too large", "application/sdp", strings.Repeat("x", MaxBodyBytes+1), ErrMalformedBody, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Split(tc.ct, []byte(tc.body))
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if err == nil && ((b.SDP != nil) != tc.sdp || (b.Metadata != nil) != tc.md) {
				t.Errorf("sdp %v metadata %v", b.SDP != nil, b.Metadata != nil)
			}
		})
	}
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
		if err != nil && !errors.Is(err, ErrMalformedMetadata) {
			t.Errorf("%s: error %v is not ErrMalformedMetadata", tc.name, err)
		}
	}
	// A partial update renames a participant and keeps the rest.
	_, md := inviteParts(t, "invite-rfc7866.sip")
	upd, err := ParseMetadata([]byte(`<recording xmlns='urn:ietf:params:xml:ns:recording:1'><datamode>partial</datamode>
		<participant participant_id="srfBElmCRp2QB23b7Mpk0w=="><nameID aor="sip:alice@sales.example.com"><name>Alice A.</name></nameID></participant></recording>`))
	if err != nil {
		t.Fatal(err)
	}
	m2 := md.Update(upd)
	if p := m2.SenderOfLabel("97"); p == nil || p.Name != "Alice A." {
		t.Errorf("after update: %+v", p)
	}
	if p := m2.SenderOfLabel("96"); p == nil || p.Name != "Bob Buyer" {
		t.Errorf("after update: %+v", p)
	}
}
