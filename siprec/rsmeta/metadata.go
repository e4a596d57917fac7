package rsmeta

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits of the recording metadata talkratio reads: a two-party call has
// two participants and two streams; conferences a few more.
const (
	// maxMetadataBytes bounds the XML document (the whole SIP body is
	// bounded by maxBodyBytes too).
	maxMetadataBytes = 64 << 10
	// maxMetadataItems bounds participants, streams and associations.
	maxMetadataItems = 64
	// maxXMLDepth bounds element nesting: the schema is four deep;
	// vendors' extension data a few more.
	maxXMLDepth = 32
)

// Participant is a party of the recorded call (RFC 7865 section 6.5).
type Participant struct {
	ID   string
	AOR  string // address of record: sip:, sips: or tel: URI
	Name string // display name, when the SRC gives one
}

// Label is how the metadata names a participant for logs and call labels:
// the name, else the AOR.
func (p *Participant) Label() string {
	if p == nil {
		return ""
	}
	if p.Name != "" {
		return p.Name
	}
	return p.AOR
}

// Stream is a media stream of the recording session (RFC 7865 section
// 6.6): its label ties it to an SDP m-line (a=label), and Sender is the
// participant whose audio it carries.
type Stream struct {
	ID     string
	Label  string
	Sender string // participant ID, "" when no association says
}

// Metadata is the recording metadata of a session: what talkratio needs
// of it.
type Metadata struct {
	Participants []Participant // in document order
	Streams      []Stream
	// Partial: the document updates the session's metadata (datamode
	// partial) rather than replacing it.
	Partial bool
}

// participant returns the participant with id.
func (m *Metadata) participant(id string) *Participant {
	if m == nil || id == "" {
		return nil
	}
	for i := range m.Participants {
		if m.Participants[i].ID == id {
			return &m.Participants[i]
		}
	}
	return nil
}

// SenderOfLabel returns the participant whose audio the stream with SDP
// label label carries, or nil.
func (m *Metadata) SenderOfLabel(label string) *Participant {
	if m == nil || label == "" {
		return nil
	}
	for _, s := range m.Streams {
		if s.Label == label {
			return m.participant(s.Sender)
		}
	}
	return nil
}

// The XML shapes. RFC 7865 (namespace urn:ietf:params:xml:ns:recording:1)
// names elements by participant_id/stream_id attributes and ties streams
// to participants in participantstreamassoc elements; SRCs built on the
// earlier drafts (namespace urn:ietf:params:xml:ns:recording) use id
// attributes, put send/recv inside participant, and some an aor element
// for nameID. Element names match in any namespace, so one set of types
// reads them all.
type xmlRecording struct {
	XMLName      xml.Name         `xml:"recording"`
	DataMode     string           `xml:"datamode"`
	DataModeOld  string           `xml:"dataMode"`
	Participants []xmlParticipant `xml:"participant"`
	Streams      []xmlStream      `xml:"stream"`
	Assocs       []xmlAssoc       `xml:"participantstreamassoc"`
}

type xmlParticipant struct {
	ParticipantID string      `xml:"participant_id,attr"`
	ID            string      `xml:"id,attr"`
	NameIDs       []xmlNameID `xml:"nameID"`
	AORs          []string    `xml:"aor"`
	Names         []xmlName   `xml:"name"`
	Send          []string    `xml:"send"`
}

type xmlNameID struct {
	AOR   string    `xml:"aor,attr"`
	Names []xmlName `xml:"name"`
}

type xmlName struct {
	Value string `xml:",chardata"`
}

type xmlStream struct {
	StreamID string `xml:"stream_id,attr"`
	ID       string `xml:"id,attr"`
	Label    string `xml:"label"`
}

type xmlAssoc struct {
	ParticipantID string   `xml:"participant_id,attr"`
	ID            string   `xml:"id,attr"`
	Send          []string `xml:"send"`
}

// ErrMalformedMetadata is wrapped by every error of ParseMetadata.
var ErrMalformedMetadata = errors.New("malformed recording metadata")

