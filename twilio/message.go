package twilio

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Limits on what Twilio sends. Twilio's media messages carry 20 ms of
// audio (about 400 bytes of JSON); its start message carries the
// customParameters of the TwiML, a few hundred bytes.
const (
	// maxMessageBytes bounds one websocket message: a start message with
	// many parameters fits, a sender cannot make the service buffer more.
	maxMessageBytes = 64 << 10
	// maxPayloadBytes: 120 ms of 8 kHz mu-law, six times what Twilio
	// sends, the most any RTP-based sender packs.
	maxPayloadBytes = 960
	// maxCustomParameters bounds the start message's map.
	maxCustomParameters = 64
	// maxTimestampMS: a day of stream; a larger media timestamp is bogus
	// and would place audio a day into the call.
	maxTimestampMS = 24 * 3600 * 1000
)

// Track names of media messages (and of the start message's tracks).
const (
	trackInbound  = "inbound"
	trackOutbound = "outbound"
)

// Error reasons: the values of the errors_total metric's reason label.
const (
	reasonSignature = "signature" // X-Twilio-Signature missing or wrong
	reasonUpgrade   = "upgrade"   // not a websocket request
	reasonBusy      = "busy"      // the service took no more calls
	reasonJSON      = "json"      // not a JSON message of the protocol
	reasonOrder     = "order"     // a message out of the protocol's order (media before start)
	reasonFormat    = "format"    // a media format other than audio/x-mulaw 8000 Hz mono
	reasonTrack     = "track"     // an unknown track
	reasonPayload   = "payload"   // media payload not base64 mu-law of a sane size
	reasonStream    = "stream"    // a message of another stream
	reasonIdle      = "idle"      // nothing received for the idle timeout
	reasonParameter = "parameter" // a custom parameter talkratio reads has a bad value
	reasonOther     = "other"
)

var errorReasons = []string{
	reasonSignature, reasonUpgrade, reasonBusy, reasonJSON, reasonOrder, reasonFormat,
	reasonTrack, reasonPayload, reasonStream, reasonIdle, reasonParameter, reasonOther,
}

// protoError is a message Twilio's protocol does not allow; reason is its
// metric label.
type protoError struct {
	reason string
	msg    string
}

func (e *protoError) Error() string { return e.msg }

func protoErrorf(reason, format string, args ...any) error {
	return &protoError{reason: reason, msg: fmt.Sprintf(format, args...)}
}

// message is one JSON message of a Media Stream, as Twilio documents it
// ("Media Streams - WebSocket Messages"). Numbers that Twilio sends as
// strings (sequenceNumber, chunk, timestamp) are read as either.
type message struct {
	Event          string     `json:"event"`
	SequenceNumber flexInt    `json:"sequenceNumber"`
	StreamSid      string     `json:"streamSid"`
	Protocol       string     `json:"protocol"` // connected
	Version        string     `json:"version"`  // connected
	Start          *startInfo `json:"start"`
	Media          *mediaInfo `json:"media"`
	Stop           *stopInfo  `json:"stop"`
	Mark           *markInfo  `json:"mark"`
	DTMF           *dtmfInfo  `json:"dtmf"`

	// payload is Media.Payload decoded, set by parseMessage.
	payload []byte
}

type startInfo struct {
	AccountSid       string            `json:"accountSid"`
	StreamSid        string            `json:"streamSid"`
	CallSid          string            `json:"callSid"`
	Tracks           []string          `json:"tracks"`
	MediaFormat      mediaFormat       `json:"mediaFormat"`
	CustomParameters map[string]string `json:"customParameters"`
}

type mediaFormat struct {
	Encoding   string `json:"encoding"`
	SampleRate int    `json:"sampleRate"`
	Channels   int    `json:"channels"`
}

type mediaInfo struct {
	Track     string  `json:"track"`
	Chunk     flexInt `json:"chunk"`
	Timestamp flexInt `json:"timestamp"`
	Payload   string  `json:"payload"`
}

