package siprec

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"talkratio/ingest"
	"talkratio/siprec/rsmeta"
)

// session is one recording session: a SIP dialog, its streams, one call.
type session struct {
	srv        *Server
	log        *slog.Logger
	dlg        *sipgo.DialogServerSession
	call       ingest.Call
	ip         netip.Addr
	sessID     uint64
	version    atomic.Uint64
	inviteCSeq uint32
	clocks     atomic.Int64

	// mu guards the negotiated state, which re-INVITEs change.
	mu              sync.Mutex
	offer           *offer
	answer          []answerLine
	md              *rsmeta.Metadata
	assign          assignment
	streams         []*stream // by m-line; nil where no role is read
	acks            map[uint32]chan struct{}
	lastOfferHadSDP bool

	endOnce sync.Once
	done    chan struct{}
}

func (ss *session) nextVersion() uint64 { return ss.version.Add(1) }

func (ss *session) nextClock() int { return int(ss.clocks.Add(1)) }

// plan decides, for a new session, which m-lines are read as which role,
// opens their ports and returns the answer.
func (ss *session) plan(o *offer) ([]answerLine, error) {
	usable := make([]bool, len(o.lines))
	chosen := make([]codec, len(o.lines))
	for i := range o.lines {
		m := &o.lines[i]
		if m.media != "audio" || m.port == 0 {
			continue
		}
		if c, ok := m.choose(); ok {
			usable[i], chosen[i] = true, c
		}
	}
	a := assignRoles(o.lines, usable, ss.md, ss.srv.cfg.RepRule)
	ans := make([]answerLine, len(o.lines))
	streams := make([]*stream, len(o.lines))
	reading := false
	for i, role := range a.roles {
		if role == roleNone {
			continue
		}
		conn, port, err := ss.srv.ports.open()
		if err != nil {
			for _, st := range streams {
				if st != nil {
					st.conn.Close()
					ss.srv.ports.release(st.port)
				}
			}
			return nil, err
		}
		m := &o.lines[i]
		st := &stream{sess: ss, index: i, label: m.label, role: ingest.Role(role), conn: conn, port: port, done: make(chan struct{})}
		st.codec, st.dtmf, st.held = chosen[i], m.dtmf, !m.sending()
		streams[i] = st
		ans[i] = answerLine{port: port, codec: chosen[i], dtmf: m.dtmf, dir: answerDir(m)}
		reading = true
	}
	if !reading {
		return nil, fmt.Errorf("no audio stream talkratio can read: it decodes PCMU, PCMA, G722 and opus (offered: %s)", offeredCodecs(o))
	}
	ss.offer, ss.answer, ss.assign, ss.streams = o, ans, a, streams
	return ans, nil
}

func answerDir(m *mline) string {
	if m.sending() {
		return dirRecvOnly
	}
	return dirInactive
}

