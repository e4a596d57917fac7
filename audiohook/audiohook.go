package audiohook

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"talkratio/audio"
	"talkratio/ingest"
)

// Timing.
const (
	// DefaultIdleTimeout: Genesys sends audio every few tens of
	// milliseconds and pings while the stream is paused; a socket silent
	// this long is dead.
	DefaultIdleTimeout = 60 * time.Second
	// closeGrace: after the server asks the client to disconnect, it has
	// this long to close the session before the socket is dropped.
	closeGrace = 5 * time.Second
	// writeWait bounds one write to a client that reads nothing.
	writeWait = 2 * time.Second
	// shutdownWait: how long Close waits for sessions to finish.
	shutdownWait = closeGrace + time.Second
)

// Config configures a Handler.
type Config struct {
	// Parent opens the calls (required).
	Parent ingest.Parent
	// Keys maps each accepted API key to its client secret (required; see
	// LoadKeys). A key with an empty secret takes unsigned requests.
	Keys map[string][]byte
	// IdleTimeout ends a session that sends nothing for this long
	// (DefaultIdleTimeout when 0).
	IdleTimeout time.Duration
	// Log receives the handler's log lines (slog.Default when nil).
	Log *slog.Logger
	// Metrics counts what the handler does (NewMetrics when nil); the
	// caller registers it.
	Metrics *Metrics
	// Now is the clock signatures are checked against (time.Now when nil).
	Now func() time.Time
}

// Metrics are the handler's Prometheus counters. No per-call labels.
type Metrics struct {
	CallsStarted prometheus.Counter
	Frames       prometheus.Counter
	Missing      *ingest.Counters // seconds of audio the client did not send, by reason
	Errors       *ingest.Counters // by reason
}

// NewMetrics returns the handler's counters, every labelled series created.
func NewMetrics() *Metrics {
	return &Metrics{
		CallsStarted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "talkratio_audiohook_calls_started_total",
			Help: "Calls started from Genesys AudioHook sessions (connection probes not counted).",
		}),
		Frames: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "talkratio_audiohook_audio_frames_total",
			Help: "AudioHook binary audio frames received.",
		}),
		Missing: ingest.NewCounters("talkratio_audiohook_missing_audio_seconds_total",
			"Seconds of AudioHook stream the client declared it did not send, by reason (paused, discarded); counted as missing audio, not silence.",
			"reason", "paused", "discarded"),
		Errors: ingest.NewCounters("talkratio_audiohook_errors_total",
			"AudioHook connections or messages refused, by reason (key, signature, upgrade, busy, json, sequence, order, media, frame, identity, idle, client, other).",
			"reason", errorReasons...),
	}
}

// Collectors lists the metrics, to register on the service's registry.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.CallsStarted, m.Frames, m.Missing.Collector(), m.Errors.Collector()}
}

// Handler is the AudioHook websocket endpoint (an http.Handler, to mount
// at /ingest/audiohook).
type Handler struct {
	cfg     Config
	log     *slog.Logger
	m       *Metrics
	limiter ingest.LogLimiter
	nonces  nonceCache
	up      websocket.Upgrader

	mu       sync.Mutex
	closed   bool
	sessions map[*session]struct{}
	wg       sync.WaitGroup
}

