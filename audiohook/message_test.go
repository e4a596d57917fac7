package audiohook

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"talkratio/ingest"
)

// docRequest is the connection request of the AudioHook specification's
// signature example (also a test of Genesys's reference implementation):
// its signature is by the client secret docSecret.
func docRequest() *http.Request {
	r := httptest.NewRequest("GET", "/api/v1/voicebiometrics/ws", nil)
	r.Host = "audiohook.example.com"
	for k, v := range map[string]string{
		"Audiohook-Organization-Id": "d7934305-0972-4844-938e-9060eef73d05",
		"Audiohook-Session-Id":      "30b0e395-84d3-4570-ac13-9a62d8f514c0",
		"Audiohook-Correlation-Id":  "e160e428-53e2-487c-977d-96989bf5c99d",
		"X-API-KEY":                 "SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh",
		"Signature":                 "sig1=:NZBwyBHRRyRoeLqy1IzOa9VYBuI8TgMFt2GRDkDuJh4=:",
		"Signature-Input":           `sig1=("@request-target" "@authority" "audiohook-organization-id" "audiohook-session-id" "audiohook-correlation-id" "x-api-key");keyid="SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh";nonce="VGhpc0lzQVVuaXF1ZU5vbmNl";alg="hmac-sha256";created=1641013200;expires=3282026430`,
	} {
		r.Header.Set(k, v)
	}
	return r
}

const docSecret = "TXlTdXBlclNlY3JldEtleVRlbGxOby0xITJAMyM0JDU="

func docKeys() map[string][]byte {
	s, _ := base64.StdEncoding.DecodeString(docSecret)
	return map[string][]byte{"SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh": s}
}

// docTime is within the example signature's age.
var docTime = time.Unix(1641013200, 0).Add(2 * time.Second)

func TestVerifyDocExample(t *testing.T) {
	if err := verifyRequest(docRequest(), docKeys(), docTime, &nonceCache{}); err != nil {
		t.Fatalf("the specification's example: %v", err)
	}
	for _, tc := range []struct {
		name   string
		mod    func(r *http.Request)
		now    time.Time
		reason string
	}{
		{"later", nil, docTime.Add(time.Minute), reasonSignature},
		{"other host", func(r *http.Request) { r.Host = "evil.example.com" }, docTime, reasonSignature},
		{"other target", func(r *http.Request) { r.RequestURI = "/api/v1/voicebiometrics/ws?x=1" }, docTime, reasonSignature},
		{"other session", func(r *http.Request) { r.Header.Set("Audiohook-Session-Id", "30b0e395-84d3-4570-ac13-9a62d8f514c1") }, docTime, reasonSignature},
		{"signature flipped", func(r *http.Request) {
			r.Header.Set("Signature", "sig1=:NZBxyBHRRyRoeLqy1IzOa9VYBuI8TgMFt2GRDkDuJh4=:")
		}, docTime, reasonSignature},
		{"other label", func(r *http.Request) {
			r.Header.Set("Signature", strings.Replace(r.Header.Get("Signature"), "sig1", "sig2", 1))
		}, docTime, reasonSignature},
		{"no key", func(r *http.Request) { r.Header.Del("X-API-KEY") }, docTime, reasonKey},
		{"alg rsa", func(r *http.Request) {
			r.Header.Set("Signature-Input", strings.Replace(r.Header.Get("Signature-Input"), "hmac-sha256", "rsa-pss-sha512", 1))
		}, docTime, reasonSignature},
		{"keyid is another key", func(r *http.Request) {
			r.Header.Set("Signature-Input", strings.Replace(r.Header.Get("Signature-Input"), `keyid="SGVs`, `keyid="XGVs`, 1))
		}, docTime, reasonSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := docRequest()
			if tc.mod != nil {
				tc.mod(r)
			}
			err := verifyRequest(r, docKeys(), tc.now, &nonceCache{})
			var ae *authError
			if !errors.As(err, &ae) || ae.reason != tc.reason {
				t.Fatalf("error %v, want reason %s", err, tc.reason)
			}
		})
	}
	// The same signature twice is a replay.
	nc := &nonceCache{}
	if err := verifyRequest(docRequest(), docKeys(), docTime, nc); err != nil {
		t.Fatal(err)
	}
	if err := verifyRequest(docRequest(), docKeys(), docTime, nc); err == nil {
		t.Error("replay accepted")
	}
}

