// Package whip takes live calls in over WHIP (RFC 9725): it answers SDP
// offers, runs the WebRTC sessions and hands their audio to live calls.
// It is the service's only user of pion/webrtc. A session is a source of a
// live call, and pion's OnTrack goroutine is each track's read loop.
package whip

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"

	"talkratio/call"
	"talkratio/icelite"
	"talkratio/live"
)

// Calls is what WHIP needs of the live calls: live.Registry.
type Calls interface {
	Start(ctx context.Context, rec call.Record) (*live.Call, error)
	Get(id string) *live.Call
}

// Config configures the WHIP endpoint.
type Config struct {
	// Calls starts and finds live calls; Store tells an ended call's id
	// apart from an unknown one.
	Calls Calls
	Store call.Store
	// ICEUDPPort is the one UDP port all WebRTC media uses (so that a
	// container or firewall needs a single rule); 0 picks ephemeral ports.
	ICEUDPPort int
	// PublicIPs are the addresses to announce in ICE candidates when the
	// service runs behind 1:1 NAT (a container, a cloud VM).
	PublicIPs []string
	// ICEDisconnected and ICEFailed: how long a silent publisher may be
	// gone before its call ends; zero for the defaults.
	ICEDisconnected, ICEFailed time.Duration
	// Net replaces the operating system's network, for tests under a
	// virtual network with loss and jitter (pion's vnet).
	Net transport.Net
	// Cluster, when set, makes this endpoint one node of several: offers
	// are redirected while the node is busy, and session requests reach
	// the node that holds the session.
	Cluster Cluster
	// Media picks the media path: MediaLite (the default) receives every
	// session on one UDP port as an ICE-lite agent, MediaPion runs a
	// pion PeerConnection per session.
	Media string
	// SessionPath starts session URLs (the token follows); default
	// "/whip/sessions/". A cluster's names the node: /whip/s/NODE/.
	SessionPath string
	Log         *slog.Logger
}

// ICE timeouts: a publisher that vanishes without DELETE is noticed
// within disconnectTimeout and its call ended (and stored) at failTimeout.
const (
	disconnectTimeout = 5 * time.Second
	failTimeout       = 15 * time.Second
	keepAlive         = 2 * time.Second
)

// Server is the WHIP endpoint: its WebRTC stack and its sessions.
type Server struct {
	cfg Config
	log *slog.Logger
	api *webrtc.API
	udp net.PacketConn // the fixed ICE port, if any
	// lite is the ICE-lite media path, when Media is MediaLite.
	lite *icelite.Listener

	mu       sync.Mutex
	sessions map[string]*session // by token
}

// New sets up the WebRTC stack. Close releases its UDP port.
func New(cfg Config) (*Server, error) {
	if cfg.ICEDisconnected <= 0 {
		cfg.ICEDisconnected = disconnectTimeout
	}
	if cfg.ICEFailed <= 0 {
		cfg.ICEFailed = failTimeout
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.SessionPath == "" {
		cfg.SessionPath = "/whip/sessions/"
		if cfg.Cluster != nil {
			cfg.SessionPath = "/whip/s/" + cfg.Cluster.ID() + "/"
		}
	}
	s := &Server{cfg: cfg, log: cfg.Log, sessions: map[string]*session{}}
	switch cfg.Media {
	case "", MediaLite:
		lite, err := icelite.Listen(icelite.Config{
			Port: cfg.ICEUDPPort, PublicIPs: cfg.PublicIPs, Net: cfg.Net,
			Disconnected: cfg.ICEDisconnected, Failed: cfg.ICEFailed, Log: cfg.Log,
		})
		if err != nil {
			return nil, err
		}
		s.lite = lite
	case MediaPion:
		if err := s.setupWebRTC(); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("WHIP media path %q: want %s or %s", cfg.Media, MediaLite, MediaPion)
	}
	return s, nil
}

func (s *Server) setupWebRTC() error {
	me := &webrtc.MediaEngine{}
	for _, c := range []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1;stereo=1"}, PayloadType: 111},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, PayloadType: 0},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMA, ClockRate: 8000}, PayloadType: 8},
	} {
		if err := me.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			return fmt.Errorf("register codec %s: %w", c.MimeType, err)
		}
	}
	ir := &interceptor.Registry{}
	// Receiver reports keep senders' rate control (and Opus FEC) informed
	// of loss. No NACK: audio is not worth a retransmission here.
	// Chromium offers no nack feedback for Opus, and under 10% loss
	// (TestLossAndJitter) the same share of packets stayed lost with the
	// NACK interceptors as without them, which cost ~10% of the service's
	// CPU per call. No video interceptors are needed.
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return fmt.Errorf("rtcp reports: %w", err)
	}
	se := webrtc.SettingEngine{}
	se.SetICETimeouts(s.cfg.ICEDisconnected, s.cfg.ICEFailed, keepAlive)
	se.SetIncludeLoopbackCandidate(true) // a publisher on the same host
	if s.cfg.Net != nil {
		se.SetNet(s.cfg.Net)
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	}
	if len(s.cfg.PublicIPs) > 0 {
		se.SetNAT1To1IPs(s.cfg.PublicIPs, webrtc.ICECandidateTypeHost)
	}
	if s.cfg.ICEUDPPort > 0 {
		conn, err := net.ListenUDP("udp", &net.UDPAddr{Port: s.cfg.ICEUDPPort})
		if err != nil {
			return fmt.Errorf("ICE UDP port %d: %w", s.cfg.ICEUDPPort, err)
		}
		s.udp = conn
		se.SetICEUDPMux(webrtc.NewICEUDPMux(nil, conn))
	}
	s.api = webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	return nil
}

// MediaPort is the UDP port all WebRTC media comes to: the ICE-lite
// listener's (picked at start when ICEUDPPort is 0), or ICEUDPPort on the
// pion path, where 0 means that each session picks its own.
func (s *Server) MediaPort() int {
	if s.lite != nil {
		return s.lite.Port()
	}
	return s.cfg.ICEUDPPort
}

// Close releases the ICE UDP port. Call it once the calls are ended.
func (s *Server) Close() error {
	if s.lite != nil {
		return s.lite.Close()
	}
	if s.udp != nil {
		return s.udp.Close()
	}
	return nil
}

func (s *Server) addSession(sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[sess.token] = sess
}

// sessionClosed is what a session tells its server: it is gone.
func (s *Server) sessionClosed(sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, sess.token)
}

func (s *Server) session(token string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[token]
}