// NewHandler checks cfg and returns the handler.
func NewHandler(cfg Config) (*Handler, error) {
	if cfg.Parent == nil {
		return nil, errors.New("audiohook: no parent to start calls in")
	}
	if len(cfg.Keys) == 0 {
		return nil, errNoKeys
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &Handler{cfg: cfg, log: cfg.Log.With("ingest", ingest.SourceAudioHook), m: cfg.Metrics, sessions: map[*session]struct{}{}}
	// Genesys is no browser and sends no Origin; the API key and the
	// signature authenticate the request.
	h.up = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	return h, nil
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := h.log.With("remote", r.RemoteAddr, "session_id", truncate(r.Header.Get(HeaderSessionID), 64),
		"correlation_id", truncate(r.Header.Get(HeaderCorrelationID), 64))
	if err := verifyRequest(r, h.cfg.Keys, h.cfg.Now(), &h.nonces); err != nil {
		reason := reasonOther
		var ae *authError
		if errors.As(err, &ae) {
			reason = ae.reason
		}
		h.m.Errors.Inc(reason)
		h.limiter.Warn(log, reason, "audiohook: request refused", "err", err)
		httpError(w, http.StatusUnauthorized, "authentication failed")
		return
	}
	if !websocket.IsWebSocketUpgrade(r) {
		h.m.Errors.Inc(reasonUpgrade)
		httpError(w, http.StatusBadRequest, "AudioHook connects with a websocket")
		return
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		httpError(w, http.StatusServiceUnavailable, "shutting down")
		return
	}
	h.wg.Add(1)
	h.mu.Unlock()
	defer h.wg.Done()
	conn, err := h.up.Upgrade(w, r, nil)
	if err != nil {
		h.m.Errors.Inc(reasonUpgrade)
		h.limiter.Warn(log, reasonUpgrade, "audiohook: websocket upgrade failed", "err", err)
		return
	}
	s := &session{
		h: h, conn: conn, log: log, done: make(chan struct{}),
		orgID: r.Header.Get(HeaderOrganizationID), sessionID: r.Header.Get(HeaderSessionID),
	}
	// Server messages carry the session id from the first: the request's,
	// else the first client message's.
	if uuidRE.MatchString(s.sessionID) {
		s.id = s.sessionID
	}
	if !h.add(s) {
		_ = conn.Close()
		return
	}
	defer h.remove(s)
	s.run(r.Context())
}

func (h *Handler) add(s *session) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.sessions[s] = struct{}{}
	return true
}

func (h *Handler) remove(s *session) {
	h.mu.Lock()
	delete(h.sessions, s)
	h.mu.Unlock()
}

// Close ends every session (their calls end with reason shutdown; each
// client is asked to disconnect), refuses new ones, and waits for the
// sessions to finish.
func (h *Handler) Close() {
	h.mu.Lock()
	h.closed = true
	ss := make([]*session, 0, len(h.sessions))
	for s := range h.sessions {
		ss = append(ss, s)
	}
	h.mu.Unlock()
	for _, s := range ss {
		s.disconnect(ingest.EndShutdown, "completed", "the service is shutting down")
	}
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(shutdownWait):
		h.log.Warn("audiohook: sessions still running at shutdown")
	}
}

// state is where a session is in the protocol.
type state int

const (
	stPreparing    state = iota // waiting for open
	stActive                    // audio flows
	stPaused                    // the client paused the stream
	stDisconnected              // the server sent disconnect; waiting for close
	stClosed                    // close answered; waiting for the socket to close
)

// session is one AudioHook connection. Its ServeHTTP goroutine is the
// only reader; writes go through send, under wmu.
type session struct {
	h         *Handler
	conn      *websocket.Conn
	log       *slog.Logger
	orgID     string // from the request headers
	sessionID string

	wmu       sync.Mutex
	seq       int64 // last server message sequence number
	clientSeq int64 // last client message sequence number
	id        string

	// mu guards what disconnect (another goroutine) reads and writes.
	mu        sync.Mutex
	state     state
	call      ingest.Call
	endReason string // the reason disconnect ended the session for

	// Owned by the reader.
	media  mediaParam
	roles  []ingest.Role // per media channel
	pos    int64         // stream position in samples at mediaRate
	frames int64
	probe  bool
	dec    []byte
	pcm    []float32

	doneOnce sync.Once
	done     chan struct{}
}

// send writes one server message.
func (s *session) send(typ string, params any) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.seq++
	msg := map[string]any{
		"version":    protocolVersion,
		"type":       typ,
		"id":         s.id,
		"seq":        s.seq,
		"clientseq":  s.clientSeq,
		"parameters": params,
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(writeWait))
	return s.conn.WriteMessage(websocket.TextMessage, b)
}

// hangUp closes the socket, once.
func (s *session) hangUp() {
	s.doneOnce.Do(func() {
		close(s.done)
		s.wmu.Lock()
		_ = s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(writeWait))
		s.wmu.Unlock()
		_ = s.conn.Close()
	})
}