// ParseMetadata reads an rs-metadata XML document (RFC 7865, and the
// draft format earlier SRCs send).
func ParseMetadata(b []byte) (*Metadata, error) {
	if len(b) > maxMetadataBytes {
		return nil, fmt.Errorf("%w: %d bytes (at most %d)", ErrMalformedMetadata, len(b), maxMetadataBytes)
	}
	if err := checkXMLShape(b); err != nil {
		return nil, err
	}
	var doc xmlRecording
	d := xml.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedMetadata, err)
	}
	if len(doc.Participants) > maxMetadataItems || len(doc.Streams) > maxMetadataItems || len(doc.Assocs) > maxMetadataItems {
		return nil, fmt.Errorf("%w: more than %d participants, streams or associations", ErrMalformedMetadata, maxMetadataItems)
	}
	m := &Metadata{Partial: strings.TrimSpace(first(doc.DataMode, doc.DataModeOld)) == "partial"}
	sender := map[string]string{} // stream id to participant id
	for _, xp := range doc.Participants {
		p := Participant{ID: first(xp.ParticipantID, xp.ID)}
		if p.ID == "" {
			return nil, fmt.Errorf("%w: a participant without participant_id", ErrMalformedMetadata)
		}
		for _, n := range xp.NameIDs {
			if p.AOR == "" {
				p.AOR = strings.TrimSpace(n.AOR)
			}
			for _, nm := range n.Names {
				if p.Name == "" {
					p.Name = strings.TrimSpace(nm.Value)
				}
			}
		}
		for _, a := range xp.AORs {
			if p.AOR == "" {
				p.AOR = strings.TrimSpace(a)
			}
		}
		for _, nm := range xp.Names {
			if p.Name == "" {
				p.Name = strings.TrimSpace(nm.Value)
			}
		}
		for _, s := range xp.Send {
			sender[strings.TrimSpace(s)] = p.ID
		}
		m.Participants = append(m.Participants, p)
	}
	for _, a := range doc.Assocs {
		pid := first(a.ParticipantID, a.ID)
		if pid == "" {
			return nil, fmt.Errorf("%w: a participantstreamassoc without participant_id", ErrMalformedMetadata)
		}
		for _, s := range a.Send {
			sender[strings.TrimSpace(s)] = pid
		}
	}
	for _, xs := range doc.Streams {
		s := Stream{ID: first(xs.StreamID, xs.ID), Label: strings.TrimSpace(xs.Label)}
		if s.ID == "" {
			return nil, fmt.Errorf("%w: a stream without stream_id", ErrMalformedMetadata)
		}
		s.Sender = sender[s.ID]
		m.Streams = append(m.Streams, s)
	}
	return m, nil
}

// checkXMLShape walks the document's tokens before it is decoded: one
// root element named recording, nesting within maxXMLDepth, no DTD.
func checkXMLShape(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrMalformedMetadata, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if t.Name.Local != "recording" {
					return fmt.Errorf("%w: root element %q (want recording)", ErrMalformedMetadata, t.Name.Local)
				}
			}
			depth++
			if depth > maxXMLDepth {
				return fmt.Errorf("%w: elements nested deeper than %d", ErrMalformedMetadata, maxXMLDepth)
			}
		case xml.EndElement:
			depth--
		case xml.Directive:
			return fmt.Errorf("%w: a DTD or directive", ErrMalformedMetadata)
		}
	}
	if roots != 1 {
		return fmt.Errorf("%w: %d root elements", ErrMalformedMetadata, roots)
	}
	return nil
}

func first(a, b string) string {
	if a = strings.TrimSpace(a); a != "" {
		return a
	}
	return strings.TrimSpace(b)
}

// Update applies a new document: a complete one replaces the metadata; a
// partial one (datamode partial, RFC 7865 section 6.1) replaces the
// participants and streams it names and adds new ones.
func (m *Metadata) Update(u *Metadata) *Metadata {
	if m == nil || !u.Partial {
		return u
	}
	out := &Metadata{
		Participants: append([]Participant(nil), m.Participants...),
		Streams:      append([]Stream(nil), m.Streams...),
	}
	for _, p := range u.Participants {
		if q := out.participant(p.ID); q != nil {
			*q = p
		} else {
			out.Participants = append(out.Participants, p)
		}
	}
	for _, s := range u.Streams {
		found := false
		for i := range out.Streams {
			if out.Streams[i].ID == s.ID {
				if s.Sender == "" {
					s.Sender = out.Streams[i].Sender
				}
				out.Streams[i], found = s, true
			}
		}
		if !found {
			out.Streams = append(out.Streams, s)
		}
	}
	return out
}
