package ingest

import (
	"context"
	"errors"
	"time"

	"talkratio/tally"
)

// Role is who a stream of audio belongs to. It is the analysis's own role
// type, so the live call owner needs no mapping.
type Role = tally.Role

// The two roles of a call.
const (
	Rep      = tally.Rep
	Customer = tally.Customer
)

// SampleRate is the rate (Hz) of the PCM adapters deliver: the live
// analysis rate. G.711 is repeated up to it (exact for the analysis, which
// averages back down to 8 kHz), G.722 decodes to it natively and Opus is
// decoded straight to it.
const SampleRate = 16000

// Sources: the value of CallMeta.Source for each adapter.
const (
	SourceSIPREC    = "siprec"
	SourceTwilio    = "twilio"
	SourceAudioHook = "audiohook"
)

// End reasons an adapter gives Call.End. They are the live service's
// reasons, a bounded set (the values of the calls_ended_total label).
const (
	// EndClosed: the sender ended the call (SIP BYE or CANCEL, Twilio
	// stop, AudioHook close, the websocket closed cleanly).
	EndClosed = "closed"
	// EndFailed: the connection broke or went silent past its timeout.
	EndFailed = "failed"
	// EndError: the sender broke the protocol and the adapter gave up.
	EndError = "error"
	// EndShutdown: the adapter itself was closed (the service stops).
	EndShutdown = "shutdown"
)

// CallMeta describes a call an adapter opens.
type CallMeta struct {
	Source     string    // SourceSIPREC, SourceTwilio or SourceAudioHook
	ExternalID string    // the platform's id: SIP Call-ID, Twilio CallSid, Genesys conversation id
	Name       string    // a label for the dashboard
	Rep        string    // the rep's name or address, as the platform gave it
	Customer   string    // the customer's
	StartedAt  time.Time // when the platform says the call started (or when it reached us)
}

// Parent is what an ingest adapter needs from the service.
type Parent interface {
	// StartCall opens a live call; the adapter then feeds it media and
	// ends it. An error wrapping ErrBusy means the service is at its call
	// limit (the adapter answers 503 or its protocol's equivalent).
	StartCall(ctx context.Context, m CallMeta) (Call, error)
}

// Call is a live call as an adapter sees it. Its methods may be called
// from any goroutine, but an adapter calls them for one call from one
// goroutine at a time, in media order as received.
type Call interface {
	// Deliver hands one decoded packet or frame of one role to the call.
	// The call owns m.PCM from then on. It reports false once the call is
	// over (ended by the service, or by End): the adapter then stops.
	Deliver(role Role, m Media) bool
	// Missing declares that the sender said no audio exists for a role
	// from ts for n ticks of clock c (AudioHook paused or discarded): the
	// stretch is missing audio, never silence.
	Missing(role Role, c Clock, ts, n int64, at time.Time)
	// End ends the call for a reason (End*); the first reason wins, and
	// ending an ended call does nothing.
	End(reason string)
	// Done is closed when the call is over, whoever ended it: an adapter
	// holding a session open without media (a SIP call on hold) watches it
	// to tear the session down.
	Done() <-chan struct{}
}

// Clock is one media clock of a call: every timestamp on one Clock counts
// from the same origin at the same rate.
//
// Media of one call on the same Clock ID are placed relative to each other
// by their timestamps alone: Twilio's two tracks (milliseconds since the
// stream started) and AudioHook's two channels (one position) share Clock
// 0. Media on different Clock IDs are lined up by their arrival times, as
// WHIP tracks are: each RTP stream of a SIPREC session has a random
// timestamp base of its own, and a stream whose clock restarts (a new SSRC
// after a re-INVITE, a resume from hold) gets a new ID; the time between a
// role's last media on one Clock and its first on the next is missing
// audio.
type Clock struct {
	ID   int // distinct per independent timeline within a call
	Rate int // ticks per second: RTP clock rate (8000 for PCMU, PCMA and G.722; 48000 for Opus)
}

// Media is one decoded packet or frame of one role.
type Media struct {
	Clock Clock
	// TS is the media time of the first sample, in Clock.Rate ticks since
	// the clock's origin (for RTP: since the stream's first packet,
	// unwrapped; a packet reordered ahead of the first may be negative).
	TS int64
	// Seq numbers this role's media on this Clock: the next packet sent
	// has Seq+1. A later TS with the next Seq is a stretch the sender chose
	// to send nothing for (DTX, silence suppression): silence. A jump in
	// Seq is loss: the audio between is missing.
	Seq int64
	// At is when the packet or frame arrived.
	At time.Time
	// PCM is mono audio at SampleRate in [-1, 1]; empty when the payload
	// did not decode (its time is then missing, but Seq and TS still move
	// the role on).
	PCM []float32
}

// ErrBusy is wrapped by Parent.StartCall's error when the service takes no
// more calls now.
var ErrBusy = errors.New("the service is at its live call limit")