// disconnect ends the call (if any) for endReason and asks the client to
// disconnect (reason completed, unauthorized or error); the client then
// closes the session, or is dropped after closeGrace.
func (s *session) disconnect(endReason, reason, info string) {
	s.mu.Lock()
	call, st := s.call, s.state
	if st < stDisconnected {
		s.state = stDisconnected
	}
	if s.endReason == "" {
		s.endReason = endReason
	}
	s.mu.Unlock()
	if call != nil {
		call.End(endReason)
	}
	if st >= stDisconnected {
		return
	}
	if err := s.send("disconnect", map[string]string{"reason": reason, "info": info}); err != nil {
		s.hangUp()
		return
	}
	// The reader returns at this deadline if the client never closes.
	_ = s.conn.SetReadDeadline(time.Now().Add(closeGrace))
}

// fail refuses a message or frame outside the protocol.
func (s *session) fail(err error) {
	reason := reasonOther
	var pe *protoError
	if errors.As(err, &pe) {
		reason = pe.reason
	}
	s.h.m.Errors.Inc(reason)
	s.h.limiter.Warn(s.log, reason, "audiohook: protocol error", "err", err)
	s.disconnect(ingest.EndError, "error", truncate(err.Error(), 200))
}

func (s *session) getState() state {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

func (s *session) setState(st state) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state < stDisconnected || st > s.state {
		s.state = st
	}
}

func (s *session) run(ctx context.Context) {
	defer s.hangUp()
	// Whatever ended the session, its call ends with it (a reason given
	// earlier wins).
	defer s.endCall(ingest.EndFailed)
	s.conn.SetReadLimit(maxReadBytes)
	for {
		if st := s.getState(); st < stDisconnected {
			_ = s.conn.SetReadDeadline(time.Now().Add(s.h.cfg.IdleTimeout))
		}
		typ, data, err := s.conn.ReadMessage()
		if err != nil {
			s.readFailed(err)
			return
		}
		if typ == websocket.BinaryMessage {
			s.frame(data)
			continue
		}
		m, err := parseClientMessage(data)
		if err != nil {
			if s.getState() >= stDisconnected {
				continue // only close matters now
			}
			s.fail(err)
			continue
		}
		if !s.handle(ctx, m) {
			return
		}
	}
}

// readFailed ends the session when the socket did.
func (s *session) readFailed(err error) {
	select {
	case <-s.done:
		return
	default:
	}
	st := s.getState()
	var ne interface{ Timeout() bool }
	switch {
	case st == stClosed:
		// The close transaction is done; the client closed the socket.
	case st == stDisconnected:
		s.log.Info("audiohook: client did not close after disconnect; dropped", "err", err)
	case errors.As(err, &ne) && ne.Timeout():
		s.h.m.Errors.Inc(reasonIdle)
		s.log.Warn("audiohook: session idle, dropped", "idle", s.h.cfg.IdleTimeout.String())
		s.endCall(ingest.EndFailed)
	case errors.Is(err, websocket.ErrReadLimit):
		s.h.m.Errors.Inc(reasonJSON)
		s.log.Warn("audiohook: message over the read limit", "limit", maxReadBytes)
		s.endCall(ingest.EndError)
	default:
		s.log.Info("audiohook: websocket closed without a close transaction", "err", err)
		s.endCall(ingest.EndFailed)
	}
}

func (s *session) endCall(reason string) {
	s.mu.Lock()
	call := s.call
	s.mu.Unlock()
	if call != nil {
		call.End(reason)
	}
}

