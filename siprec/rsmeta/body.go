package rsmeta

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"strings"
)

// Body limits.
const (
	// MaxBodyBytes bounds a SIP body: an SDP of a few m-lines and the
	// metadata of a call fit in a few KiB.
	MaxBodyBytes = 64 << 10
	// maxBodyParts bounds a multipart body: SIPREC sends two parts.
	maxBodyParts = 8
)

// Content types of a SIPREC INVITE (RFC 7866 section 6.1.1).
const (
	TypeSDP       = "application/sdp"
	typeMetadata  = "application/rs-metadata+xml"
	typeMetadata0 = "application/rs-metadata" // earlier drafts
	typeMultipart = "multipart/mixed"
)

// AcceptTypes answers a 415 (RFC 3261 section 21.4.13).
const AcceptTypes = TypeSDP + ", " + typeMetadata + ", " + typeMultipart

// Parts is what a request body carries: an SDP offer and recording
// metadata, either possibly absent.
type Parts struct {
	SDP      []byte
	Metadata []byte
}

// ErrUnsupportedType: the body is of a type talkratio does not read
// (answered with 415).
var ErrUnsupportedType = errors.New("unsupported content type")

// ErrMalformedBody: the body does not parse as its type says (400).
var ErrMalformedBody = errors.New("malformed body")

// Split reads a request body by its Content-Type: application/sdp,
// rs-metadata, or multipart/mixed holding them. Other parts of a
// multipart are skipped (RFC 5621 lets them be optional).
func Split(contentType string, b []byte) (Parts, error) {
	var out Parts
	if len(b) == 0 {
		return out, nil
	}
	if len(b) > MaxBodyBytes {
		return out, fmt.Errorf("%w: %d bytes (at most %d)", ErrMalformedBody, len(b), MaxBodyBytes)
	}
	if contentType == "" {
		return out, fmt.Errorf("%w: a body without Content-Type", ErrMalformedBody)
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return out, fmt.Errorf("%w: Content-Type %q: %v", ErrMalformedBody, contentType, err)
	}
	switch mt {
	case TypeSDP:
		out.SDP = b
		return out, nil
	case typeMetadata, typeMetadata0:
		out.Metadata = b
		return out, nil
	case typeMultipart:
	default:
		return out, fmt.Errorf("%w: %s", ErrUnsupportedType, mt)
	}
	boundary := params["boundary"]
	if boundary == "" {
		return out, fmt.Errorf("%w: multipart without a boundary", ErrMalformedBody)
	}
	r := multipart.NewReader(bytes.NewReader(b), boundary)
	for n := 0; ; n++ {
		part, err := r.NextRawPart()
		if err == io.EOF {
			if n == 0 {
				return out, fmt.Errorf("%w: multipart without parts", ErrMalformedBody)
			}
			break
		}
		if err != nil {
			return out, fmt.Errorf("%w: multipart: %v", ErrMalformedBody, err)
		}
		if n >= maxBodyParts {
			return out, fmt.Errorf("%w: more than %d parts", ErrMalformedBody, maxBodyParts)
		}
		data, err := io.ReadAll(io.LimitReader(part, MaxBodyBytes))
		if err != nil {
			return out, fmt.Errorf("%w: multipart part %d: %v", ErrMalformedBody, n, err)
		}
		pt, _, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil {
			return out, fmt.Errorf("%w: part %d Content-Type %q: %v", ErrMalformedBody, n, part.Header.Get("Content-Type"), err)
		}
		switch pt {
		case TypeSDP:
			if out.SDP != nil {
				return out, fmt.Errorf("%w: two SDP parts", ErrMalformedBody)
			}
			out.SDP = data
		case typeMetadata, typeMetadata0:
			if out.Metadata != nil {
				return out, fmt.Errorf("%w: two metadata parts", ErrMalformedBody)
			}
			out.Metadata = data
		default:
			// A part talkratio does not read; if the SRC marked it
			// required, it needs an SRS that does.
			if strings.Contains(strings.ToLower(part.Header.Get("Content-Disposition")), "handling=required") {
				return out, fmt.Errorf("%w: required part of type %s", ErrUnsupportedType, pt)
			}
		}
	}
	return out, nil
}
