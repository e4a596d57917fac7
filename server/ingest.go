package server

import (
	"fmt"
	"net"
	"net/http"
	"sync"

	"talkratio/audiohook"
	"talkratio/siprec"
	"talkratio/twilio"
)

// Ingest turns on the phone-system adapters. Each one set starts calls in
// the same live registry as WHIP, through its narrow ingest.Parent: the
// service fills in each config's Parent, Log and Metrics (registered on
// the service's registry).
type Ingest struct {
	// SIPREC is a Session Recording Server on SIPREC.Addr (UDP and TCP).
	SIPREC *siprec.Config
	// Twilio takes Twilio Media Streams at /ingest/twilio.
	Twilio *twilio.Config
	// AudioHook takes Genesys AudioHook at /ingest/audiohook.
	AudioHook *audiohook.Config
}

// adapters are the running phone-system adapters; nil where off.
type adapters struct {
	sip       *siprec.Server
	twilio    *twilio.Handler
	audiohook *audiohook.Handler
	closeOnce sync.Once
}

// startIngest builds the adapters cfg turns on and starts the SIPREC
// listener.
func (s *Server) startIngest(cfg Ingest) error {
	parent := s.calls.Ingest()
	reg := s.m.reg
	if c := cfg.Twilio; c != nil {
		cc := *c
		cc.Parent, cc.Log, cc.Metrics = parent, s.log, twilio.NewMetrics()
		h, err := twilio.NewHandler(cc)
		if err != nil {
			return err
		}
		reg.MustRegister(cc.Metrics.Collectors()...)
		s.ingest.twilio = h
	}
	if c := cfg.AudioHook; c != nil {
		cc := *c
		cc.Parent, cc.Log, cc.Metrics = parent, s.log, audiohook.NewMetrics()
		h, err := audiohook.NewHandler(cc)
		if err != nil {
			return err
		}
		reg.MustRegister(cc.Metrics.Collectors()...)
		s.ingest.audiohook = h
	}
	if c := cfg.SIPREC; c != nil {
		cc := *c
		cc.Parent, cc.Log, cc.Metrics = parent, s.log, siprec.NewMetrics()
		srv, err := siprec.NewServer(cc)
		if err != nil {
			return err
		}
		if err := srv.Start(); err != nil {
			_ = srv.Close()
			return err
		}
		reg.MustRegister(cc.Metrics.Collectors()...)
		s.ingest.sip = srv
	}
	return nil
}

// mountIngest adds the websocket adapters' routes. They authenticate
// their own requests (Twilio's signature, AudioHook's API key and
// signature): the platforms carry no talkratio token.
func (s *Server) mountIngest(handle func(pattern, name string, h http.HandlerFunc)) {
	if h := s.ingest.twilio; h != nil {
		handle("GET /ingest/twilio", "ingest_twilio", s.unlessDraining(h.ServeHTTP))
	}
	if h := s.ingest.audiohook; h != nil {
		handle("GET /ingest/audiohook", "ingest_audiohook", s.unlessDraining(h.ServeHTTP))
	}
}

// closeIngest stops the adapters once: their sessions end with reason
// shutdown (SIPREC clients get a BYE) and no new ones are taken. They
// stop side by side, for each waits for its sessions.
func (s *Server) closeIngest() error {
	var err error
	s.ingest.closeOnce.Do(func() {
		var wg sync.WaitGroup
		if h := s.ingest.twilio; h != nil {
			wg.Go(h.Close)
		}
		if h := s.ingest.audiohook; h != nil {
			wg.Go(h.Close)
		}
		if srv := s.ingest.sip; srv != nil {
			if e := srv.Close(); e != nil {
				err = fmt.Errorf("siprec: %w", e)
			}
		}
		wg.Wait()
	})
	return err
}

// SIPAddrs are the SIPREC server's bound addresses (UDP, TCP, TLS); nil
// without SIPREC.
func (s *Server) SIPAddrs() (udp, tcp, tls net.Addr) {
	if s.ingest.sip == nil {
		return nil, nil, nil
	}
	return s.ingest.sip.Addrs()
}