func TestParseDictionary(t *testing.T) {
	for _, tc := range []struct {
		in      string
		ok      bool
		members int
		// the first member re-serialized, when an inner list
		inner string
	}{
		{`sig1=("@method" "@authority");created=1618884473;keyid="test-key-rsa-pss"`, true, 1, `("@method" "@authority");created=1618884473;keyid="test-key-rsa-pss"`},
		{`sig1=( "a"   "b" );x=?1 , sig2=:AAAA:`, true, 2, `("a" "b");x`},
		{`a=1, b=2.5, c="x\"y", d=tok/en:x, e=?0, f`, true, 6, ""},
		{`sig1=("a";p=1 "b");q=-3`, true, 1, `("a";p=1 "b");q=-3`},
		{``, true, 0, ""},
		{`Sig=1`, false, 0, ""},
		{`a=(`, false, 0, ""},
		{`a="unterminated`, false, 0, ""},
		{`a=:not base64!:`, false, 0, ""},
		{`a=1,`, false, 0, ""},
		{`a=1 b=2`, false, 0, ""},
		{`a="\x"`, false, 0, ""},
		{`a=12345678901234567`, false, 0, ""},
		{`a=?2`, false, 0, ""},
		{`a=("x")("y")`, false, 0, ""},
	} {
		d, err := parseDictionary(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("%q: err %v", tc.in, err)
			continue
		}
		if !tc.ok {
			continue
		}
		if len(d.keys) != tc.members {
			t.Errorf("%q: %d members", tc.in, len(d.keys))
		}
		if tc.inner != "" {
			if got := d.m[d.keys[0]].serializeInnerList(); got != tc.inner {
				t.Errorf("%q: serialized %q, want %q", tc.in, got, tc.inner)
			}
		}
	}
}

func TestParseClientMessage(t *testing.T) {
	const id = "30b0e395-84d3-4570-ac13-9a62d8f514c0"
	msg := func(typ, params string) string {
		return `{"version":"2","id":"` + id + `","type":"` + typ + `","seq":1,"serverseq":0,"position":"PT0S","parameters":` + params + `}`
	}
	open := `{"organizationId":"d7934305-0972-4844-938e-9060eef73d05","conversationId":"090eaa2f-72fa-480a-83e0-8667ff89c0ec","participant":{"id":"883efee8-3d6c-4537-b500-6d7ca4b92fa0","ani":"+1-555-555-1234","aniName":"John Doe","dnis":"+1-800-555-6789"},"media":[{"type":"audio","format":"PCMU","channels":["external","internal"],"rate":8000},{"type":"audio","format":"PCMU","channels":["external"],"rate":8000},{"type":"audio","format":"PCMU","channels":["internal"],"rate":8000}],"language":"en-US"}`
	for _, tc := range []struct {
		name, in, reason string
	}{
		{"open", msg("open", open), ""},
		{"ping", msg("ping", `{"rtt":"PT0.343S"}`), ""},
		{"paused", msg("paused", `{}`), ""},
		{"resumed", msg("resumed", `{"start":"PT12.5S","discarded":"PT2.25S"}`), ""},
		{"discarded", msg("discarded", `{"start":"PT1S","discarded":"PT0.1S"}`), ""},
		{"close", msg("close", `{"reason":"end"}`), ""},
		{"error", msg("error", `{"code":429,"message":"too many","retryAfter":"PT5S"}`), ""},
		{"update", msg("update", `{"language":"de-DE"}`), ""},
		{"unknown type passes", msg("future", `{}`), ""},
		{"empty", ``, reasonJSON},
		{"array", `[]`, reasonJSON},
		{"trailing data", msg("ping", `{}`) + `{}`, reasonJSON},
		{"version", strings.Replace(msg("ping", `{}`), `"version":"2"`, `"version":"3"`, 1), reasonJSON},
		{"id not uuid", strings.Replace(msg("ping", `{}`), id, "session-1", 1), reasonJSON},
		{"no type", strings.Replace(msg("ping", `{}`), `"type":"ping",`, ``, 1), reasonJSON},
		{"seq 0", strings.Replace(msg("ping", `{}`), `"seq":1`, `"seq":0`, 1), reasonSequence},
		{"serverseq negative", strings.Replace(msg("ping", `{}`), `"serverseq":0`, `"serverseq":-1`, 1), reasonSequence},
		{"position in ms", strings.Replace(msg("ping", `{}`), `"PT0S"`, `"PT0.5MS"`, 1), reasonJSON},
		{"position past a day", strings.Replace(msg("ping", `{}`), `"PT0S"`, `"PT86401S"`, 1), reasonJSON},
		{"open without parameters", msg("open", `null`), reasonJSON},
		{"open bad organization", msg("open", strings.Replace(open, "d7934305-0972", "d7934305", 1)), reasonJSON},
		{"open no media", msg("open", strings.Replace(open, `"media":[`, `"media":[],"x":[`, 1)), reasonMedia},
		{"resumed bad start", msg("resumed", `{"start":"12.5","discarded":"PT2S"}`), reasonJSON},
		{"resumed no discarded", msg("resumed", `{"start":"PT1S"}`), reasonJSON},
		{"close unknown reason", msg("close", `{"reason":"bye"}`), reasonJSON},
		{"parameters wrong type", msg("close", `{"reason":5}`), reasonJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := parseClientMessage([]byte(tc.in))
			if tc.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tc.name == "resumed" && (m.rng.start != 12500*time.Millisecond || m.rng.discarded != 2250*time.Millisecond) {
					t.Errorf("range %+v", m.rng)
				}
				return
			}
			var pe *protoError
			if !errors.As(err, &pe) || pe.reason != tc.reason {
				t.Fatalf("error %v, want reason %s", err, tc.reason)
			}
		})
	}
}

