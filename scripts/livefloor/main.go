// Command livefloor is the floor of the live path: the least a service has
// to do per call to analyze live WebRTC audio. Its receiver does per packet
// only what no design can skip: read a UDP datagram, SRTP-decrypt it
// (AES-128-GCM, what browsers and pion negotiate), decode the Opus payload
// at 16 kHz and run the detector (vad.Analyzer) on both sides of the call.
// There is no ICE, DTLS, RTCP, timeline, snapshot, websocket or store, and
// every packet is handled start to end by the goroutine that read it: no
// hand-off between goroutines. talkratio serve's CPU per call (measured by
// talkratio-load) less this floor's is what the rest of the service costs.
//
//	go run ./scripts/livefloor [-sender silk-wb|hybrid] [-steps 100,175,250] [-sockets]
//
// It runs the receiver as a child process (its CPU is read from /proc, as
// talkratio-load reads the service's) and sends from this one: per call two
// tracks (rep and customer), each an RTP packet every 20 ms looped from the
// same Ogg Opus files talkratio-load sends, to one UDP port shared by all
// calls (two sockets with SO_REUSEPORT, read in batches of up to 32
// datagrams: recvmmsg), or with -sockets to a port per call (one
// goroutine per call, a read per datagram, as pion does). Run it from the
// repository's root, with nothing else busy. Linux only.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"golang.org/x/net/ipv4"

	"talkratio/audio"
	"talkratio/tally"
	"talkratio/vad"
)

// The SRTP keys both sides use: the floor leaves out the DTLS handshake
// that would agree on them.
var (
	srtpKey  = bytes.Repeat([]byte{7}, 16)
	srtpSalt = bytes.Repeat([]byte{9}, 12)
)

const srtpProfile = srtp.ProtectionProfileAeadAes128Gcm

// analysisRate is the rate live calls are analyzed at.
const analysisRate = 16000

// packetInterval: browsers send 20 ms Opus frames.
const packetInterval = 20 * time.Millisecond

// batch: datagrams per recvmmsg.
const batch = 32

// muxSockets: one per core of the machine the figures are for.
const muxSockets = 2

func main() {
	if len(os.Args) > 1 && os.Args[1] == "recv" {
		if err := receive(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "livefloor recv:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "livefloor:", err)
		if errors.As(err, new(usageError)) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a command line the floor cannot run: exit status 2, as
// scripts/floor's.
type usageError struct{ error }

// call is one call's receiving state: its SRTP context, a decoder per
// track and the detector.
type call struct {
	srtp  *srtp.Context
	dec   map[uint32]audio.PacketDecoder
	an    *vad.Analyzer
	pend  [2][]float32 // decoded audio not yet analyzed, per role
	plain []byte
	pcm   [][]float32
	h     rtp.Header
}

func newCall() (*call, error) {
	ctx, err := srtp.CreateContext(srtpKey, srtpSalt, srtpProfile)
	if err != nil {
		return nil, fmt.Errorf("srtp context: %w", err)
	}
	an, err := vad.NewAnalyzer(vad.DefaultConfig(), tally.DefaultConfig(), analysisRate)
	if err != nil {
		return nil, fmt.Errorf("analyzer: %w", err)
	}
	return &call{srtp: ctx, dec: map[uint32]audio.PacketDecoder{}, an: an,
		plain: make([]byte, 1500), pcm: [][]float32{make([]float32, 120*analysisRate/1000)}}, nil
}

// packet handles one SRTP datagram. The track's role is the low bit of
// its SSRC (the sender's convention); each side's audio is analyzed as
// soon as the other side's covers the same stretch.
func (c *call) packet(b []byte) error {
	p, err := c.srtp.DecryptRTP(c.plain, b, &c.h)
	if err != nil {
		return fmt.Errorf("srtp: %w", err)
	}
	d := c.dec[c.h.SSRC]
	if d == nil {
		if d, err = audio.NewOpusDecoder(analysisRate, 1); err != nil {
			return err
		}
		c.dec[c.h.SSRC] = d
	}
	n, err := d.Decode(p[c.h.MarshalSize():], c.pcm)
	if err != nil {
		return fmt.Errorf("opus: %w", err)
	}
	analyzed.Add(1)
	r := c.h.SSRC & 1
	c.pend[r] = append(c.pend[r], c.pcm[0][:n]...)
	if m := min(len(c.pend[0]), len(c.pend[1])); m > 0 {
		if err := c.an.Write(c.pend[0][:m], c.pend[1][:m]); err != nil {
			return err
		}
		c.pend[0] = append(c.pend[0][:0], c.pend[0][m:]...)
		c.pend[1] = append(c.pend[1][:0], c.pend[1][m:]...)
	}
	return nil
}

// receive is the child process: livefloor recv PORT CALLS (CALLS > 0: a
// port per call from PORT on; 0: all calls on PORT). It runs until killed.
func receive(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: livefloor recv PORT CALLS")
	}
	port, err1 := strconv.Atoi(args[0])
	calls, err2 := strconv.Atoi(args[1])
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	errc := make(chan error, 1)
	if calls > 0 {
		for i := range calls {
			conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port + i})
			if err != nil {
				return err
			}
			go func() { errc <- readEach(conn) }()
		}
	} else {
		lc := net.ListenConfig{Control: reusePort}
		for range muxSockets {
			pc, err := lc.ListenPacket(context.Background(), "udp4", fmt.Sprintf("127.0.0.1:%d", port))
			if err != nil {
				return err
			}
			go func() { errc <- readBatches(pc) }()
		}
	}
	// The parent asks, a line on standard input each time, how many
	// packets were analyzed: a receiver that falls behind would drop
	// datagrams, and its CPU per call would flatter it.
	go func() {
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			fmt.Println(analyzed.Load())
		}
		errc <- errors.New("parent gone")
	}()
	fmt.Println("ready")
	return <-errc
}

// analyzed counts the packets the receiver has handled.
var analyzed atomic.Int64

// readEach reads one call's socket a datagram at a time.
func readEach(conn *net.UDPConn) error {
	c, err := newCall()
	if err != nil {
		return err
	}
	b := make([]byte, 1500)
	for {
		n, err := conn.Read(b)
		if err != nil {
			return err
		}
		if err := c.packet(b[:n]); err != nil {
			return err
		}
	}
}

// readBatches reads a shared socket in batches; a call is known by its
// sender's address.
func readBatches(pc net.PacketConn) error {
	p := ipv4.NewPacketConn(pc)
	msgs := make([]ipv4.Message, batch)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, 1500)}
	}
	calls := map[netip.AddrPort]*call{}
	for {
		n, err := p.ReadBatch(msgs, 0)
		if err != nil {
			return err
		}
		for _, m := range msgs[:n] {
			from := m.Addr.(*net.UDPAddr).AddrPort()
			c := calls[from]
			if c == nil {
				if c, err = newCall(); err != nil {
					return err
				}
				calls[from] = c
			}
			if err := c.packet(m.Buffers[0][:m.N]); err != nil {
				return err
			}
		}
	}
}

func reusePort(_, _ string, rc syscall.RawConn) error {
	var err error
	if cerr := rc.Control(func(fd uintptr) {
		err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, 0xf /* SO_REUSEPORT */, 1)
	}); cerr != nil {
		return cerr
	}
	return err
}