// handle acts on one client message; false ends the session.
func (s *session) handle(ctx context.Context, m *clientMessage) bool {
	st := s.getState()
	// Sequence numbers (AudioHook "Sequence numbers"): each client message
	// is one more than the last; serverseq never ahead of what we sent.
	s.wmu.Lock()
	seqOK := m.Seq == s.clientSeq+1
	serverOK := m.ServerSeq <= s.seq
	if seqOK {
		s.clientSeq = m.Seq
	}
	if s.id == "" {
		s.id = m.ID
	}
	idOK := m.ID == s.id
	s.wmu.Unlock()
	if st >= stDisconnected {
		// Waiting for close: answer it, and pings; ignore the rest.
		switch m.Type {
		case "close":
			s.closeTransaction(m)
		case "ping":
			_ = s.send("pong", struct{}{})
		}
		return true
	}
	switch {
	case !seqOK:
		s.fail(protoErrorf(reasonSequence, "seq %d after %d", m.Seq, s.clientSeq))
		return true
	case !serverOK:
		s.fail(protoErrorf(reasonSequence, "serverseq %d ahead of the server's %d", m.ServerSeq, s.seq))
		return true
	case !idOK || (s.sessionID != "" && m.ID != s.sessionID):
		s.fail(protoErrorf(reasonIdentity, "message id %s is not the session's", m.ID))
		return true
	}
	switch m.Type {
	case "open":
		if st != stPreparing {
			s.fail(protoErrorf(reasonOrder, "a second open"))
			return true
		}
		s.open(ctx, m)
	case "ping":
		_ = s.send("pong", struct{}{})
	case "paused":
		if st != stActive {
			s.fail(protoErrorf(reasonOrder, "paused while not active"))
			return true
		}
		s.setState(stPaused)
		s.log.Info("audiohook: stream paused", "position", m.Position)
	case "resumed":
		if st != stPaused {
			s.fail(protoErrorf(reasonOrder, "resumed while not paused"))
			return true
		}
		s.skip("paused", m.rng)
		s.setState(stActive)
		s.log.Info("audiohook: stream resumed", "start", m.rng.Start, "discarded", m.rng.Discarded)
	case "discarded":
		if st != stActive && st != stPaused {
			s.fail(protoErrorf(reasonOrder, "discarded before open"))
			return true
		}
		s.skip("discarded", m.rng)
	case "update":
		s.log.Info("audiohook: update", "parameters", truncate(string(m.Parameters), 200))
	case "error":
		s.h.m.Errors.Inc(reasonClient)
		s.h.limiter.Warn(s.log, reasonClient, "audiohook: client reports an error", "code", m.errInfo.Code, "message", truncate(m.errInfo.Message, 200))
	case "close":
		s.closeTransaction(m)
	default:
		s.fail(protoErrorf(reasonJSON, "unknown message type %q", truncate(m.Type, 32)))
	}
	return true
}

// closeTransaction answers close with closed and ends the call.
func (s *session) closeTransaction(m *clientMessage) {
	reason := ingest.EndClosed
	if m.close.Reason == "error" {
		reason = ingest.EndError
	}
	s.endCall(reason)
	s.setState(stClosed)
	if err := s.send("closed", struct{}{}); err != nil {
		s.hangUp()
		return
	}
	s.log.Info("audiohook: session closed", "reason", m.close.Reason, "position", m.Position)
	// The client closes the socket next; don't wait forever for it.
	_ = s.conn.SetReadDeadline(time.Now().Add(closeGrace))
}