func TestDurations(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"PT0S", 0, true},
		{"PT1.5S", 1500 * time.Millisecond, true},
		{"PT0.000125S", 125 * time.Microsecond, true},
		{"PT3600S", time.Hour, true},
		{"PT1.123456789S", 1123456789, true},
		{"PT1.S", 0, false},
		{"PT-1S", 0, false},
		{"P1D", 0, false},
		{"PT1M", 0, false},
		{"pt1s", 0, false},
		{"PT1.1234567891S", 0, false},
	} {
		got, err := parseDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%q: %v, %v", tc.in, got, err)
		}
		if tc.ok {
			if back, _ := parseDuration(formatDuration(got)); back != got {
				t.Errorf("%q: formats as %q", tc.in, formatDuration(got))
			}
		}
	}
}

func TestChooseMedia(t *testing.T) {
	stereo := mediaParam{"audio", "PCMU", []string{"external", "internal"}, 8000}
	rev := mediaParam{"audio", "PCMU", []string{"internal", "external"}, 8000}
	mono := mediaParam{"audio", "PCMU", []string{"internal"}, 8000}
	l16 := mediaParam{"audio", "L16", []string{"external", "internal"}, 8000}
	wide := mediaParam{"audio", "PCMU", []string{"external", "internal"}, 16000}
	dup := mediaParam{"audio", "PCMU", []string{"external", "external"}, 8000}
	for _, tc := range []struct {
		offers []mediaParam
		want   *mediaParam
	}{
		{[]mediaParam{stereo, mono}, &stereo},
		{[]mediaParam{mono, rev}, &rev},
		{[]mediaParam{l16, mono}, &mono},
		{[]mediaParam{l16, wide, dup}, nil},
		{nil, nil},
	} {
		got, ok := chooseMedia(tc.offers)
		if (tc.want == nil) == ok || (ok && strings.Join(got.Channels, ",") != strings.Join(tc.want.Channels, ",")) {
			t.Errorf("%v: chose %v %v", tc.offers, got, ok)
		}
	}
}

func TestCheckFrame(t *testing.T) {
	stereo := mediaParam{"audio", "PCMU", []string{"external", "internal"}, 8000}
	for _, tc := range []struct {
		n    int
		m    mediaParam
		want int // samples per channel; -1 for an error
	}{
		{320, stereo, 160},
		{1600, stereo, 800},
		{321, stereo, -1},
		{0, stereo, -1},
		{maxFrameBytes + 2, stereo, -1},
		{160, mediaParam{}, -1},
	} {
		got, err := checkFrame(make([]byte, tc.n), tc.m)
		if (err != nil) != (tc.want < 0) || (err == nil && got != tc.want) {
			t.Errorf("%d bytes: %d, %v", tc.n, got, err)
		}
	}
}

func TestLoadKeys(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content string
		keys          int
		ok            bool
	}{
		{"keys", "# AudioHook integrations\nKEY1 " + docSecret + "\n\nKEY2\n", 2, true},
		{"bad secret", "KEY1 not/base64!\n", 0, false},
		{"three fields", "KEY1 a b\n", 0, false},
		{"empty", "# nothing\n", 0, false},
	} {
		p := filepath.Join(dir, tc.name)
		if err := os.WriteFile(p, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		keys, err := LoadKeys(p)
		if (err == nil) != tc.ok || len(keys) != tc.keys {
			t.Errorf("%s: %d keys, %v", tc.name, len(keys), err)
		}
	}
}

