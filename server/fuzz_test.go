package server

import (
	"bufio"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/pion/rtp"

	"talkratio/vad"
)

// FuzzWHIPOffer throws arbitrary SDP and query strings at the offer checks
// that run before pion sees anything: they must answer with an error or a
// plan, never panic, and a plan must map at least one role.
func FuzzWHIPOffer(f *testing.F) {
	f.Add(offerSDP(opusMedia, opusMedia), "")
	f.Add(offerSDP(opusMedia), "rep-channel=right")
	f.Add(offerSDP(pcmuMedia), "role=customer&call=abc")
	f.Add(offerSDP(g722Media), "")
	f.Add(offerSDP(videoOnly), "role=rep")
	f.Add("v=0\r\nm=audio 9 RTP/AVP 0 8\r\n", "role=rep")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, sdp, query string) {
		info, err := inspectOffer([]byte(sdp))
		if err != nil {
			return
		}
		q, _ := url.ParseQuery(query)
		plan, err := planRoles(info, q)
		if err != nil {
			return
		}
		if len(plan.carried()) == 0 {
			t.Fatalf("plan carries no role: %+v", plan)
		}
		for _, am := range info.audio {
			for _, r := range plan.rolesFor(am.mid) {
				if r != vad.Rep && r != vad.Customer {
					t.Fatalf("bad role %v", r)
				}
			}
		}
	})
}

// FuzzRTPPath sends arbitrary RTP packets (length-prefixed in the input)
// down the live path: unmarshal, loss accounting, timestamp unwrapping,
// Opus or G.711 decoding, placement on the call clock, analysis and a
// snapshot. Nothing may panic or stall, whatever the sequence numbers,
// timestamps and payloads.
func FuzzRTPPath(f *testing.F) {
	pkt := func(seq uint16, ts uint32, payload ...byte) []byte {
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq, Timestamp: ts}, Payload: payload}).Marshal()
		return append([]byte{byte(len(b))}, b...)
	}
	join := func(ps ...[]byte) []byte {
		var out []byte
		for _, p := range ps {
			out = append(out, p...)
		}
		return out
	}
	f.Add(byte(0), join(pkt(1, 0, 0xfc, 0xff, 0xfe), pkt(2, 960, 0xfc, 0xff, 0xfe), pkt(4, 2880, 0x78, 1, 2, 3)))
	f.Add(byte(1), join(pkt(65535, 4294967000, make([]byte, 160)...), pkt(0, 4294967160, make([]byte, 160)...)))
	f.Add(byte(2), join(pkt(7, 100), pkt(6, 1<<31, 1, 2, 3)))
	srv, err := New(Config{Logger: quietLogger()})
	if err != nil {
		f.Fatal(err)
	}
	defer srv.Close()
	f.Fuzz(func(t *testing.T, codec byte, stream []byte) {
		mime := []string{"audio/opus", "audio/PCMU", "audio/PCMA"}[int(codec)%3]
		c, err := newCall(srv, CallRecord{ID: "fuzz"})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := srv.newTrackReader(mime, []vad.Role{vad.Rep}, srv.log)
		if err != nil {
			t.Fatal(err)
		}
		at := time.Unix(1000, 0)
		for len(stream) > 0 {
			n := int(stream[0])
			stream = stream[1:]
			if n > len(stream) {
				n = len(stream)
			}
			var p rtp.Packet
			if p.Unmarshal(stream[:n]) == nil {
				// The call's goroutine is not running: do its work here,
				// from its (buffered) queue.
				tr.packet(&p, at, c)
				for len(c.in) > 0 {
					c.place(<-c.in)
					c.analyze(c.commitTarget())
				}
			}
			stream = stream[n:]
			at = at.Add(20 * time.Millisecond)
		}
		_ = c.snapshot(c.an.Live(timelineWindowS), c.clockAt(at.Add(time.Second)))
		c.analyze(max(c.tl.written[0], c.tl.written[1]))
		if now := c.an.Now(); now > at.Sub(time.Unix(1000, 0)).Seconds()+maxLead.Seconds()+1 {
			t.Errorf("%.1f s of call from %v of packets: media ran ahead of real time", now, at.Sub(time.Unix(1000, 0)))
		}
	})
}

// FuzzWebsocketInput writes arbitrary bytes as a client's frames into a
// dashboard websocket: the server must drop or ignore them, never crash,
// and let the connection go.
func FuzzWebsocketInput(f *testing.F) {
	frame := func(op byte, masked bool, payload []byte) []byte {
		b := []byte{0x80 | op}
		mask := byte(0)
		if masked {
			mask = 0x80
		}
		switch {
		case len(payload) < 126:
			b = append(b, mask|byte(len(payload)))
		default:
			b = append(b, mask|126, byte(len(payload)>>8), byte(len(payload)))
		}
		if masked {
			b = append(b, 1, 2, 3, 4)
			p := append([]byte(nil), payload...)
			for i := range p {
				p[i] ^= []byte{1, 2, 3, 4}[i%4]
			}
			payload = p
		}
		return append(b, payload...)
	}
	f.Add(frame(0x1, true, []byte(`{"hello":"server"}`)))
	f.Add(frame(0x9, true, []byte("ping")))
	f.Add(frame(0x2, true, make([]byte, 2000))) // over the read limit
	f.Add(frame(0x1, false, []byte("unmasked")))
	f.Add(frame(0x8, true, []byte{0x03, 0xe8}))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte("\xf7/"))
	// Fuzzing opens connections faster than the server notices closed
	// ones; the per-call viewer cap is not what this tests.
	srv, err := New(Config{Logger: quietLogger(), MaxViewersPerCall: 1 << 20})
	if err != nil {
		f.Fatal(err)
	}
	defer srv.Close()
	srv.store.Put(&CallRecord{ID: "ended", State: stateEnded})
	c, err := srv.startCall(CallRecord{ID: "live", State: stateLive})
	if err != nil {
		f.Fatal(err)
	}
	defer c.end(endShutdown)
	// In-memory connections: fuzzing at thousands of connections a second
	// would exhaust the machine's ephemeral ports over TCP.
	ln := newPipeListener()
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(ln)
	defer hs.Close()
	const addr = "talkratio.test"
	f.Fuzz(func(t *testing.T, input []byte) {
		conn := ln.dial()
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		req := "GET /ws/calls/live HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
		if _, err := conn.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("handshake: %v %v", resp, err)
		}
		conn.Write(input)
		// The server may answer (pong, close) or just drop us; either way
		// it must still serve others afterwards.
		var hdr [2]byte
		br.Read(hdr[:])
		probe := ln.dial()
		defer probe.Close()
		probe.SetDeadline(time.Now().Add(5 * time.Second))
		probe.Write([]byte("GET /livez HTTP/1.1\r\nHost: " + addr + "\r\n\r\n"))
		if r, err := http.ReadResponse(bufio.NewReader(probe), nil); err != nil || r.StatusCode != 200 {
			t.Fatalf("service down after input %x: %v", input, err)
		}
	})
}

// pipeListener is a net.Listener over net.Pipe connections.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) dial() net.Conn {
	client, server := net.Pipe()
	l.conns <- server
	return client
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	select {
	case <-l.done:
	default:
		close(l.done)
	}
	return nil
}

func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }
