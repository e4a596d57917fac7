package siprec

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"talkratio/ingest"
	"talkratio/siprec/rsmeta"
)

// onOther answers a method a recording server has no use for: 405, with
// the methods it takes.
func (s *Server) onOther(req *sip.Request, tx sip.ServerTransaction) {
	s.countMethod(req)
	if !s.allowedSource(req, tx) {
		return
	}
	s.reply(req, tx, sip.StatusMethodNotAllowed, "Method Not Allowed", sip.NewHeader("Allow", allowMethods))
}

const allowMethods = "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE"

// onOptions answers OPTIONS pings (SBCs probe their SRS with them).
func (s *Server) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	s.countMethod(req)
	if !s.allowedSource(req, tx) {
		return
	}
	s.reply(req, tx, sip.StatusOK, "OK",
		sip.NewHeader("Allow", allowMethods),
		sip.NewHeader("Accept", rsmeta.AcceptTypes),
		sip.NewHeader("Supported", "siprec"))
}

// onCancel answers a CANCEL that matched no INVITE transaction (the
// transaction layer answers the others: 200, and 487 to the INVITE).
func (s *Server) onCancel(req *sip.Request, tx sip.ServerTransaction) {
	s.countMethod(req)
	if !s.allowedSource(req, tx) {
		return
	}
	s.reply(req, tx, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
}

// onAck takes the ACK of an answer.
func (s *Server) onAck(req *sip.Request, tx sip.ServerTransaction) {
	s.countMethod(req)
	ss := s.lookup(req)
	if ss == nil {
		return // an ACK answers nothing
	}
	ss.ack(req, tx)
}

// onBye ends a session at the SRC's request.
func (s *Server) onBye(req *sip.Request, tx sip.ServerTransaction) {
	s.countMethod(req)
	if !s.allowedSource(req, tx) {
		return
	}
	ss := s.lookup(req)
	if ss == nil {
		s.refuse(req, tx, sip.StatusCallTransactionDoesNotExists, reasonSIP, "BYE outside any recording session")
		return
	}
	if err := ss.dlg.ReadBye(req, tx); err != nil {
		s.refuse(req, tx, sip.StatusBadRequest, reasonSIP, "BYE: "+err.Error())
		return
	}
	ss.log.Info("siprec: session ended by the SRC")
	ss.end(ingest.EndClosed, false)
}

// lookup finds the session of an in-dialog request.
func (s *Server) lookup(req *sip.Request) *session {
	id, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[id]
}

// requireOK checks the Require header: talkratio knows siprec only.
func (s *Server) requireOK(req *sip.Request, tx sip.ServerTransaction) bool {
	var unknown []string
	for _, h := range req.GetHeaders("Require") {
		for _, tag := range strings.Split(h.Value(), ",") {
			tag = strings.TrimSpace(tag)
			if tag != "" && !strings.EqualFold(tag, "siprec") {
				unknown = append(unknown, tag)
			}
		}
	}
	if len(unknown) == 0 {
		return true
	}
	s.refuse(req, tx, sip.StatusBadExtension, reasonExtension, "unsupported extension "+strings.Join(unknown, ", "),
		sip.NewHeader("Unsupported", strings.Join(unknown, ", ")))
	return false
}

// readBody splits and parses a request body; on failure it answers the
// request and returns false.
func (s *Server) readBody(req *sip.Request, tx sip.ServerTransaction) (*offer, *rsmeta.Metadata, bool) {
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	b, err := rsmeta.Split(ct, req.Body())
	switch {
	case errors.Is(err, rsmeta.ErrUnsupportedType):
		s.refuse(req, tx, sip.StatusUnsupportedMediaType, reasonContentType, err.Error(), sip.NewHeader("Accept", rsmeta.AcceptTypes))
		return nil, nil, false
	case err != nil:
		s.refuse(req, tx, sip.StatusBadRequest, reasonBody, err.Error())
		return nil, nil, false
	}
	var md *rsmeta.Metadata
	if b.Metadata != nil {
		if md, err = rsmeta.ParseMetadata(b.Metadata); err != nil {
			s.refuse(req, tx, sip.StatusBadRequest, reasonMetadata, err.Error())
			return nil, nil, false
		}
	}
	var o *offer
	if b.SDP != nil {
		if o, err = parseOffer(b.SDP); err != nil {
			s.refuse(req, tx, sip.StatusBadRequest, reasonSDP, err.Error())
			return nil, nil, false
		}
	}
	return o, md, true
}

// localIP is the address the SRC reaches talkratio at, for SDP and
// Contact.
func (s *Server) localIP(req *sip.Request) netip.Addr {
	if s.cfg.MediaIP.IsValid() {
		return s.cfg.MediaIP
	}
	if ap, err := netip.ParseAddrPort(req.Source()); err == nil {
		// Connecting a UDP socket sends nothing; it asks routing which
		// local address faces the SRC.
		if c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(ap)); err == nil {
			defer c.Close()
			return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
		}
	}
	return netip.IPv4Unspecified()
}

