package siprec

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"

	"talkratio/ingest"
)

// Timing.
const (
	// byeWait bounds the BYE talkratio sends when it ends a session.
	byeWait = 5 * time.Second
	// retryAfterS: when the service is at its call limit, the SRC may
	// try again after this many seconds (Retry-After).
	retryAfterS = 5
)

// ackWaitT1s: a 2xx to a re-INVITE is retransmitted until its ACK comes,
// for at most 64*T1 (RFC 3261 section 13.3.1.4).
const ackWaitT1s = 64

// Error reasons: the values of the errors_total metric's reason label.
const (
	reasonForbidden   = "forbidden"    // a SIP request from outside the allow list
	reasonSIP         = "sip"          // a request missing what SIP needs, or out of the dialog
	reasonContentType = "content_type" // a body of a type talkratio does not read
	reasonBody        = "body"         // a malformed (multipart) body
	reasonSDP         = "sdp"          // a malformed SDP offer, or none
	reasonMetadata    = "metadata"     // malformed recording metadata
	reasonExtension   = "extension"    // a Require of an extension talkratio lacks
	reasonCodec       = "codec"        // no offered stream talkratio can decode
	reasonPorts       = "ports"        // the RTP port range is used up
	reasonBusy        = "busy"         // the service took no more calls
	reasonNoAck       = "no_ack"       // the SRC never acknowledged the answer
	reasonRTP         = "rtp"          // a datagram that is not RTP
	reasonRTPSource   = "rtp_source"   // RTP from outside the allow list
	reasonPayloadType = "payload_type" // RTP of a payload type not negotiated
	reasonDecode      = "decode"       // an RTP payload that did not decode
	reasonRTPTimeout  = "rtp_timeout"  // a stream that stopped without a BYE
	reasonOther       = "other"
)

var errorReasons = []string{
	reasonForbidden, reasonSIP, reasonContentType, reasonBody, reasonSDP, reasonMetadata, reasonExtension,
	reasonCodec, reasonPorts, reasonBusy, reasonNoAck, reasonRTP, reasonRTPSource, reasonPayloadType,
	reasonDecode, reasonRTPTimeout, reasonOther,
}

var methods = []string{"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "UPDATE", "other"}

// Config configures a Server.
type Config struct {
	// Parent opens the calls (required).
	Parent ingest.Parent
	// Addr is where SIP is received over UDP and TCP ("0.0.0.0:5060";
	// required).
	Addr string
	// TLSAddr is where SIP over TLS is received, with TLSCertFile and
	// TLSKeyFile (PEM); empty: no TLS.
	TLSAddr, TLSCertFile, TLSKeyFile string
	// Allow lists the networks SIP and RTP are accepted from (required:
	// SIP carries no credentials, so the SBCs' addresses are the
	// authentication). 0.0.0.0/0 and ::/0 accept anyone.
	Allow []netip.Prefix
	// RepRule picks the rep among the recorded call's participants.
	RepRule RepRule
	// RTPPorts is the range RTP is received on (DefaultPortRange when
	// zero).
	RTPPorts PortRange
	// MediaIP is the address put in SDP answers and Contact headers: the
	// one the SRC sends RTP and requests to. Unset: the local address
	// facing each SRC, as routing picks it.
	MediaIP netip.Addr
	// RTPTimeout ends a session whose streams receive nothing for this
	// long while not on hold (DefaultRTPTimeout when 0).
	RTPTimeout time.Duration
	// Log receives the server's log lines (slog.Default when nil).
	Log *slog.Logger
	// Metrics counts what the server does (NewMetrics when nil); the
	// caller registers it.
	Metrics *Metrics
}

// Metrics are the server's Prometheus counters. No per-call labels.
type Metrics struct {
	CallsStarted prometheus.Counter
	Requests     *ingest.Counters // by method
	Packets      *ingest.Counters // RTP packets, by role
	Errors       *ingest.Counters // by reason
}

// NewMetrics returns the server's counters, every labelled series created.
func NewMetrics() *Metrics {
	return &Metrics{
		CallsStarted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "talkratio_siprec_calls_started_total",
			Help: "Recording sessions (SIPREC) answered and started as live calls.",
		}),
		Requests: ingest.NewCounters("talkratio_siprec_requests_total",
			"SIP requests received by the SIPREC server, by method (INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, other); re-INVITEs count as INVITE.",
			"method", methods...),
		Packets: ingest.NewCounters("talkratio_siprec_rtp_packets_total",
			"RTP packets of recording sessions handed to their calls, by role (rep, customer).", "role", ingest.RoleNames...),
		Errors: ingest.NewCounters("talkratio_siprec_errors_total",
			"SIPREC requests refused and RTP packets dropped, by reason (forbidden, sip, content_type, body, sdp, metadata, extension, codec, ports, busy, no_ack, rtp, rtp_source, payload_type, decode, rtp_timeout, other).",
			"reason", errorReasons...),
	}
}

// Collectors lists the metrics, to register on the service's registry.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.CallsStarted, m.Requests.Collector(), m.Packets.Collector(), m.Errors.Collector()}
}

