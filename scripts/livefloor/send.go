package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/opus/pkg/oggreader"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// senders are talkratio-load's kinds of sender and their files.
var senders = map[string][2]string{
	"hybrid":  {"server/testdata/rep.opus", "server/testdata/customer.opus"},
	"silk-wb": {"cmd/talkratio-load/testdata/rep-silkwb.opus", "cmd/talkratio-load/testdata/customer-silkwb.opus"},
}

// lostWarnPct: a step whose receiver analyzed this much less than was sent
// (the two counts are read a few microseconds apart) fell behind.
const lostWarnPct = 1.0

// clockTicks: /proc's CPU times are in these per second (USER_HZ, 100 on
// every Linux talkratio runs on).
const clockTicks = 100

func run(args []string) error {
	fs := flag.NewFlagSet("livefloor", flag.ContinueOnError)
	sender := fs.String("sender", "silk-wb", "the kind of sender, as talkratio-load's: silk-wb or hybrid")
	stepsFlag := fs.String("steps", "100,175,250", "comma-separated numbers of concurrent calls, in order")
	stepTime := fs.Duration("step-time", 15*time.Second, "how long to measure each step")
	warmup := fs.Duration("warmup", 3*time.Second, "settling time after each step's calls start")
	sockets := fs.Bool("sockets", false, "a UDP port per call, read a datagram at a time, instead of one shared port read in batches")
	port := fs.Int("port", 21000, "UDP port (the first of -sockets' ports)")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil // the flag package has printed the usage
	} else if err != nil {
		return usageError{err}
	}
	switch {
	case fs.NArg() > 0:
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	case *stepTime <= 0 || *warmup < 0:
		return usageError{errors.New("-step-time must be positive and -warmup not negative")}
	case *port <= 0 || *port > 65535:
		return usageError{fmt.Errorf("-port %d: not a UDP port", *port)}
	}
	files, ok := senders[*sender]
	if !ok {
		return usageError{fmt.Errorf("-sender %q: want silk-wb or hybrid", *sender)}
	}
	var steps []int
	for _, f := range strings.Split(*stepsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 || len(steps) > 0 && n < steps[len(steps)-1] {
			return usageError{fmt.Errorf("-steps %q: want rising positive numbers", *stepsFlag)}
		}
		steps = append(steps, n)
	}
	if *sockets && *port+steps[len(steps)-1]-1 > 65535 {
		return usageError{fmt.Errorf("-sockets: %d calls need ports %d to %d", steps[len(steps)-1], *port, *port+steps[len(steps)-1]-1)}
	}
	var tracks [2][][]byte
	for r, f := range files {
		pk, err := loadOgg(f)
		if err != nil {
			return fmt.Errorf("%s (run from the repository's root): %w", f, err)
		}
		tracks[r] = pk
	}

	self, err := os.Executable()
	if err != nil {
		return err
	}
	perCall := 0
	if *sockets {
		perCall = steps[len(steps)-1]
	}
	child := exec.Command(self, "recv", strconv.Itoa(*port), strconv.Itoa(perCall))
	child.Stderr = os.Stderr
	ask, err := child.StdinPipe()
	if err != nil {
		return err
	}
	out, err := child.StdoutPipe()
	if err != nil {
		return err
	}
	if err := child.Start(); err != nil {
		return err
	}
	defer func() { _ = child.Process.Kill(); _ = child.Wait() }()
	answers := bufio.NewScanner(out)
	if !answers.Scan() || answers.Text() != "ready" {
		return errors.New("receiver did not start")
	}
	count := func() (int64, error) {
		if _, err := io.WriteString(ask, "\n"); err != nil {
			return 0, err
		}
		if !answers.Scan() {
			return 0, errors.New("receiver stopped")
		}
		return strconv.ParseInt(answers.Text(), 10, 64)
	}

	mode := "one shared port, batched reads"
	if *sockets {
		mode = "a port per call, a read per datagram"
	}
	fmt.Printf("livefloor: sender %s (%s, %s), %s; receiver pid %d\n", *sender, files[0], files[1], mode, child.Process.Pid)
	fmt.Printf("%6s %14s %12s %12s %12s\n", "calls", "recv cpu/call", "sent pkt/s", "recv pkt/s", "send cpu/call")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(stop); wg.Wait() }()
	var sent atomic.Int64
	started := 0
	for _, n := range steps {
		for ; started < n; started++ {
			to := *port
			if *sockets {
				to += started
			}
			conn, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: to})
			if err != nil {
				return err
			}
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				send(conn, i, tracks, stop, &sent)
			}(started)
		}
		time.Sleep(*warmup)
		c0, s0 := cpuTicks(child.Process.Pid), cpuTicks(os.Getpid())
		r0, err := count()
		if err != nil {
			return err
		}
		p0, t0 := sent.Load(), time.Now()
		time.Sleep(*stepTime)
		c1, s1 := cpuTicks(child.Process.Pid), cpuTicks(os.Getpid())
		r1, err := count()
		if err != nil {
			return err
		}
		p1, secs := sent.Load(), time.Since(t0).Seconds()
		pct := func(ticks int64) float64 { return float64(ticks) / clockTicks / secs * 100 / float64(n) }
		fmt.Printf("%6d %13.3f%% %12.0f %12.0f %11.3f%%\n", n, pct(c1-c0), float64(p1-p0)/secs, float64(r1-r0)/secs, pct(s1-s0))
		if lostPct := 100 - 100*float64(r1-r0)/float64(max(p1-p0, 1)); lostPct > lostWarnPct {
			fmt.Printf("       the receiver analyzed %.1f%% fewer packets than were sent: it fell behind, and its CPU per call flatters it\n", lostPct)
		}
	}
	return nil
}

