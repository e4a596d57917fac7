package siprec

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"

	"talkratio/ingest"
	"talkratio/siprec/rsmeta"
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
	RepRule rsmeta.RepRule
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
