package audiohook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Protocol limits.
const (
	// protocolVersion is the AudioHook protocol version talkratio speaks.
	protocolVersion = "2"
	// maxTextBytes bounds a JSON message (the reference server's limit:
	// 64 KiB less one).
	maxTextBytes = 65535
	// maxFrameBytes bounds an audio frame: 2 s of stereo PCMU, ten times
	// what Genesys sends in one.
	maxFrameBytes = 32000
	// maxReadBytes is the websocket read limit: the larger of the two.
	maxReadBytes = maxTextBytes
	// maxMediaOffers bounds the open message's media list.
	maxMediaOffers = 16
	// maxPosition: a day of audio; a position beyond it is bogus.
	maxPosition = 24 * time.Hour
	// mediaRate: PCMU at 8 kHz, the rate talkratio accepts.
	mediaRate = 8000
)

// Channel names of the media parameters.
const (
	channelExternal = "external" // the customer (the party outside the contact center)
	channelInternal = "internal" // the agent: the rep
)

// nullUUID is the conversation id of a connection probe: Genesys checks
// that the server answers, then closes; no call is started.
const nullUUID = "00000000-0000-0000-0000-000000000000"

// Error reasons: the values of the errors_total metric's reason label.
const (
	reasonKey       = "key"       // X-API-KEY missing or unknown
	reasonSignature = "signature" // the request signature is missing, wrong, stale or replayed
	reasonUpgrade   = "upgrade"   // not a websocket request
	reasonBusy      = "busy"      // the service took no more calls
	reasonJSON      = "json"      // not a message of the protocol
	reasonSequence  = "sequence"  // seq not one more than the last, or serverseq ahead of ours
	reasonOrder     = "order"     // a message the session's state does not allow
	reasonMedia     = "media"     // no offered media talkratio takes
	reasonFrame     = "frame"     // an audio frame that is not whole samples of the media
	reasonIdentity  = "identity"  // organization or session id different from the request's
	reasonIdle      = "idle"      // nothing received for the idle timeout
	reasonClient    = "client"    // the client reported an error message
	reasonOther     = "other"
)

var errorReasons = []string{
	reasonKey, reasonSignature, reasonUpgrade, reasonBusy, reasonJSON, reasonSequence, reasonOrder,
	reasonMedia, reasonFrame, reasonIdentity, reasonIdle, reasonClient, reasonOther,
}

// protoError is a message or frame outside the protocol; reason is its
// metric label.
type protoError struct {
	reason string
	msg    string
}

func (e *protoError) Error() string { return e.msg }

func protoErrorf(reason, format string, args ...any) error {
	return &protoError{reason: reason, msg: fmt.Sprintf(format, args...)}
}

// clientMessage is a message Genesys (the client) sends: the fields every
// client message has, and its parameters decoded by type.
type clientMessage struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	Seq        int64           `json:"seq"`
	ServerSeq  int64           `json:"serverseq"`
	Position   string          `json:"position"`
	Parameters json.RawMessage `json:"parameters"`

	pos     time.Duration // Position, parsed
	open    *openParams
	rng     *rangeParams // resumed, discarded
	close   *closeParams
	errInfo *errorParams
}

type openParams struct {
	OrganizationID string       `json:"organizationId"`
	ConversationID string       `json:"conversationId"`
	Participant    participant  `json:"participant"`
	Media          []mediaParam `json:"media"`
	Language       string       `json:"language"`
}

type participant struct {
	ID      string `json:"id"`
	ANI     string `json:"ani"`
	ANIName string `json:"aniName"`
	DNIS    string `json:"dnis"`
}

// mediaParam is one media format, offered in open and chosen in opened.
type mediaParam struct {
	Type     string   `json:"type"`
	Format   string   `json:"format"`
	Channels []string `json:"channels"`
	Rate     int      `json:"rate"`
}

// rangeParams: the stretch of the stream a resumed or discarded message
// says was not sent.
type rangeParams struct {
	Start     string `json:"start"`
	Discarded string `json:"discarded"`

	start, discarded time.Duration
}

type closeParams struct {
	Reason string `json:"reason"`
}