// send sends call i's two tracks until stop: an SRTP packet per track
// every 20 ms. Calls start spread over a packet interval, as real ones do.
func send(conn *net.UDPConn, i int, tracks [2][][]byte, stop <-chan struct{}, sent *atomic.Int64) {
	defer conn.Close()
	ctx, err := srtp.CreateContext(srtpKey, srtpSalt, srtpProfile)
	if err != nil {
		return
	}
	time.Sleep(time.Duration(i%50) * packetInterval / 50)
	tick := time.NewTicker(packetInterval)
	defer tick.Stop()
	tr := [2]track{{ssrc: uint32(2 * i)}, {ssrc: uint32(2*i + 1)}}
	enc := make([]byte, 1500)
	for k := 0; ; k++ {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		for r, pk := range tracks {
			b, err := tr[r].next(ctx, pk[k%len(pk)], enc)
			if err != nil {
				return
			}
			if _, err := conn.Write(b); err == nil {
				sent.Add(1)
			}
		}
	}
}

// rtpTicksPerPacket: Opus RTP runs at 48 kHz whatever it carries.
const rtpTicksPerPacket = uint32(48000 * packetInterval / time.Second)

// track is a sending track's RTP state. The receiver takes the low bit of
// its SSRC for the role (0 rep, 1 customer).
type track struct {
	ssrc uint32
	seq  uint16
	ts   uint32
}

// next seals the track's next packet, with Opus payload p, into dst.
func (t *track) next(ctx *srtp.Context, p, dst []byte) ([]byte, error) {
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: t.seq, Timestamp: t.ts, SSRC: t.ssrc}, Payload: p}
	t.seq++
	t.ts += rtpTicksPerPacket
	raw, err := pkt.Marshal()
	if err != nil {
		return nil, err
	}
	return ctx.EncryptRTP(dst, raw, nil)
}

// loadOgg returns the Opus packets of an Ogg Opus file.
func loadOgg(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, _, err := oggreader.NewWith(f)
	if err != nil {
		return nil, err
	}
	var pk [][]byte
	for {
		p, _, err := r.ParseNextPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		// Skip the OpusTags header packet (OpusHead is read by NewWith).
		if len(p) > 0 && !bytes.HasPrefix(p, []byte("Opus")) {
			pk = append(pk, append([]byte(nil), p...))
		}
	}
	if len(pk) == 0 {
		return nil, errors.New("no Opus packets")
	}
	return pk, nil
}

// cpuTicks is a process's user and system CPU time so far, in clock ticks,
// or 0 if /proc cannot say.
func cpuTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may hold
	// spaces: state is the first, utime the 12th, stime the 13th.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}
