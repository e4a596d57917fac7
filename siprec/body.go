package siprec

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
	// maxBodyBytes bounds a SIP body: an SDP of a few m-lines and the
	// metadata of a call fit in a few KiB.
	maxBodyBytes = 64 << 10
	// maxBodyParts bounds a multipart body: SIPREC sends two parts.
	maxBodyParts = 8
)

// Content types of a SIPREC INVITE (RFC 7866 section 6.1.1).
const (
	typeSDP       = "application/sdp"
	typeMetadata  = "application/rs-metadata+xml"
	typeMetadata0 = "application/rs-metadata" // earlier drafts
	typeMultipart = "multipart/mixed"
)

// acceptTypes answers a 415 (RFC 3261 section 21.4.13).
const acceptTypes = typeSDP + ", " + typeMetadata + ", " + typeMultipart

// body is what a request body carries: an SDP offer and recording
// metadata, either possibly absent.
type body struct {
	sdp      []byte
	metadata []byte
}

// errUnsupportedType: the body is of a type talkratio does not read
// (answered with 415).
var errUnsupportedType = errors.New("unsupported content type")

// errMalformedBody: the body does not parse as its type says (400).
var errMalformedBody = errors.New("malformed body")

// splitBody reads a request body by its Content-Type: application/sdp,
// rs-metadata, or multipart/mixed holding them. Other parts of a
// multipart are skipped (RFC 5621 lets them be optional).
func splitBody(contentType string, b []byte) (body, error) {
	var out body
	if len(b) == 0 {
		return out, nil
	}
	if len(b) > maxBodyBytes {
		return out, fmt.Errorf("%w: %d bytes (at most %d)", errMalformedBody, len(b), maxBodyBytes)
	}
	if contentType == "" {
		return out, fmt.Errorf("%w: a body without Content-Type", errMalformedBody)
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return out, fmt.Errorf("%w: Content-Type %q: %v", errMalformedBody, contentType, err)
	}
	switch mt {
	case typeSDP:
		out.sdp = b
		return out, nil
	case typeMetadata, typeMetadata0:
		out.metadata = b
		return out, nil
	case typeMultipart:
	default:
		return out, fmt.Errorf("%w: %s", errUnsupportedType, mt)
	}
	boundary := params["boundary"]
	if boundary == "" {
		return out, fmt.Errorf("%w: multipart without a boundary", errMalformedBody)
	}
	r := multipart.NewReader(bytes.NewReader(b), boundary)
	for n := 0; ; n++ {
		part, err := r.NextRawPart()
		if err == io.EOF {
			if n == 0 {
				return out, fmt.Errorf("%w: multipart without parts", errMalformedBody)
			}
			break
		}
		if err != nil {
			return out, fmt.Errorf("%w: multipart: %v", errMalformedBody, err)
		}
		if n >= maxBodyParts {
			return out, fmt.Errorf("%w: more than %d parts", errMalformedBody, maxBodyParts)
		}
		data, err := io.ReadAll(io.LimitReader(part, maxBodyBytes))
		if err != nil {
			return out, fmt.Errorf("%w: multipart part %d: %v", errMalformedBody, n, err)
		}
		pt, _, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil {
			return out, fmt.Errorf("%w: part %d Content-Type %q: %v", errMalformedBody, n, part.Header.Get("Content-Type"), err)
		}
		switch pt {
		case typeSDP:
			if out.sdp != nil {
				return out, fmt.Errorf("%w: two SDP parts", errMalformedBody)
			}
			out.sdp = data
		case typeMetadata, typeMetadata0:
			if out.metadata != nil {
				return out, fmt.Errorf("%w: two metadata parts", errMalformedBody)
			}
			out.metadata = data
		default:
			// A part talkratio does not read; if the SRC marked it
			// required, it needs an SRS that does.
			if strings.Contains(strings.ToLower(part.Header.Get("Content-Disposition")), "handling=required") {
				return out, fmt.Errorf("%w: required part of type %s", errUnsupportedType, pt)
			}
		}
	}
	return out, nil
}
