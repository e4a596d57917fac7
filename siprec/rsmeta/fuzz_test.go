package rsmeta

import (
	"errors"
	"path/filepath"
	"testing"
)

// addInvites seeds a fuzz target with part of each test INVITE
// (../testdata/*.sip).
func addInvites(f *testing.F, part func(contentType string, body []byte) []byte) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "*.sip"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no testdata INVITEs: %v", err)
	}
	for _, p := range files {
		f.Add(part(inviteBody(f, filepath.Base(p))))
	}
}

// FuzzMultipart: arbitrary bodies under the INVITE's multipart type.
func FuzzMultipart(f *testing.F) {
	addInvites(f, func(_ string, b []byte) []byte { return b })
	f.Add([]byte("--foobar\r\n\r\n--foobar--"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, ct := range []string{"multipart/mixed;boundary=foobar", "multipart/mixed;boundary=uniqueBoundary", "application/sdp"} {
			body, err := Split(ct, b)
			if err != nil {
				if !errors.Is(err, ErrMalformedBody) && !errors.Is(err, ErrUnsupportedType) {
					t.Fatalf("error of no kind: %v", err)
				}
				continue
			}
			if len(body.SDP) > MaxBodyBytes || len(body.Metadata) > MaxBodyBytes {
				t.Fatal("a part larger than the body limit")
			}
		}
	})
}

// FuzzMetadata: arbitrary rs-metadata documents.
func FuzzMetadata(f *testing.F) {
	addInvites(f, func(ct string, body []byte) []byte {
		b, _ := Split(ct, body)
		return b.Metadata
	})
	f.Add([]byte(`<recording><participant participant_id="a"><send>s</send></participant><stream stream_id="s"><label>1</label></stream></recording>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		md, err := ParseMetadata(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedMetadata) {
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
