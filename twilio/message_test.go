package twilio

import (
	"crypto/tls"
	"errors"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Messages as Twilio's "Media Streams - WebSocket Messages" page shows
// them.
const (
	docConnected = `{"event": "connected", "protocol": "Call", "version": "1.0.0"}`
	docStart     = `{"event": "start", "sequenceNumber": "1", "start": {"accountSid": "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "streamSid": "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "callSid": "CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "tracks": [ "inbound" ], "mediaFormat": { "encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1 }, "customParameters": { "FirstName": "Jane", "LastName": "Doe", "RemoteParty": "Bob" } }, "streamSid": "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"}`
	docMedia     = `{"event": "media", "sequenceNumber": "3", "media": { "track": "outbound", "chunk": "1", "timestamp": "5", "payload": "no+JhoaJjpzSHxAKBgYJDhtEopGKh4aIjZm7JhILBwYIDBc1qZaNiIaHio+hSBwPCQYHCg8gv5+Qi4eHiYyUrC4XDQgGCAsTKrqYjomHh4qOnMgiEgsHBwgMFjeom46Jh4eKj6BXHQ8KBwcJDh3BnpCLh4eIjJOvMBgNCAcHCxAoxpqPioeHiY2XtSkUDAgHCAwUK7KXjYmHh4qPnNEkEgsIBwkNGD+nm46Kh4eKj6DwHhAKBwcJDh3MnpCLiIeIjJOvLxcNCQcICxEnyZuPioiIiY2XtCgUDAkHCAwUK7OYjYqIiIqPnNMmEgsIBwkNGT6qnI6KiIiKj5/uHxALCAgJDh3RnpGMiYiJjJOvMBgOCQgICxEoxpuQi4mIio2XtCgVDQkICQ0ULLKYjoqIiYqPm8snEwsJCAkOGUasnI+LiYmLkJ/xIBEMCQgKDx3cn5KMiomKjZSvMBkPCgkJDBIpxJuRjImJi46XtCkWDgoJCg4WLbKYj4uKiouQm84oFA0KCQoPGkarnJCMiYqLkJ/jIREMCgkLDx/cn5KNioqLjpSxMRoQCwoKDRMrwZuRjYqKjI6Xtisn" }, "streamSid": "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"}`
	docStop      = `{"event": "stop", "sequenceNumber": "5", "stop": { "accountSid": "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "callSid": "CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX" }, "streamSid": "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"}`
	docMark      = `{"event": "mark", "sequenceNumber": "4", "streamSid": "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "mark": { "name": "my label" }}`
	docDTMF      = `{"event": "dtmf", "streamSid": "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "sequenceNumber": "5", "dtmf": { "track": "inbound_track", "digit": "1" }}`
)

func TestParseMessage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     string
		event  string
		reason string // "" when valid
	}{
		{"doc connected", docConnected, "connected", ""},
		{"doc start", docStart, "start", ""},
		{"doc media", docMedia, "media", ""},
		{"doc stop", docStop, "stop", ""},
		{"doc mark", docMark, "mark", ""},
		{"doc dtmf", docDTMF, "dtmf", ""},
		{"numbers as numbers", `{"event":"media","sequenceNumber":3,"media":{"track":"inbound","chunk":2,"timestamp":40,"payload":"//8="}}`, "media", ""},
		{"unknown event", `{"event":"clear","streamSid":"MZ1"}`, "clear", ""},
		{"empty", ``, "", reasonJSON},
		{"not an object", `[1,2]`, "", reasonJSON},
		{"two objects", docMark + docMark, "", reasonJSON},
		{"no event", `{"sequenceNumber":"1"}`, "", reasonJSON},
		{"start without start", `{"event":"start"}`, "", reasonJSON},
		{"start without streamSid", strings.Replace(docStart, `"streamSid": "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "callSid"`, `"callSid"`, 1), "", reasonJSON},
		{"start pcm16", strings.Replace(docStart, "audio/x-mulaw", "audio/l16", 1), "", reasonFormat},
		{"start 16 kHz", strings.Replace(docStart, `"sampleRate": 8000`, `"sampleRate": 16000`, 1), "", reasonFormat},
		{"start stereo", strings.Replace(docStart, `"channels": 1`, `"channels": 2`, 1), "", reasonFormat},
		{"start no tracks", strings.Replace(docStart, `[ "inbound" ]`, `[]`, 1), "", reasonTrack},
		{"start unknown track", strings.Replace(docStart, `[ "inbound" ]`, `[ "inbound_track" ]`, 1), "", reasonTrack},
		{"media without media", `{"event":"media"}`, "", reasonJSON},
		{"media unknown track", strings.Replace(docMedia, `"outbound"`, `"both"`, 1), "", reasonTrack},
		{"media no chunk", strings.Replace(docMedia, `"chunk": "1", `, ``, 1), "", reasonJSON},
		{"media negative timestamp", strings.Replace(docMedia, `"timestamp": "5"`, `"timestamp": "-5"`, 1), "", reasonJSON},
		{"media fractional chunk", strings.Replace(docMedia, `"chunk": "1"`, `"chunk": "1.5"`, 1), "", reasonJSON},
		{"media timestamp past a day", strings.Replace(docMedia, `"timestamp": "5"`, `"timestamp": "86400001"`, 1), "", reasonJSON},
		{"media no payload", `{"event":"media","media":{"track":"inbound","chunk":"1","timestamp":"0"}}`, "", reasonPayload},
		{"media payload not base64", `{"event":"media","media":{"track":"inbound","chunk":"1","timestamp":"0","payload":"a b c"}}`, "", reasonPayload},
		{"media payload over 120 ms", `{"event":"media","media":{"track":"inbound","chunk":"1","timestamp":"0","payload":"` + strings.Repeat("AAAA", 400) + `"}}`, "", reasonPayload},
		{"too many parameters", `{"event":"start","start":{"streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},"customParameters":{` + manyParams(65) + `}}}`, "", reasonJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := parseMessage([]byte(tc.in))
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				if m.Event != tc.event {
					t.Errorf("event %q", m.Event)
				}
				return
			}
			var pe *protoError
			if !errors.As(err, &pe) || pe.reason != tc.reason {
				t.Fatalf("error %v, want reason %s", err, tc.reason)
			}
		})
	}
	m, err := parseMessage([]byte(docMedia))
	if err != nil {
		t.Fatal(err)
	}
	if m.Media.Chunk.v != 1 || m.Media.Timestamp.v != 5 || len(m.payload) == 0 || m.SequenceNumber.v != 3 {
		t.Errorf("media %+v, %d payload bytes", m.Media, len(m.payload))
	}
	m, err = parseMessage([]byte(docStart))
	if err != nil {
		t.Fatal(err)
	}
	if m.Start.CustomParameters["FirstName"] != "Jane" || !slices.Equal(m.Start.Tracks, []string{"inbound"}) {
		t.Errorf("start %+v", m.Start)
	}
}

