package server

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"talkratio/call"
	"talkratio/live"
)

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
	srv, err := New(Config{Logger: quietLogger(), MaxViewersPerCall: 1 << 20, AllowedHosts: []string{"talkratio.test"}})
	if err != nil {
		f.Fatal(err)
	}
	defer srv.Close()
	srv.store.Put(context.Background(), &call.Record{ID: "ended", State: call.StateEnded})
	c, err := srv.calls.Start(context.Background(), call.Record{ID: "live"})
	if err != nil {
		f.Fatal(err)
	}
	defer c.End(live.EndShutdown)
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