// Server is a SIPREC Session Recording Server (RFC 7866).
type Server struct {
	cfg     Config
	log     *slog.Logger
	m       *Metrics
	limiter ingest.LogLimiter
	ports   *ports

	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client

	lnMu      sync.Mutex
	listeners []func() error // closers
	lnPorts   map[string]int // transport (udp, tcp, tls) to bound port
	udpAddr   net.Addr
	tcpAddr   net.Addr
	tlsAddr   net.Addr

	mu       sync.Mutex
	sessions map[string]*session // by dialog id
	closed   bool
	wg       sync.WaitGroup // serving goroutines
}

// NewServer checks cfg and prepares the server; Start listens.
func NewServer(cfg Config) (*Server, error) {
	switch {
	case cfg.Parent == nil:
		return nil, errors.New("siprec: no parent to start calls in")
	case cfg.Addr == "":
		return nil, errors.New("siprec: no listen address")
	case len(cfg.Allow) == 0:
		return nil, errors.New("siprec: no allow list: SIP carries no credentials, so the SBCs' networks must be listed (0.0.0.0/0 accepts anyone)")
	case (cfg.TLSAddr != "") != (cfg.TLSCertFile != "" && cfg.TLSKeyFile != ""):
		return nil, errors.New("siprec: TLS needs an address, a certificate and a key")
	}
	if cfg.RTPPorts == (PortRange{}) {
		cfg.RTPPorts = DefaultPortRange
	}
	if err := cfg.RTPPorts.check(); err != nil {
		return nil, fmt.Errorf("siprec: %w", err)
	}
	if cfg.RTPTimeout <= 0 {
		cfg.RTPTimeout = DefaultRTPTimeout
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	s := &Server{
		cfg: cfg, log: cfg.Log.With("ingest", ingest.SourceSIPREC), m: cfg.Metrics,
		sessions: map[string]*session{}, lnPorts: map[string]int{},
	}
	// RTP is received on every local address: MediaIP is what the SRC is
	// told, which behind NAT is not a local address at all.
	s.ports = newPorts(cfg.RTPPorts, netip.Addr{})
	sipLog := s.log.With("component", "sipgo")
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent("talkratio"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipLog)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(sipLog)),
	)
	if err != nil {
		return nil, fmt.Errorf("siprec: %w", err)
	}
	s.ua = ua
	if s.srv, err = sipgo.NewServer(ua, sipgo.WithServerLogger(sipLog)); err != nil {
		return nil, fmt.Errorf("siprec: %w", err)
	}
	if s.client, err = sipgo.NewClient(ua, sipgo.WithClientLogger(sipLog)); err != nil {
		return nil, fmt.Errorf("siprec: %w", err)
	}
	s.srv.OnInvite(s.onInvite)
	s.srv.OnAck(s.onAck)
	s.srv.OnBye(s.onBye)
	s.srv.OnCancel(s.onCancel)
	s.srv.OnOptions(s.onOptions)
	s.srv.OnUpdate(s.onUpdate)
	s.srv.OnNoRoute(s.onOther)
	return s, nil
}

// Start binds the listeners and serves them in the background.
func (s *Server) Start() error {
	udp, err := net.ListenPacket("udp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("siprec: listen udp: %w", err)
	}
	// TCP on the port UDP got (Addr may ask for port 0).
	tcp, err := net.Listen("tcp", udp.LocalAddr().String())
	if err != nil {
		udp.Close()
		return fmt.Errorf("siprec: listen tcp: %w", err)
	}
	s.lnMu.Lock()
	s.udpAddr, s.tcpAddr = udp.LocalAddr(), tcp.Addr()
	s.lnPorts["udp"] = udp.LocalAddr().(*net.UDPAddr).Port
	s.lnPorts["tcp"] = tcp.Addr().(*net.TCPAddr).Port
	s.listeners = append(s.listeners, udp.Close, tcp.Close)
	s.lnMu.Unlock()
	tp := s.ua.TransportLayer()
	s.serve(func() error { return tp.ServeUDP(udp) })
	s.serve(func() error { return tp.ServeTCP(tcp) })
	if s.cfg.TLSAddr != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
		if err != nil {
			return fmt.Errorf("siprec: TLS certificate: %w", err)
		}
		ln, err := tls.Listen("tcp", s.cfg.TLSAddr, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		if err != nil {
			return fmt.Errorf("siprec: listen tls: %w", err)
		}
		s.lnMu.Lock()
		s.tlsAddr = ln.Addr()
		s.lnPorts["tls"] = ln.Addr().(*net.TCPAddr).Port
		s.listeners = append(s.listeners, ln.Close)
		s.lnMu.Unlock()
		s.serve(func() error { return tp.ServeTLS(ln) })
	}
	s.log.Info("siprec: listening", "udp", s.udpAddr.String(), "tcp", s.tcpAddr.String(), "tls", s.tlsAddr, "rtp_ports", s.cfg.RTPPorts.String())
	return nil
}

