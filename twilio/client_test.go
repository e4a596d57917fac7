package twilio_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"talkratio/ingest/ingesttest"
	"talkratio/twilio"
)

// client plays Twilio's side of a Media Stream, message by message as
// Twilio's "Media Streams - WebSocket Messages" page documents them: the
// JSON is written out here rather than with the handler's types, so the
// test holds the handler to the spec, not to itself.
type client struct {
	t         testing.TB
	conn      *websocket.Conn
	seq       int
	streamSid string
	callSid   string
	chunk     map[string]int
}

const (
	testToken      = "0123456789abcdef0123456789abcdef"
	testAccountSid = "AC00000000000000000000000000000000"
)

// dial opens the websocket to url, signed with token as Twilio signs it:
// X-Twilio-Signature is the base64 HMAC-SHA1 of the URL, keyed with the
// auth token. It returns the HTTP status when the upgrade is refused.
func dial(t testing.TB, url, token string) (*client, int, error) {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("X-Twilio-Signature", twilio.Signature([]byte(token), url))
	}
	conn, resp, err := websocket.DefaultDialer.Dial(url, h)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		return nil, status, err
	}
	// The test holds the socket open until it ends (an unreferenced
	// connection would be closed by its finalizer).
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn, streamSid: "MZ18ad3ab5a668481ce02b83e7395059f0", callSid: "CA5e3bd5c85c4de7b3de35b6bac55ae6cb", chunk: map[string]int{}}, resp.StatusCode, nil
}

func (c *client) send(v map[string]any) error {
	if v["event"] != "connected" {
		c.seq++
		v["sequenceNumber"] = strconv.Itoa(c.seq)
	}
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.conn.WriteMessage(websocket.TextMessage, b)
}

func (c *client) connected() error {
	return c.send(map[string]any{"event": "connected", "protocol": "Call", "version": "1.0.0"})
}

func (c *client) start(params map[string]string) error {
	if params == nil {
		params = map[string]string{}
	}
	return c.send(map[string]any{
		"event": "start",
		"start": map[string]any{
			"accountSid":       testAccountSid,
			"streamSid":        c.streamSid,
			"callSid":          c.callSid,
			"tracks":           []string{"inbound", "outbound"},
			"mediaFormat":      map[string]any{"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
			"customParameters": params,
		},
		"streamSid": c.streamSid,
	})
}

// media sends one track's mu-law chunk at timestamp ms (a string, as
// Twilio sends it); the chunk number counts up per track.
func (c *client) media(track string, ms int, mulaw []byte) error {
	c.chunk[track]++
	return c.send(map[string]any{
		"event": "media",
		"media": map[string]any{
			"track":     track,
			"chunk":     strconv.Itoa(c.chunk[track]),
			"timestamp": strconv.Itoa(ms),
			"payload":   base64.StdEncoding.EncodeToString(mulaw),
		},
		"streamSid": c.streamSid,
	})
}

func (c *client) mark(name string) error {
	return c.send(map[string]any{"event": "mark", "streamSid": c.streamSid, "mark": map[string]any{"name": name}})
}

func (c *client) dtmf(digit string) error {
	return c.send(map[string]any{"event": "dtmf", "streamSid": c.streamSid, "dtmf": map[string]any{"track": "inbound_track", "digit": digit}})
}

func (c *client) stop() error {
	return c.send(map[string]any{
		"event":     "stop",
		"streamSid": c.streamSid,
		"stop":      map[string]any{"accountSid": testAccountSid, "callSid": c.callSid},
	})
}

// closeCode waits for the server's close frame and returns its code and
// reason.
func (c *client) closeCode(d time.Duration) (int, string) {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(d))
	for {
		_, _, err := c.conn.ReadMessage()
		if err == nil {
			continue
		}
		if ce, ok := err.(*websocket.CloseError); ok {
			return ce.Code, ce.Text
		}
		c.t.Fatalf("no close frame: %v", err)
		return 0, ""
	}
}

// publish sends the test call: outbound (the rep, by default) and inbound
// 20 ms chunks, paced at speed times real time.
func (c *client) publish(speed float64, skip func(track string, i int) bool) error {
	rep, cust, err := ingesttest.Fixture()
	if err != nil {
		return err
	}
	const chunk = 160 // 20 ms at 8 kHz
	start := time.Now()
	for i := 0; i*chunk < len(rep); i++ {
		for _, tr := range []struct {
			name string
			pcm  []float32
		}{{"outbound", rep}, {"inbound", cust}} {
			if skip != nil && skip(tr.name, i) {
				continue
			}
			seg := tr.pcm[i*chunk : min(len(tr.pcm), (i+1)*chunk)]
			if err := c.media(tr.name, i*20, ingesttest.EncodeMuLaw(nil, seg)); err != nil {
				return fmt.Errorf("media %d: %w", i, err)
			}
		}
		if wait := time.Duration(float64((i+1)*20)*float64(time.Millisecond)/speed) - time.Since(start); wait > 0 {
			time.Sleep(wait)
		}
	}
	return nil
}
