package audiohook_test

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"talkratio/ingest/ingesttest"
)

// client plays Genesys's side of an AudioHook session, written from the
// AudioHook protocol specification: the connection request with its
// headers and HTTP message signature, then the client messages (open,
// ping, paused, resumed, discarded, close) and binary audio frames.
type client struct {
	t         testing.TB
	conn      *websocket.Conn
	sessionID string
	seq       int
	serverSeq int
	pos       time.Duration // audio sent or skipped so far
	channels  []string
}

const (
	testOrg          = "d7934305-0972-4844-938e-9060eef73d05"
	testConversation = "090eaa2f-72fa-480a-83e0-8667ff89c0ec"
	testKey          = "SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh"
	testSecretB64    = "TXlTdXBlclNlY3JldEtleVRlbGxOby0xITJAMyM0JDU="
)

func uuid4() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// signedHeaders builds the connection request's headers, signed as
// AudioHook signs them: an RFC 9421 signature labelled sig1 over
// @request-target, @authority and the four headers, with keyid (the API
// key), a nonce, alg hmac-sha256, created and expires, HMAC-SHA256 keyed
// with the base64-decoded client secret.
func signedHeaders(rawURL, apiKey, secretB64, sessionID string, created time.Time, nonce string) http.Header {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(err)
	}
	h := http.Header{}
	h.Set("Audiohook-Organization-Id", testOrg)
	h.Set("Audiohook-Correlation-Id", uuid4())
	h.Set("Audiohook-Session-Id", sessionID)
	h.Set("X-API-KEY", apiKey)
	if secretB64 == "" {
		return h
	}
	secret, err := base64.StdEncoding.DecodeString(secretB64)
	if err != nil {
		panic(err)
	}
	params := fmt.Sprintf(`("@request-target" "@authority" "audiohook-organization-id" "audiohook-session-id" "audiohook-correlation-id" "x-api-key");keyid="%s";nonce="%s";alg="hmac-sha256";created=%d;expires=%d`,
		apiKey, nonce, created.Unix(), created.Add(5*time.Minute).Unix())
	base := strings.Join([]string{
		`"@request-target": ` + u.RequestURI(),
		`"@authority": ` + u.Host,
		`"audiohook-organization-id": ` + h.Get("Audiohook-Organization-Id"),
		`"audiohook-session-id": ` + h.Get("Audiohook-Session-Id"),
		`"audiohook-correlation-id": ` + h.Get("Audiohook-Correlation-Id"),
		`"x-api-key": ` + apiKey,
		`"@signature-params": ` + params,
	}, "\n")
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(base))
	h.Set("Signature-Input", "sig1="+params)
	h.Set("Signature", "sig1=:"+base64.StdEncoding.EncodeToString(mac.Sum(nil))+":")
	return h
}

func nonce() string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// dial connects with the given headers; on refusal it returns the status.
func dial(t testing.TB, rawURL string, h http.Header) (*client, int, error) {
	t.Helper()
	conn, resp, err := websocket.DefaultDialer.Dial(rawURL, h)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		return nil, status, err
	}
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn, sessionID: h.Get("Audiohook-Session-Id")}, resp.StatusCode, nil
}

// send writes one client message: version 2, the session id, seq counting
// from 1, the last serverseq seen, and the stream position.
func (c *client) send(typ string, params any) error {
	c.seq++
	b, err := json.Marshal(map[string]any{
		"version":    "2",
		"id":         c.sessionID,
		"type":       typ,
		"seq":        c.seq,
		"serverseq":  c.serverSeq,
		"position":   duration(c.pos),
		"parameters": params,
	})
	if err != nil {
		c.t.Fatal(err)
	}
	return c.conn.WriteMessage(websocket.TextMessage, b)
}

func duration(d time.Duration) string {
	return "PT" + strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "S"
}

// serverMessage is what the server sends.
type serverMessage struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	Seq        int             `json:"seq"`
	ClientSeq  int             `json:"clientseq"`
	Parameters json.RawMessage `json:"parameters"`
}

// read waits for the next server message, checking its sequence numbers.
func (c *client) read(d time.Duration) (serverMessage, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(d))
	for {
		typ, b, err := c.conn.ReadMessage()
		if err != nil {
			return serverMessage{}, err
		}
		if typ != websocket.TextMessage {
			continue
		}
		var m serverMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return m, err
		}
		if m.Version != "2" || m.ID != c.sessionID || m.Seq != c.serverSeq+1 || m.ClientSeq > c.seq {
			return m, fmt.Errorf("server message out of protocol: %s", b)
		}
		c.serverSeq = m.Seq
		return m, nil
	}
}

// expect reads the next message and checks its type.
func (c *client) expect(typ string) serverMessage {
	c.t.Helper()
	m, err := c.read(5 * time.Second)
	if err != nil {
		c.t.Fatalf("waiting for %s: %v", typ, err)
	}
	if m.Type != typ {
		c.t.Fatalf("got %s %s, want %s", m.Type, m.Parameters, typ)
	}
	return m
}

// open runs the open transaction, offering media, and returns the
// server's answer.
func (c *client) open(conversation string, media ...map[string]any) (serverMessage, error) {
	if err := c.sendOpen(conversation, media...); err != nil {
		return serverMessage{}, err
	}
	m, err := c.read(5 * time.Second)
	if err == nil && m.Type == "opened" {
		var p struct {
			Media []struct {
				Channels []string `json:"channels"`
			} `json:"media"`
		}
		if err := json.Unmarshal(m.Parameters, &p); err == nil && len(p.Media) == 1 {
			c.channels = p.Media[0].Channels
		}
	}
	return m, err
}

// sendOpen sends the open message.
func (c *client) sendOpen(conversation string, media ...map[string]any) error {
	if media == nil {
		media = []map[string]any{
			{"type": "audio", "format": "PCMU", "channels": []string{"external", "internal"}, "rate": 8000},
			{"type": "audio", "format": "PCMU", "channels": []string{"external"}, "rate": 8000},
			{"type": "audio", "format": "PCMU", "channels": []string{"internal"}, "rate": 8000},
		}
	}
	return c.send("open", map[string]any{
		"organizationId": testOrg,
		"conversationId": conversation,
		"participant":    map[string]any{"id": uuid4(), "ani": "+13175555555", "aniName": "John Doe", "dnis": "+13175555554"},
		"media":          media,
		"language":       "en-US",
	})
}

// audio sends one frame of the rep's and customer's samples, interleaved
// in the order of the opened media's channels.
func (c *client) audio(rep, cust []float32) error {
	var b []byte
	for i := range rep {
		for _, ch := range c.channels {
			v := cust[i]
			if ch == "internal" {
				v = rep[i]
			}
			b = ingesttest.EncodeMuLaw(b, []float32{v})
		}
	}
	c.pos += time.Duration(len(rep)) * time.Second / 8000
	return c.conn.WriteMessage(websocket.BinaryMessage, b)
}

// closeSession runs the close transaction and closes the socket.
func (c *client) closeSession(reason string) error {
	if err := c.send("close", map[string]any{"reason": reason}); err != nil {
		return err
	}
	for {
		m, err := c.read(5 * time.Second)
		if err != nil {
			return err
		}
		if m.Type == "closed" {
			break
		}
	}
	return c.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
}