func (s *Server) serve(f func() error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := f(); err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Debug("siprec: listener stopped", "err", err)
		}
	}()
}

// Addrs are the bound SIP addresses: UDP, TCP and TLS (nil without TLS).
func (s *Server) Addrs() (udp, tcp, tls net.Addr) {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	return s.udpAddr, s.tcpAddr, s.tlsAddr
}

// Close ends every session (calls end with reason shutdown, SRCs get a
// BYE) and stops listening.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	ss := make([]*session, 0, len(s.sessions))
	for _, x := range s.sessions {
		ss = append(ss, x)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, x := range ss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x.end(ingest.EndShutdown, true)
		}()
	}
	wg.Wait()
	s.lnMu.Lock()
	for _, c := range s.listeners {
		_ = c()
	}
	s.listeners = nil
	s.lnMu.Unlock()
	err := s.ua.Close()
	s.wg.Wait()
	return err
}

// Sessions is the number of recording sessions in progress.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// reply answers a request with a final response, optional headers.
func (s *Server) reply(req *sip.Request, tx sip.ServerTransaction, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if err := tx.Respond(res); err != nil {
		s.log.Debug("siprec: respond", "code", code, "err", err)
	}
}

// refuse answers a request with an error response, counts it and logs
// it with the source: the SRC's operator sees the reason phrase, ours the
// log line.
func (s *Server) refuse(req *sip.Request, tx sip.ServerTransaction, code int, reason, why string, hdrs ...sip.Header) {
	s.m.Errors.Inc(reason)
	s.limiter.Warn(s.log, reason, "siprec: request refused", "method", string(req.Method), "source", req.Source(),
		"call_id", callID(req), "code", code, "why", why)
	hdrs = append(hdrs, sip.NewHeader("Warning", fmt.Sprintf(`399 talkratio "%s"`, strings.ReplaceAll(truncate(why, 200), `"`, `'`))))
	s.reply(req, tx, code, statusText[code], hdrs...)
}

// statusText holds the reason phrases of the responses talkratio sends
// (RFC 3261 section 21).
var statusText = map[int]string{
	sip.StatusBadRequest:                   "Bad Request",
	sip.StatusForbidden:                    "Forbidden",
	sip.StatusMethodNotAllowed:             "Method Not Allowed",
	sip.StatusUnsupportedMediaType:         "Unsupported Media Type",
	sip.StatusBadExtension:                 "Bad Extension",
	sip.StatusCallTransactionDoesNotExists: "Call/Transaction Does Not Exist",
	sip.StatusNotAcceptableHere:            "Not Acceptable Here",
	sip.StatusInternalServerError:          "Server Internal Error",
	sip.StatusServiceUnavailable:           "Service Unavailable",
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func callID(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return truncate(h.Value(), 128)
	}
	return ""
}

// allowedSource checks a request's source against the allow list; a
// request from elsewhere gets 403.
func (s *Server) allowedSource(req *sip.Request, tx sip.ServerTransaction) bool {
	ap, err := netip.ParseAddrPort(req.Source())
	if err == nil && allowedAddr(s.cfg.Allow, ap.Addr()) {
		return true
	}
	s.refuse(req, tx, sip.StatusForbidden, reasonForbidden, "source not in the allow list")
	return false
}

func (s *Server) countMethod(req *sip.Request) {
	switch req.Method {
	case sip.INVITE, sip.ACK, sip.BYE, sip.CANCEL, sip.OPTIONS, sip.UPDATE:
		s.m.Requests.Inc(string(req.Method))
	default:
		s.m.Requests.Inc("other")
	}
}

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
		sip.NewHeader("Accept", acceptTypes),
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
func (s *Server) readBody(req *sip.Request, tx sip.ServerTransaction) (*offer, *Metadata, bool) {
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	b, err := splitBody(ct, req.Body())
	switch {
	case errors.Is(err, errUnsupportedType):
		s.refuse(req, tx, sip.StatusUnsupportedMediaType, reasonContentType, err.Error(), sip.NewHeader("Accept", acceptTypes))
		return nil, nil, false
	case err != nil:
		s.refuse(req, tx, sip.StatusBadRequest, reasonBody, err.Error())
		return nil, nil, false
	}
	var md *Metadata
	if b.metadata != nil {
		if md, err = ParseMetadata(b.metadata); err != nil {
			s.refuse(req, tx, sip.StatusBadRequest, reasonMetadata, err.Error())
			return nil, nil, false
		}
	}
	var o *offer
	if b.sdp != nil {
		if o, err = parseOffer(b.sdp); err != nil {
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
		Rep: ss.assign.rep.label(), Customer: ss.assign.customer.label(), StartedAt: time.Now(),
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
	res.AppendHeader(sip.NewHeader("Content-Type", typeSDP))
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
	res.AppendHeader(sip.NewHeader("Content-Type", typeSDP))
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
		res.AppendHeader(sip.NewHeader("Content-Type", typeSDP))
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
	md              *Metadata
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
		ss.md = ss.md.update(md)
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