type stopInfo struct {
	AccountSid string `json:"accountSid"`
	CallSid    string `json:"callSid"`
}

type markInfo struct {
	Name string `json:"name"`
}

type dtmfInfo struct {
	Track string `json:"track"`
	Digit string `json:"digit"`
}

// flexInt is a non-negative integer sent as a JSON string ("42") or number.
type flexInt struct {
	v   int64
	set bool
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if s == "null" {
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return fmt.Errorf("%q is not a non-negative integer", s)
	}
	f.v, f.set = v, true
	return nil
}

// parseMessage decodes and checks one text message. Unknown events are
// returned as they are (the caller ignores them): Twilio adds events.
func parseMessage(b []byte) (*message, error) {
	var m message
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&m); err != nil {
		return nil, protoErrorf(reasonJSON, "not a Media Streams message: %v", err)
	}
	if dec.More() {
		return nil, protoErrorf(reasonJSON, "not a Media Streams message: data after the JSON object")
	}
	switch m.Event {
	case "":
		return nil, protoErrorf(reasonJSON, "message without an event")
	case "start":
		if err := m.Start.check(); err != nil {
			return nil, err
		}
	case "media":
		if err := m.checkMedia(); err != nil {
			return nil, err
		}
	}
	return &m, nil
}

func (s *startInfo) check() error {
	switch {
	case s == nil:
		return protoErrorf(reasonJSON, "start message without start")
	case s.StreamSid == "" || s.CallSid == "":
		return protoErrorf(reasonJSON, "start message without streamSid or callSid")
	case len(s.CustomParameters) > maxCustomParameters:
		return protoErrorf(reasonJSON, "start message with %d custom parameters (at most %d)", len(s.CustomParameters), maxCustomParameters)
	}
	f := s.MediaFormat
	if !strings.EqualFold(f.Encoding, "audio/x-mulaw") || f.SampleRate != 8000 || f.Channels != 1 {
		return protoErrorf(reasonFormat, "media format %s %d Hz %d channels (talkratio takes audio/x-mulaw 8000 Hz mono, what Media Streams send)", f.Encoding, f.SampleRate, f.Channels)
	}
	if len(s.Tracks) == 0 {
		return protoErrorf(reasonTrack, "start message without tracks")
	}
	for _, t := range s.Tracks {
		if t != trackInbound && t != trackOutbound {
			return protoErrorf(reasonTrack, "unknown track %q (want inbound or outbound)", t)
		}
	}
	return nil
}

func (m *message) checkMedia() error {
	md := m.Media
	switch {
	case md == nil:
		return protoErrorf(reasonJSON, "media message without media")
	case md.Track != trackInbound && md.Track != trackOutbound:
		return protoErrorf(reasonTrack, "media of unknown track %q (want inbound or outbound)", md.Track)
	case !md.Chunk.set || !md.Timestamp.set:
		return protoErrorf(reasonJSON, "media message without chunk or timestamp")
	case md.Timestamp.v > maxTimestampMS:
		return protoErrorf(reasonJSON, "media timestamp %d ms is past a day", md.Timestamp.v)
	case md.Payload == "":
		return protoErrorf(reasonPayload, "media message without payload")
	case base64.StdEncoding.DecodedLen(len(md.Payload)) > maxPayloadBytes+2:
		return protoErrorf(reasonPayload, "media payload of %d base64 bytes is longer than 120 ms", len(md.Payload))
	}
	p, err := base64.StdEncoding.DecodeString(md.Payload)
	if err != nil {
		return protoErrorf(reasonPayload, "media payload is not base64: %v", err)
	}
	if len(p) == 0 || len(p) > maxPayloadBytes {
		return protoErrorf(reasonPayload, "media payload of %d bytes (1 to %d)", len(p), maxPayloadBytes)
	}
	m.payload = p
	return nil
}