// FuzzClientMessage: no text message crashes the parser, and what it
// accepts is within the protocol.
func FuzzClientMessage(f *testing.F) {
	const id = "30b0e395-84d3-4570-ac13-9a62d8f514c0"
	for _, s := range []string{
		`{"version":"2","id":"` + id + `","type":"open","seq":1,"serverseq":0,"position":"PT0S","parameters":{"organizationId":"d7934305-0972-4844-938e-9060eef73d05","conversationId":"090eaa2f-72fa-480a-83e0-8667ff89c0ec","participant":{},"media":[{"type":"audio","format":"PCMU","channels":["external","internal"],"rate":8000}]}}`,
		`{"version":"2","id":"` + id + `","type":"resumed","seq":4,"serverseq":2,"position":"PT10.2S","parameters":{"start":"PT8S","discarded":"PT2.2S"}}`,
		`{"version":"2","id":"` + id + `","type":"close","seq":9,"serverseq":3,"position":"PT30S","parameters":{"reason":"end"}}`,
		`{"version":"2","id":"` + id + `","type":"ping","seq":2,"serverseq":1,"position":"PT1S","parameters":{}}`,
		`{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseClientMessage(b)
		if err != nil {
			var pe *protoError
			if !errors.As(err, &pe) || pe.reason == "" || pe.msg == "" {
				t.Fatalf("error without a reason: %v", err)
			}
			return
		}
		if m.Version != "2" || m.Seq < 1 || m.pos < 0 || m.pos > maxPosition || !uuidRE().MatchString(m.ID) {
			t.Fatalf("accepted %+v", m)
		}
		switch m.Type {
		case "resumed", "discarded":
			if m.rng == nil || m.rng.start < 0 || m.rng.discarded < 0 || m.rng.start+m.rng.discarded > maxPosition {
				t.Fatalf("accepted range %+v", m.rng)
			}
		case "open":
			if m.open == nil {
				t.Fatal("open without parameters")
			}
			if md, ok := chooseMedia(m.open.Media); ok && !md.usable() {
				t.Fatalf("chose unusable media %+v", md)
			}
		case "close":
			if m.close == nil {
				t.Fatal("close without parameters")
			}
		}
	})
}

// FuzzFrame: any binary frame is checked without a crash, and an accepted
// one is whole samples of the media.
func FuzzFrame(f *testing.F) {
	f.Add(make([]byte, 1600), uint8(2))
	f.Add(make([]byte, 161), uint8(2))
	f.Add([]byte{}, uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, channels uint8) {
		m := mediaParam{"audio", "PCMU", []string{"external", "internal"}[:min(int(channels), 2)], 8000}
		n, err := checkFrame(b, m)
		if err != nil {
			return
		}
		if n*len(m.Channels) != len(b) || n <= 0 || len(b) > maxFrameBytes {
			t.Fatalf("%d bytes, %d channels: %d samples", len(b), len(m.Channels), n)
		}
		// Each channel decodes to its whole share at the analysis rate.
		dec, pcm := make([]byte, n), make([]float32, n)
		for c := range m.Channels {
			up := channelPCM(b, len(m.Channels), c, dec, pcm)
			if len(up) != n*ingest.SampleRate/mediaRate {
				t.Fatalf("channel %d: %d samples for %d", c, len(up), n)
			}
			for _, v := range up {
				if !(v >= -1 && v <= 1) {
					t.Fatalf("sample %v", v)
				}
			}
		}
	})
}

// FuzzSignature: arbitrary Signature-Input and Signature fields never
// crash the verifier, and never pass without the secret.
func FuzzSignature(f *testing.F) {
	r := docRequest()
	f.Add(r.Header.Get("Signature-Input"), r.Header.Get("Signature"))
	f.Add(`sig1=("@method");created=1;keyid="k";nonce="aaaaaaaaaaaaaaaaaaaaaa"`, `sig1=:AAAA:`)
	f.Add(`sig1=(`, `sig1=:`)
	f.Fuzz(func(t *testing.T, input, sig string) {
		r := docRequest()
		r.Header.Set("Signature-Input", input)
		r.Header.Set("Signature", sig)
		err := verifyRequest(r, docKeys(), docTime, &nonceCache{})
		if err == nil && (input != docRequest().Header.Get("Signature-Input") || sig != docRequest().Header.Get("Signature")) {
			// Only a re-encoding of the same signature may pass.
			d1, e1 := parseDictionary(input)
			d2, e2 := parseDictionary(docRequest().Header.Get("Signature-Input"))
			if e1 != nil || e2 != nil || d1.m[d1.keys[0]].serializeInnerList() != d2.m[d2.keys[0]].serializeInnerList() {
				t.Fatalf("accepted Signature-Input %q with Signature %q", input, sig)
			}
		}
	})
}
