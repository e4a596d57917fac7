// Command harness stands in for `talkratio serve` with its SIPREC flags
// until the recording server is wired into the service: it runs the
// SIPREC server of package siprec with an in-memory parent
// (ingesttest.Parent), and answers the two things scripts/siprec-sipp.sh
// asks of a talkratio binary:
//
//	harness serve -addr HOST:PORT -sip-addr HOST:PORT -rtp-ports LOW-HIGH -sip-allow CIDRS [-siprec-rep RULE]
//	    GET /livez, and GET /api/calls: {"calls": [{"id", "source", "state", "rep", "customer", "listen_pct", "duration_s"}]}
//	harness analyze --format json FILE.wav
//	    {"file": ..., "listen_pct": ...}, as talkratio analyze prints it
//
// A live call is analyzed, once it has ended, the way ingesttest places
// delivered media (the live call owner's placement). It lives in testdata
// so that `go build ./...` and `go vet ./...` leave it out; the SIPp test
// builds it.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"talkratio/audio"
	"talkratio/ingest/ingesttest"
	"talkratio/siprec"
	"talkratio/tally"
	"talkratio/vad"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: harness serve|analyze ...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "analyze":
		err = analyze(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		os.Exit(1)
	}
}

type summary struct {
	ID        string   `json:"id"`
	Source    string   `json:"source"`
	State     string   `json:"state"`
	Rep       string   `json:"rep"`
	Customer  string   `json:"customer"`
	ListenPct *float64 `json:"listen_pct"`
	DurationS float64  `json:"duration_s"`
	MissingS  float64  `json:"missing_audio_s"`
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "HTTP address")
	sipAddr := fs.String("sip-addr", "127.0.0.1:5060", "SIP address (UDP and TCP)")
	ports := fs.String("rtp-ports", "20000-20999", "RTP port range")
	allow := fs.String("sip-allow", "127.0.0.1/32", "networks SIP and RTP are accepted from")
	rep := fs.String("siprec-rep", "", "the rep's AOR patterns or extension ranges")
	mediaIP := fs.String("media-ip", "", "address put in SDP answers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pr, err := siprec.ParsePortRange(*ports)
	if err != nil {
		return err
	}
	al, err := siprec.ParseAllow(*allow)
	if err != nil {
		return err
	}
	rule, err := siprec.ParseRepRule(*rep)
	if err != nil {
		return err
	}
	var mip netip.Addr
	if *mediaIP != "" {
		if mip, err = netip.ParseAddr(*mediaIP); err != nil {
			return err
		}
	}
	parent := ingesttest.NewParent()
	srv, err := siprec.NewServer(siprec.Config{Parent: parent, Addr: *sipAddr, Allow: al, RepRule: rule, RTPPorts: pr, MediaIP: mip, Log: slog.Default()})
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	var mu sync.Mutex
	done := map[*ingesttest.Call]summary{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /api/calls", func(w http.ResponseWriter, _ *http.Request) {
		rows := []summary{}
		for i, c := range parent.Calls() {
			s := summary{ID: fmt.Sprint(i + 1), Source: c.Meta.Source, State: "live", Rep: c.Meta.Rep, Customer: c.Meta.Customer}
			if c.Reason() != "" {
				mu.Lock()
				cached, ok := done[c]
				mu.Unlock()
				if !ok {
					cached = s
					cached.State = "ended"
					if res, _, err := ingesttest.AnalyzeDelivered(c); err == nil {
						cached.ListenPct, cached.DurationS, cached.MissingS = res.ListenPct, res.DurationS, res.MissingAudioS
					} else {
						slog.Warn("harness: analyze", "call", c.Meta.ExternalID, "err", err)
					}
					mu.Lock()
					done[c] = cached
					mu.Unlock()
				}
				s = cached
			}
			rows = append(rows, s)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"calls": rows, "total": len(rows)})
	})
	hs := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.ListenAndServe() }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-sig:
	case err := <-errc:
		srv.Close()
		return err
	}
	srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return hs.Shutdown(ctx)
}

func analyze(args []string) error {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	format := fs.String("format", "json", "json only")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *format != "json" || fs.NArg() != 1 {
		return fmt.Errorf("usage: harness analyze --format json FILE.wav")
	}
	f, err := audio.OpenWAV(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	res, err := vad.Analyze(f, f.Format().SampleRate, vad.ChannelMap{Channels: f.Format().Channels, Rep: 0, Customer: 1}, vad.DefaultConfig(), tally.DefaultConfig())
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"file": fs.Arg(0), "listen_pct": res.ListenPct, "duration_s": res.DurationS})
}