// contact is talkratio's Contact for a request's transport, marked as a
// session recording server (RFC 7866 section 6.1.2: +sip.srs).
func (s *Server) contact(req *sip.Request, ip netip.Addr) *sip.ContactHeader {
	tp := strings.ToLower(req.Transport())
	s.lnMu.Lock()
	port := s.lnPorts[tp]
	s.lnMu.Unlock()
	u := sip.Uri{Scheme: "sip", User: "talkratio", Host: ip.String(), Port: port, UriParams: sip.NewParams()}
	if tp == "tls" {
		u.Scheme = "sips"
	}
	if tp != "udp" {
		u.UriParams.Add("transport", tp)
	}
	p := sip.NewParams()
	p.Add("+sip.srs", "")
	return &sip.ContactHeader{Address: u, Params: p}
}

// onInvite takes a new recording session, or a re-INVITE of one.
func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	s.countMethod(req)
	if !s.allowedSource(req, tx) {
		return
	}
	if to := req.To(); to != nil && to.Params.Has("tag") {
		s.onReinvite(req, tx)
		return
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		s.reply(req, tx, sip.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	if req.Contact() == nil || req.CallID() == nil {
		s.refuse(req, tx, sip.StatusBadRequest, reasonSIP, "INVITE without Contact or Call-ID")
		return
	}
	if !s.requireOK(req, tx) {
		return
	}
	o, md, ok := s.readBody(req, tx)
	if !ok {
		return
	}
	if o == nil {
		s.refuse(req, tx, sip.StatusNotAcceptableHere, reasonSDP, "no SDP offer: talkratio answers the SRC's offer and makes none")
		return
	}
	ss := &session{srv: s, md: md, done: make(chan struct{}), acks: map[uint32]chan struct{}{}}
	ss.sessID = randomID()
	ss.log = s.log.With("call_id", callID(req), "source", req.Source())
	ans, err := ss.plan(o)
	if err != nil {
		code, reason := sip.StatusNotAcceptableHere, reasonCodec
		var hdrs []sip.Header
		if errors.Is(err, errNoPorts) {
			code, reason = sip.StatusServiceUnavailable, reasonPorts
			hdrs = append(hdrs, sip.NewHeader("Retry-After", strconv.Itoa(retryAfterS)))
		}
		s.refuse(req, tx, code, reason, err.Error(), hdrs...)
		return
	}
	meta := ingest.CallMeta{
		Source: ingest.SourceSIPREC, ExternalID: callID(req),
		Rep: ss.assign.rep.Label(), Customer: ss.assign.customer.Label(), StartedAt: time.Now(),
	}
	call, err := s.cfg.Parent.StartCall(context.Background(), meta)
	if err != nil {
		ss.closeStreams()
		if errors.Is(err, ingest.ErrBusy) {
			s.refuse(req, tx, sip.StatusServiceUnavailable, reasonBusy, err.Error(), sip.NewHeader("Retry-After", strconv.Itoa(retryAfterS)))
			return
		}
		s.refuse(req, tx, sip.StatusInternalServerError, reasonOther, "cannot start the call: "+err.Error())
		return
	}
	ss.call = call
	ip := s.localIP(req)
	ss.ip = ip
	dua := &sipgo.DialogUA{Client: s.client, ContactHDR: *s.contact(req, ip)}
	dlg, err := dua.ReadInvite(req, tx)
	if err != nil {
		ss.closeStreams()
		call.End(ingest.EndError)
		s.refuse(req, tx, sip.StatusBadRequest, reasonSIP, err.Error())
		return
	}
	ss.dlg = dlg
	ss.inviteCSeq = req.CSeq().SeqNo
	if !s.add(dlg.ID, ss) {
		ss.closeStreams()
		call.End(ingest.EndShutdown)
		s.reply(req, tx, sip.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	s.m.CallsStarted.Inc()
	ss.log.Info("siprec: recording session", "rep", meta.Rep, "customer", meta.Customer, "by_rule", ss.assign.byRule, "streams", ss.describe())
	ss.startStreams()
	go ss.watch()
	res := sip.NewResponseFromRequest(dlg.InviteRequest, sip.StatusOK, "OK", buildAnswer(o, ans, ip, ss.sessID, ss.nextVersion()))
	res.AppendHeader(sip.NewHeader("Content-Type", rsmeta.TypeSDP))
	res.AppendHeader(s.contact(req, ip))
	res.AppendHeader(sip.NewHeader("Supported", "siprec"))
	res.AppendHeader(sip.NewHeader("Allow", allowMethods))
	// WriteResponse retransmits the 2xx until the ACK comes (RFC 3261
	// section 13.3.1.4) and returns then.
	if err := dlg.WriteResponse(res); err != nil {
		if tx.Err() != nil && errors.Is(tx.Err(), sip.ErrTransactionCanceled) {
			ss.log.Info("siprec: session canceled before it was answered")
			ss.end(ingest.EndClosed, false)
			return
		}
		s.m.Errors.Inc(reasonNoAck)
		ss.log.Warn("siprec: answer not acknowledged; session ended", "err", err)
		ss.end(ingest.EndFailed, true)
	}
}

func (s *Server) add(id string, ss *session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.sessions[id] = ss
	return true
}

func (s *Server) remove(id string) {
	s.mu.Lock()
	delete(s.sessions, id)
	s.mu.Unlock()
}

// onReinvite renegotiates a session: hold and resume, a codec change, new
// metadata.
func (s *Server) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	ss := s.lookup(req)
	if ss == nil {
		s.refuse(req, tx, sip.StatusCallTransactionDoesNotExists, reasonSIP, "re-INVITE outside any recording session")
		return
	}
	if err := ss.dlg.ReadRequest(req, tx); err != nil {
		s.refuse(req, tx, sip.StatusInternalServerError, reasonSIP, "re-INVITE: "+err.Error())
		return
	}
	if !s.requireOK(req, tx) {
		return
	}
	body, ok := ss.renegotiate(req, tx)
	if !ok {
		return
	}
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", body)
	res.AppendHeader(sip.NewHeader("Content-Type", rsmeta.TypeSDP))
	res.AppendHeader(s.contact(req, ss.ip))
	ss.respondUntilAck(req, tx, res)
}

// onUpdate takes new metadata or an SDP offer within a session (RFC 3311).
func (s *Server) onUpdate(req *sip.Request, tx sip.ServerTransaction) {
	s.countMethod(req)
	if !s.allowedSource(req, tx) {
		return
	}
	ss := s.lookup(req)
	if ss == nil {
		s.refuse(req, tx, sip.StatusCallTransactionDoesNotExists, reasonSIP, "UPDATE outside any recording session")
		return
	}
	if err := ss.dlg.ReadRequest(req, tx); err != nil {
		s.refuse(req, tx, sip.StatusInternalServerError, reasonSIP, "UPDATE: "+err.Error())
		return
	}
	body, ok := ss.renegotiate(req, tx)
	if !ok {
		return
	}
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	if ss.lastOfferHadSDP {
		res.SetBody(body)
		res.AppendHeader(sip.NewHeader("Content-Type", rsmeta.TypeSDP))
	}
	res.AppendHeader(s.contact(req, ss.ip))
	if err := tx.Respond(res); err != nil {
		ss.log.Debug("siprec: respond to UPDATE", "err", err)
	}
}

func randomID() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:]) >> 2 // SDP session ids fit in 63 bits
}