// open answers the open transaction: media negotiation, then the call.
func (s *session) open(ctx context.Context, m *clientMessage) {
	o := m.open
	if s.orgID != "" && o.OrganizationID != s.orgID {
		s.h.m.Errors.Inc(reasonIdentity)
		s.log.Warn("audiohook: organizationId differs from the request's", "open", o.OrganizationID, "header", truncate(s.orgID, 64))
		s.disconnect(ingest.EndError, "unauthorized", "organizationId differs from the request's")
		return
	}
	s.log = s.log.With("conversation_id", o.ConversationID)
	if o.ConversationID == nullUUID {
		// A connection probe: answer, start nothing.
		s.probe = true
		md, ok := chooseMedia(o.Media)
		media := []mediaParam{}
		if ok {
			media = append(media, md)
		}
		s.setState(stActive)
		_ = s.send("opened", map[string]any{"media": media, "startPaused": false})
		s.log.Info("audiohook: connection probe answered")
		return
	}
	md, ok := chooseMedia(o.Media)
	if !ok {
		s.fail(protoErrorf(reasonMedia, "no offered media talkratio takes (PCMU at 8000 Hz, channels external and/or internal)"))
		return
	}
	s.media = md
	s.roles = make([]ingest.Role, len(md.Channels))
	for i, c := range md.Channels {
		if c == channelInternal {
			s.roles[i] = ingest.Rep
		} else {
			s.roles[i] = ingest.Customer
		}
	}
	customer := o.Participant.ANIName
	if customer == "" {
		customer = o.Participant.ANI
	}
	call, err := s.h.cfg.Parent.StartCall(ctx, ingest.CallMeta{
		Source: ingest.SourceAudioHook, ExternalID: o.ConversationID,
		Customer: customer, StartedAt: time.Now(),
	})
	if err != nil {
		reason, info := reasonOther, "the service cannot take the call"
		if errors.Is(err, ingest.ErrBusy) {
			reason, info = reasonBusy, "the service is at its call limit"
		}
		s.h.m.Errors.Inc(reason)
		s.h.limiter.Warn(s.log, reason, "audiohook: call refused", "err", err)
		s.disconnect(ingest.EndError, "error", info)
		return
	}
	s.mu.Lock()
	if s.state >= stDisconnected {
		// Disconnected (a shutdown) while the call was being started.
		reason := s.endReason
		s.mu.Unlock()
		call.End(reason)
		return
	}
	s.call, s.state = call, stActive
	s.mu.Unlock()
	s.h.m.CallsStarted.Inc()
	if err := s.send("opened", map[string]any{"media": []mediaParam{md}, "startPaused": false}); err != nil {
		call.End(ingest.EndFailed)
		s.hangUp()
		return
	}
	s.log.Info("audiohook: session opened", "channels", md.Channels, "position", m.Position)
	go func() {
		select {
		case <-call.Done():
			s.disconnect(ingest.EndClosed, "completed", "the call has ended")
		case <-s.done:
		}
	}()
}

// skip declares a stretch the client did not send (paused, discarded) as
// missing audio for both roles and moves the position past it.
func (s *session) skip(reason string, r *rangeParams) {
	start := samplesAt(r.start)
	n := samplesAt(r.discarded)
	if n > 0 && s.call != nil {
		k := ingest.Clock{ID: 0, Rate: mediaRate}
		for _, role := range s.roles {
			s.call.Missing(role, k, start, n, time.Now())
		}
		s.h.m.Missing.Add(reason, r.discarded.Seconds())
	}
	s.pos = max(s.pos, start+n)
}

func samplesAt(d time.Duration) int64 {
	return int64(d * mediaRate / time.Second)
}

// frame hands one binary audio frame to the call.
func (s *session) frame(b []byte) {
	st := s.getState()
	if st >= stDisconnected {
		return
	}
	if st != stActive || s.probe {
		s.fail(protoErrorf(reasonOrder, "audio frame while the session is not open and active"))
		return
	}
	n, err := checkFrame(b, s.media)
	if err != nil {
		s.fail(err)
		return
	}
	s.h.m.Frames.Inc()
	s.frames++
	at := time.Now()
	ch := len(s.media.Channels)
	if cap(s.dec) < n {
		s.dec, s.pcm = make([]byte, n), make([]float32, n)
	}
	dec, pcm := s.dec[:n], s.pcm[:n]
	for c, role := range s.roles {
		for i := range dec {
			dec[i] = b[i*ch+c]
		}
		audio.DecodeMuLaw(pcm, dec)
		// PCMU repeated up to the analysis rate: exact for the analysis,
		// which averages back down to 8 kHz.
		const factor = ingest.SampleRate / mediaRate
		up := make([]float32, factor*n)
		for i, v := range pcm {
			for j := range factor {
				up[factor*i+j] = v
			}
		}
		med := ingest.Media{Clock: ingest.Clock{ID: 0, Rate: mediaRate}, TS: s.pos, Seq: s.frames, At: at, PCM: up}
		if !s.call.Deliver(role, med) {
			s.disconnect(ingest.EndClosed, "completed", "the call has ended")
			return
		}
	}
	s.pos += int64(n)
}