type errorParams struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// durationRE is the protocol's duration: ISO 8601 seconds, "PT1.25S".
// It and uuidRE are compiled on first use, not at start-up, where every
// run of the binary (a short `talkratio analyze` too) would pay for them.
var durationRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^PT([0-9]{1,9})(\.[0-9]{1,9})?S$`)
})

// parseDuration reads a protocol duration.
func parseDuration(s string) (time.Duration, error) {
	m := durationRE().FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("duration %q is not of the form PT<seconds>S", s)
	}
	sec, _ := strconv.ParseInt(m[1], 10, 64)
	d := time.Duration(sec) * time.Second
	if frac := m[2]; frac != "" {
		ns, _ := strconv.ParseInt((frac[1:] + "000000000")[:9], 10, 64)
		d += time.Duration(ns)
	}
	if d > maxPosition {
		return 0, fmt.Errorf("duration %q is past a day", s)
	}
	return d, nil
}

// formatDuration writes a protocol duration.
func formatDuration(d time.Duration) string {
	return "PT" + strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "S"
}

// uuidRE: the ids AudioHook uses are RFC 4122 UUIDs.
var uuidRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
})

// parseClientMessage decodes and checks one text message from the client.
// Unknown types are returned as they are, for the session to refuse.
func parseClientMessage(b []byte) (*clientMessage, error) {
	if len(b) > maxTextBytes {
		return nil, protoErrorf(reasonJSON, "text message of %d bytes (at most %d)", len(b), maxTextBytes)
	}
	var m clientMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&m); err != nil {
		return nil, protoErrorf(reasonJSON, "not an AudioHook message: %v", err)
	}
	if dec.More() {
		return nil, protoErrorf(reasonJSON, "not an AudioHook message: data after the JSON object")
	}
	switch {
	case m.Version != protocolVersion:
		return nil, protoErrorf(reasonJSON, "protocol version %q (talkratio speaks %q)", m.Version, protocolVersion)
	case m.Type == "":
		return nil, protoErrorf(reasonJSON, "message without a type")
	case !uuidRE().MatchString(m.ID):
		return nil, protoErrorf(reasonJSON, "message id %q is not a UUID", truncate(m.ID, 64))
	case m.Seq < 1:
		return nil, protoErrorf(reasonSequence, "seq %d (client messages count from 1)", m.Seq)
	case m.ServerSeq < 0:
		return nil, protoErrorf(reasonSequence, "serverseq %d", m.ServerSeq)
	}
	pos, err := parseDuration(m.Position)
	if err != nil {
		return nil, protoErrorf(reasonJSON, "%s message position: %v", m.Type, err)
	}
	m.pos = pos
	params := func(v any) error {
		if len(m.Parameters) == 0 || string(m.Parameters) == "null" {
			return protoErrorf(reasonJSON, "%s message without parameters", m.Type)
		}
		if err := json.Unmarshal(m.Parameters, v); err != nil {
			return protoErrorf(reasonJSON, "%s message parameters: %v", m.Type, err)
		}
		return nil
	}
	switch m.Type {
	case "open":
		m.open = &openParams{}
		if err := params(m.open); err != nil {
			return nil, err
		}
		if err := m.open.check(); err != nil {
			return nil, err
		}
	case "resumed", "discarded":
		m.rng = &rangeParams{}
		if err := params(m.rng); err != nil {
			return nil, err
		}
		if m.rng.start, err = parseDuration(m.rng.Start); err != nil {
			return nil, protoErrorf(reasonJSON, "%s start: %v", m.Type, err)
		}
		if m.rng.discarded, err = parseDuration(m.rng.Discarded); err != nil {
			return nil, protoErrorf(reasonJSON, "%s discarded: %v", m.Type, err)
		}
		if m.rng.start+m.rng.discarded > maxPosition {
			return nil, protoErrorf(reasonJSON, "%s stretch ends past a day", m.Type)
		}
	case "close":
		m.close = &closeParams{}
		if err := params(m.close); err != nil {
			return nil, err
		}
		switch m.close.Reason {
		case "end", "error", "disconnect", "reconnect":
		default:
			return nil, protoErrorf(reasonJSON, "close reason %q", truncate(m.close.Reason, 64))
		}
	case "error":
		m.errInfo = &errorParams{}
		if err := params(m.errInfo); err != nil {
			return nil, err
		}
	}
	return &m, nil
}

func (o *openParams) check() error {
	switch {
	case !uuidRE().MatchString(o.OrganizationID):
		return protoErrorf(reasonJSON, "open: organizationId %q is not a UUID", truncate(o.OrganizationID, 64))
	case !uuidRE().MatchString(o.ConversationID):
		return protoErrorf(reasonJSON, "open: conversationId %q is not a UUID", truncate(o.ConversationID, 64))
	case len(o.Media) == 0 && o.ConversationID != nullUUID:
		return protoErrorf(reasonMedia, "open: no media offered")
	case len(o.Media) > maxMediaOffers:
		return protoErrorf(reasonMedia, "open: %d media offered (at most %d)", len(o.Media), maxMediaOffers)
	}
	return nil
}

// usable reports whether talkratio takes a media format: PCMU at 8 kHz,
// one or both of the external and internal channels, each once.
func (m mediaParam) usable() bool {
	if m.Type != "audio" || !strings.EqualFold(m.Format, "PCMU") || m.Rate != mediaRate || len(m.Channels) < 1 || len(m.Channels) > 2 {
		return false
	}
	seen := map[string]bool{}
	for _, c := range m.Channels {
		if (c != channelExternal && c != channelInternal) || seen[c] {
			return false
		}
		seen[c] = true
	}
	return true
}

// chooseMedia picks the media to open with: the first offered stereo
// PCMU, else the first usable one (a single channel); false if none.
func chooseMedia(offers []mediaParam) (mediaParam, bool) {
	var first *mediaParam
	for i, m := range offers {
		if !m.usable() {
			continue
		}
		if len(m.Channels) == 2 {
			return m, true
		}
		if first == nil {
			first = &offers[i]
		}
	}
	if first != nil {
		return *first, true
	}
	return mediaParam{}, false
}

// checkFrame checks a binary audio frame against the media: whole samples
// of every channel, within the size limit. It returns the samples per
// channel.
func checkFrame(b []byte, m mediaParam) (int, error) {
	ch := len(m.Channels)
	switch {
	case ch == 0:
		return 0, protoErrorf(reasonOrder, "audio frame before the media was chosen")
	case len(b) == 0:
		return 0, protoErrorf(reasonFrame, "empty audio frame")
	case len(b) > maxFrameBytes:
		return 0, protoErrorf(reasonFrame, "audio frame of %d bytes (at most %d)", len(b), maxFrameBytes)
	case len(b)%ch != 0:
		return 0, protoErrorf(reasonFrame, "audio frame of %d bytes is not whole samples of %d channels", len(b), ch)
	}
	return len(b) / ch, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
