// Package whipclient is a minimal WHIP client (RFC 9725): it publishes
// audio tracks into a talkratio service, as a rep's browser does. The load
// tool and the tests use it; it also shows, in a page of code, what any
// WHIP client does.
package whipclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// Publisher is one WHIP session publishing audio tracks.
type Publisher struct {
	pc       *webrtc.PeerConnection
	tracks   []*webrtc.TrackLocalStaticSample
	senders  []*webrtc.RTPSender
	location string
	callID   string
	client   *http.Client
	header   http.Header
}

// TrackSpec describes one audio track to publish.
type TrackSpec struct {
	StreamID string // e.g. "rep"; the server maps roles by it, or by order
	TrackID  string
	MimeType string // webrtc.MimeTypeOpus (default), MimeTypePCMU or MimeTypePCMA
	Channels int    // Opus: 2 for a stereo track
}

// PublishOptions configure Publish.
type PublishOptions struct {
	// Endpoint is the WHIP URL, e.g. http://localhost:8080/whip?name=demo.
	Endpoint string
	Tracks   []TrackSpec
	// Header is added to the WHIP requests (e.g. Authorization).
	Header http.Header
	// Client defaults to http.DefaultClient.
	Client *http.Client
	// SettingEngine lets tests use a virtual network.
	SettingEngine *webrtc.SettingEngine
	// EditOffer, when set, changes the offer as posted (tests: a broken
	// or hostile client); the client keeps its own.
	EditOffer func(sdp string) string
}

// Publish sends the offer, applies the answer and waits until media can
// flow (or ctx ends).
func Publish(ctx context.Context, o PublishOptions) (*Publisher, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, fmt.Errorf("codecs: %w", err)
	}
	opts := []func(*webrtc.API){webrtc.WithMediaEngine(me)}
	if o.SettingEngine != nil {
		opts = append(opts, webrtc.WithSettingEngine(*o.SettingEngine))
	} else {
		se := webrtc.SettingEngine{}
		se.SetIncludeLoopbackCandidate(true)
		opts = append(opts, webrtc.WithSettingEngine(se))
	}
	pc, err := webrtc.NewAPI(opts...).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("peer connection: %w", err)
	}
	p := &Publisher{pc: pc, client: o.Client, header: o.Header}
	if p.client == nil {
		p.client = http.DefaultClient
	}
	fail := func(err error) (*Publisher, error) {
		pc.Close()
		return nil, err
	}
	for _, t := range o.Tracks {
		c := webrtc.RTPCodecCapability{MimeType: t.MimeType, ClockRate: 8000}
		switch t.MimeType {
		case "", webrtc.MimeTypeOpus:
			c = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
			if t.Channels == 2 {
				c.SDPFmtpLine = "minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1"
			}
		}
		tr, err := webrtc.NewTrackLocalStaticSample(c, t.TrackID, t.StreamID)
		if err != nil {
			return fail(fmt.Errorf("track: %w", err))
		}
		tc, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return fail(fmt.Errorf("add track: %w", err))
		}
		p.tracks = append(p.tracks, tr)
		p.senders = append(p.senders, tc.Sender())
	}
	state := make(chan webrtc.PeerConnectionState, 16)
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		select {
		case state <- s:
		default:
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fail(fmt.Errorf("offer: %w", err))
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return fail(fmt.Errorf("set offer: %w", err))
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	sdp := pc.LocalDescription().SDP
	if o.EditOffer != nil {
		sdp = o.EditOffer(sdp)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.Endpoint, strings.NewReader(sdp))
	if err != nil {
		return fail(err)
	}
	req.Header.Set("Content-Type", "application/sdp")
	for k, v := range o.Header {
		req.Header[k] = v
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return fail(fmt.Errorf("POST %s: %w", o.Endpoint, err))
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		retry, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		msg := string(bytes.TrimSpace(body))
		var e struct{ Error string }
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			msg = e.Error // talkratio's own {"error": "..."}
		}
		return fail(&RefusedError{
			Endpoint:   o.Endpoint,
			Status:     resp.StatusCode,
			Message:    msg,
			RetryAfter: time.Duration(retry) * time.Second,
		})
	}
	loc, err := resp.Location()
	if err != nil {
		return fail(fmt.Errorf("WHIP answer without Location: %w", err))
	}
	p.location = loc.String()
	p.callID = resp.Header.Get("Talkratio-Call-Id")
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(body)}); err != nil {
		return fail(fmt.Errorf("set answer: %w", err))
	}
	for {
		select {
		case s := <-state:
			switch s {
			case webrtc.PeerConnectionStateConnected:
				pc.OnConnectionStateChange(nil)
				return p, nil
			case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
				return fail(errors.New("ICE/DTLS connection failed"))
			}
		case <-ctx.Done():
			return fail(ctx.Err())
		}
	}
}

// ReadRTCP returns the next RTCP the service sent about track i (its
// receiver reports); it blocks until some comes or the session closes.
func (p *Publisher) ReadRTCP(i int) ([]rtcp.Packet, error) {
	pkts, _, err := p.senders[i].ReadRTCP()
	return pkts, err
}

// CallID is the id of the call the session publishes into.
func (p *Publisher) CallID() string { return p.callID }

// Location is the WHIP session URL.
func (p *Publisher) Location() string { return p.location }

// WriteSample sends one encoded frame (an Opus packet, or G.711 bytes) of
// the given duration on track i.
func (p *Publisher) WriteSample(i int, data []byte, d time.Duration) error {
	return p.tracks[i].WriteSample(media.Sample{Data: data, Duration: d})
}

// WriteSampleAfterLoss sends a frame as if the lost frames before it had
// been sent and lost on the way: its sequence number and timestamp jump
// over them, as after a real drop-out.
func (p *Publisher) WriteSampleAfterLoss(i int, data []byte, d time.Duration, lost uint16) error {
	return p.tracks[i].WriteSample(media.Sample{Data: data, Duration: d, PrevDroppedPackets: lost})
}

// Close ends the session with DELETE (as WHIP says) and closes the
// connection. The server stores the call before it answers.
func (p *Publisher) Close(ctx context.Context) error {
	defer p.pc.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, p.location, nil)
	if err != nil {
		return err
	}
	for k, v := range p.header {
		req.Header[k] = v
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("DELETE %s: %w", p.location, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("DELETE %s: %s", p.location, resp.Status)
	}
	return nil
}

// Abort drops the connection without DELETE, as a crashed client would.
func (p *Publisher) Abort() error { return p.pc.Close() }

// RefusedError is a WHIP endpoint's refusal of an offer; RetryAfter is
// set when the service said when to come back (429 rate limit, 503 at
// capacity), so that a client can wait instead of giving up.
type RefusedError struct {
	Endpoint   string
	Status     int
	Message    string
	RetryAfter time.Duration
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("POST %s: %d %s: %s", e.Endpoint, e.Status, http.StatusText(e.Status), e.Message)
}