func offeredCodecs(o *offer) string {
	var names []string
	for _, m := range o.lines {
		if m.media != "audio" {
			names = append(names, m.media)
			continue
		}
		for _, c := range m.codecs {
			names = append(names, c.name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, " ")
}

// describe lists the streams for the log.
func (ss *session) describe() string {
	var parts []string
	for _, st := range ss.streams {
		if st != nil {
			parts = append(parts, fmt.Sprintf("%s:label=%s,%s,port=%d", st.role, st.label, st.codec.name, st.port))
		}
	}
	return strings.Join(parts, " ")
}

func (ss *session) startStreams() {
	for _, st := range ss.streams {
		if st != nil {
			go st.run()
		}
	}
}

// closeStreams stops the readers and frees the ports.
func (ss *session) closeStreams() {
	ss.mu.Lock()
	streams := ss.streams
	ss.streams = nil
	ss.mu.Unlock()
	for _, st := range streams {
		if st == nil {
			continue
		}
		st.conn.Close()
		ss.srv.ports.release(st.port)
	}
}

// watch ends the session when the service ends the call.
func (ss *session) watch() {
	select {
	case <-ss.call.Done():
		ss.serviceEnded()
	case <-ss.done:
	}
}

// serviceEnded: the call is over on the service's side; the SRC gets a
// BYE.
func (ss *session) serviceEnded() {
	ss.end(ingest.EndClosed, true)
}

// rtpTimeout ends a session whose stream went silent without a BYE.
func (ss *session) rtpTimeout(st *stream) {
	ss.srv.m.Errors.Inc(reasonRTPTimeout)
	ss.log.Warn("siprec: no RTP; session ended", "stream", st.label, "port", st.port, "timeout", ss.srv.cfg.RTPTimeout.String())
	go ss.end(ingest.EndFailed, true)
}

// end ends the session once: the call, the streams, and (bye) the
// dialog with a BYE to the SRC.
func (ss *session) end(reason string, bye bool) {
	ss.endOnce.Do(func() {
		close(ss.done)
		ss.call.End(reason)
		ss.closeStreams()
		if bye {
			// The session stays findable until the BYE is done: a BYE
			// waits for the ACK of the answer (RFC 3261 section 15), which
			// may still be on its way.
			ctx, cancel := context.WithTimeout(context.Background(), byeWait)
			if err := ss.dlg.Bye(ctx); err != nil {
				ss.log.Info("siprec: BYE to the SRC failed", "err", err)
			}
			cancel()
		}
		ss.srv.remove(ss.dlg.ID)
		_ = ss.dlg.Close()
	})
}

// ack takes an ACK of the session: of the INVITE, or of a re-INVITE.
func (ss *session) ack(req *sip.Request, tx sip.ServerTransaction) {
	seq := req.CSeq().SeqNo
	if seq == ss.inviteCSeq {
		if err := ss.dlg.ReadAck(req, tx); err != nil {
			ss.log.Debug("siprec: ACK", "err", err)
		}

		return
	}
	ss.mu.Lock()
	ch := ss.acks[seq]
	delete(ss.acks, seq)
	ss.mu.Unlock()
	if ch != nil {
		close(ch)
	}
}

// respondUntilAck sends a 2xx to a re-INVITE and retransmits it until its
// ACK comes.
func (ss *session) respondUntilAck(req *sip.Request, tx sip.ServerTransaction, res *sip.Response) {
	seq := req.CSeq().SeqNo
	acked := make(chan struct{})
	ss.mu.Lock()
	ss.acks[seq] = acked
	ss.mu.Unlock()
	defer func() {
		ss.mu.Lock()
		delete(ss.acks, seq)
		ss.mu.Unlock()
	}()
	wait := sip.T1
	deadline := time.After(ackWaitT1s * sip.T1)
	for {
		if err := tx.Respond(res); err != nil {
			ss.log.Debug("siprec: respond to re-INVITE", "err", err)
			return
		}
		select {
		case <-acked:
			return
		case <-ss.done:
			return
		case <-deadline:
			ss.srv.m.Errors.Inc(reasonNoAck)
			ss.log.Warn("siprec: re-INVITE answer not acknowledged")
			return
		case <-time.After(wait):
			wait = min(2*wait, sip.T2)
		}
	}
}

// renegotiate applies a re-INVITE's or UPDATE's body: new metadata, a new
// offer (hold, resume, codec change, added streams). It returns the SDP
// for the answer (the current one when the request made no offer), or
// false after answering an error.
func (ss *session) renegotiate(req *sip.Request, tx sip.ServerTransaction) ([]byte, bool) {
	s := ss.srv
	o, md, ok := s.readBody(req, tx)
	if !ok {
		return nil, false
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if md != nil {
		ss.md = ss.md.Update(md)
		ss.log.Info("siprec: metadata updated", "participants", len(ss.md.Participants), "streams", len(ss.md.Streams))
	}
	ss.lastOfferHadSDP = o != nil
	if o == nil {
		// No offer (a session refresh): the answer restates the session.
		return buildAnswer(ss.offer, ss.answer, ss.ip, ss.sessID, ss.version.Load()), true
	}
	if len(o.lines) < len(ss.offer.lines) {
		s.refuse(req, tx, sip.StatusNotAcceptableHere, reasonSDP, fmt.Sprintf("the offer has %d m-lines, the session %d (m-lines are never removed, RFC 3264 section 8)", len(o.lines), len(ss.offer.lines)))
		return nil, false
	}
	ans := make([]answerLine, len(o.lines))
	taken := map[ingest.Role]bool{}
	for _, st := range ss.streams {
		if st != nil {
			taken[st.role] = true
		}
	}
	streams := append([]*stream(nil), ss.streams...)
	for len(streams) < len(o.lines) {
		streams = append(streams, nil)
	}
	var added []*stream
	for i := range o.lines {
		m := &o.lines[i]
		st := streams[i]
		c, cok := m.choose()
		switch {
		case st != nil && (m.port == 0 || !cok):
			// The stream is gone (port 0), or now carries a codec
			// talkratio cannot read: it stops.
			st.setSDP(st.codec, st.dtmf, true)
			st.conn.Close()
			s.ports.release(st.port)
			streams[i] = nil
			taken[st.role] = false
			ss.log.Info("siprec: stream stopped by re-INVITE", "stream", st.label, "codec_ok", cok)
		case st != nil:
			held := !m.sending()
			if held != st.isHeld() {
				ss.log.Info("siprec: stream hold changed", "stream", st.label, "held", held)
			}
			if c != st.codecNow() {
				ss.log.Info("siprec: stream codec changed", "stream", st.label, "from", st.codecNow().name, "to", c.name)
			}
			st.setSDP(c, m.dtmf, held)
			ans[i] = answerLine{port: st.port, codec: c, dtmf: m.dtmf, dir: answerDir(m)}
		case m.media == "audio" && m.port != 0 && cok && i >= len(ss.offer.lines):
			// A new m-line: read it if it brings a role not read yet.
			role := ingest.Customer
			if p := ss.md.SenderOfLabel(m.label); p != nil && ss.assign.rep != nil && p.ID == ss.assign.rep.ID {
				role = ingest.Rep
			} else if p == nil && !taken[ingest.Rep] {
				role = ingest.Rep
			}
			if taken[role] {
				continue
			}
			conn, port, err := s.ports.open()
			if err != nil {
				ss.log.Warn("siprec: no port for an added stream", "err", err)
				continue
			}
			nst := &stream{sess: ss, index: i, label: m.label, role: role, conn: conn, port: port, done: make(chan struct{})}
			nst.codec, nst.dtmf, nst.held = c, m.dtmf, !m.sending()
			streams[i], taken[role] = nst, true
			added = append(added, nst)
			ans[i] = answerLine{port: port, codec: c, dtmf: m.dtmf, dir: answerDir(m)}
		}
	}
	ss.offer, ss.answer, ss.streams = o, ans, streams
	for _, st := range added {
		go st.run()
	}
	return buildAnswer(o, ans, ss.ip, ss.sessID, ss.nextVersion()), true
}

func (st *stream) isHeld() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.held
}

func (st *stream) codecNow() codec {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.codec
}
