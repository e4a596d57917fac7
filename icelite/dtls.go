package icelite

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/srtp/v3"
	"github.com/pion/transport/v5/deadline"
)

// handshake runs the DTLS handshake (the service is the server,
// setup:passive), checks the publisher's certificate against its
// fingerprint and keys SRTP. Then it waits for the publisher's
// close_notify.
func (s *Session) handshake(conn *dtlsConn) {
	dc, err := dtls.ServerWithOptions(conn, conn.to,
		dtls.WithCertificates(s.m.cert),
		dtls.WithSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		dtls.WithClientAuth(dtls.RequireAnyClientCert),
		// The certificate is self-signed, as WebRTC's are: it is
		// trusted by the fingerprint the offer carried, not by a chain.
		dtls.WithInsecureSkipVerify(true),
		dtls.WithVerifyPeerCertificate(s.peer.verify),
	)
	if err != nil {
		s.end(true, fmt.Sprintf("DTLS: %v", err))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
	defer cancel()
	if err := dc.HandshakeContext(ctx); err != nil {
		_ = dc.Close()
		s.end(true, fmt.Sprintf("DTLS handshake: %v", err))
		return
	}
	rx, tx, err := srtpContexts(dc)
	if err != nil {
		_ = dc.Close()
		s.end(true, fmt.Sprintf("SRTP keys: %v", err))
		return
	}
	// The handler hears of the connection before its first packet.
	s.h.Connected()
	if !s.keyed(dc, rx, tx) {
		_ = dc.Close()
		return
	}
	buf := make([]byte, datagramBytes)
	for {
		if _, err := dc.Read(buf); err != nil {
			s.end(false, "the publisher closed the connection")
			return
		}
	}
}

// end tells the handler, once, that the publisher is gone, unless the
// owner is closing the session already.
func (s *Session) end(failed bool, why string) {
	if s.closing.Load() || !s.ended.CompareAndSwap(false, true) {
		return
	}
	s.h.Ended(failed, why)
}

// srtpContexts keys SRTP from a finished handshake: the publisher's keys
// decrypt what it sends, the service's encrypt its reports.
func srtpContexts(dc *dtls.Conn) (rx, tx *srtp.Context, err error) {
	state, ok := dc.ConnectionState()
	if !ok {
		return nil, nil, errors.New("no DTLS state")
	}
	dp, ok := dc.SelectedSRTPProtectionProfile()
	if !ok {
		return nil, nil, errors.New("no SRTP profile was negotiated")
	}
	var profile srtp.ProtectionProfile
	switch dp {
	case dtls.SRTP_AEAD_AES_128_GCM:
		profile = srtp.ProtectionProfileAeadAes128Gcm
	case dtls.SRTP_AES128_CM_HMAC_SHA1_80:
		profile = srtp.ProtectionProfileAes128CmHmacSha1_80
	default:
		return nil, nil, fmt.Errorf("SRTP profile %#x", uint16(dp))
	}
	cfg := srtp.Config{Profile: profile}
	if err := cfg.ExtractSessionKeysFromDTLS(&state, false); err != nil {
		return nil, nil, err
	}
	// A replayed packet would be analyzed twice.
	rx, err = srtp.CreateContext(cfg.Keys.RemoteMasterKey, cfg.Keys.RemoteMasterSalt, profile,
		srtp.SRTPReplayProtection(srtpReplayWindow), srtp.SRTCPReplayProtection(srtpReplayWindow))
	if err != nil {
		return nil, nil, err
	}
	tx, err = srtp.CreateContext(cfg.Keys.LocalMasterKey, cfg.Keys.LocalMasterSalt, profile)
	return rx, tx, err
}

// srtpReplayWindow packets: pion's default, well over an audio track's
// reordering.
const srtpReplayWindow = 64

// dtlsConn is the DTLS connection's view of the shared socket: it reads
// what the socket's reader queued for the session and writes to the
// publisher's address. Its read deadline and Close end a read, as a
// socket's would: a DTLS handshake that fails unblocks its reader with a
// deadline before it returns.
type dtlsConn struct {
	s         *Session
	c         net.PacketConn
	to        *net.UDPAddr
	deadline  *deadline.Deadline
	closeOnce sync.Once
	closed    chan struct{}
}

func newDTLSConn(s *Session, c net.PacketConn, to *net.UDPAddr) *dtlsConn {
	return &dtlsConn{s: s, c: c, to: to, deadline: deadline.New(), closed: make(chan struct{})}
}

func (l *dtlsConn) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case d := <-l.s.dtlsIn:
		return copy(b, d), l.to, nil
	case <-l.s.done:
		return 0, nil, net.ErrClosed
	case <-l.closed:
		return 0, nil, net.ErrClosed
	case <-l.deadline.Done():
		return 0, nil, os.ErrDeadlineExceeded
	}
}

func (l *dtlsConn) SetReadDeadline(t time.Time) error {
	l.deadline.Set(t)
	return nil
}

func (l *dtlsConn) SetDeadline(t time.Time) error { return l.SetReadDeadline(t) }

func (l *dtlsConn) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}

func (l *dtlsConn) WriteTo(b []byte, _ net.Addr) (int, error) { return l.c.WriteTo(b, l.to) }
func (l *dtlsConn) LocalAddr() net.Addr                       { return l.c.LocalAddr() }
func (l *dtlsConn) SetWriteDeadline(time.Time) error          { return nil }