func manyParams(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"p` + string(rune('a'+i%26)) + strings.Repeat("x", i) + `":"v"`)
	}
	return b.String()
}

// TestSignatureDocExample: Twilio's "Webhooks security" example: auth
// token 12345, URL https://mycompany.com/myapp.php?foo=1&bar=2 with its
// POST parameters appended in order of name.
func TestSignatureDocExample(t *testing.T) {
	u := "https://mycompany.com/myapp.php?foo=1&bar=2" +
		"CallSid" + "CA1234567890ABCDE" + "Caller" + "+12349013030" + "Digits" + "1234" +
		"From" + "+12349013030" + "To" + "+18005551212"
	if got := Signature([]byte("12345"), u); got != "0/KCTR6DLpKmkAf8muzZqo1nDgQ=" {
		t.Errorf("signature %s", got)
	}
}

func TestSignedURLs(t *testing.T) {
	pub, _ := url.Parse("wss://talkratio.example.com/base/")
	for _, tc := range []struct {
		name   string
		target string
		host   string
		tls    bool
		proto  string
		public *url.URL
		want   []string
	}{
		{"plain", "/ingest/twilio?a=1", "10.0.0.5:8080", false, "", nil, []string{"ws://10.0.0.5:8080/ingest/twilio?a=1"}},
		{"tls", "/ingest/twilio", "talkratio.example.com", true, "", nil, []string{"wss://talkratio.example.com/ingest/twilio", "wss://talkratio.example.com:443/ingest/twilio"}},
		{"tls default port", "/ingest/twilio", "talkratio.example.com:443", true, "", nil, []string{"wss://talkratio.example.com:443/ingest/twilio", "wss://talkratio.example.com/ingest/twilio"}},
		{"proxy https", "/ingest/twilio", "talkratio.example.com", false, "https", nil, []string{"wss://talkratio.example.com/ingest/twilio", "wss://talkratio.example.com:443/ingest/twilio"}},
		{"public URL", "/ingest/twilio?x=1", "127.0.0.1:8080", false, "", pub, []string{"wss://talkratio.example.com/base/ingest/twilio?x=1", "wss://talkratio.example.com:443/base/ingest/twilio?x=1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tc.target, nil)
			r.Host = tc.host
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if tc.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			if got := signedURLs(tc.public, r); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLoadAuthToken(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content string
		ok            bool
	}{
		{"token", "0123456789abcdef0123456789abcdef\n", true},
		{"empty", " \n", false},
		{"huge", strings.Repeat("x", 2000), false},
	} {
		p := filepath.Join(dir, tc.name)
		if err := os.WriteFile(p, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		tok, err := LoadAuthToken(p)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v", tc.name, err)
		}
		if tc.ok && string(tok) != strings.TrimSpace(tc.content) {
			t.Errorf("%s: token %q", tc.name, tok)
		}
	}
	if _, err := LoadAuthToken(filepath.Join(dir, "absent")); err == nil {
		t.Error("absent file: no error")
	}
}

// FuzzMessage: no input may crash the parser, and whatever it accepts is
// within the protocol's limits.
func FuzzMessage(f *testing.F) {
	for _, s := range []string{docConnected, docStart, docMedia, docStop, docMark, docDTMF, `{"event":"media","media":{"track":"inbound","chunk":1,"timestamp":"0","payload":"//8="}}`, `{`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseMessage(b)
		if err != nil {
			var pe *protoError
			if !errors.As(err, &pe) || pe.reason == "" || pe.msg == "" {
				t.Fatalf("error without a reason: %v", err)
			}
			return
		}
		switch m.Event {
		case "":
			t.Fatal("accepted a message without an event")
		case "media":
			if len(m.payload) == 0 || len(m.payload) > maxPayloadBytes || m.Media.Timestamp.v < 0 || m.Media.Timestamp.v > maxTimestampMS || m.Media.Chunk.v < 0 {
				t.Fatalf("accepted media %+v with %d payload bytes", m.Media, len(m.payload))
			}
		case "start":
			if m.Start.CallSid == "" || len(m.Start.Tracks) == 0 {
				t.Fatalf("accepted start %+v", m.Start)
			}
		}
	})
}
