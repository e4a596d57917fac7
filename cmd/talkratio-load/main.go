// Command talkratio-load measures how many live calls a talkratio service
// holds in real time. It publishes N concurrent WHIP calls of paced Opus
// audio (two tracks each, replayed from Ogg Opus files), optionally watches
// each on its websocket, and reads the service's own /metrics to report,
// per step of N:
//
//   - CPU per call (process_cpu_seconds_total of the service),
//   - RSS per call (process_resident_memory_bytes over the idle baseline),
//   - p50/p99 latency from packet arrival to snapshot sent
//     (talkratio_snapshot_latency_seconds),
//   - whether analysis keeps up with real time
//     (talkratio_audio_analyzed_seconds_total against the wall clock) and
//     how many packets came too late to be analyzed.
//
// It raises N step by step until the service no longer holds (analysis
// falls behind, p99 over the limit, or packets arrive late) and reports the
// most calls it held.
//
//	go run ./cmd/talkratio serve -max-calls 2000 -whip-rate 1000 &
//	go run ./cmd/talkratio-load -steps 50,100,200,300 -step-time 30s
//
// (-whip-rate lifts the per-client limit on new calls; at the default the
// tool still ramps, waiting out each 429's Retry-After.)
//
// With -soak it holds the first step's calls that long instead, ends them,
// and checks that the service's goroutines come back to their baseline and
// that its RSS does not grow from one round to the next (-soak-rounds); it
// exits 1 when either fails:
//
//	go run ./cmd/talkratio-load -steps 100 -soak 5m
//
// The load tool runs on the same machine as the service unless told
// otherwise, and its own CPU (SRTP, pacing) competes with the service's; it
// reports its own CPU too, so that the figures can be read fairly.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"talkratio/audio"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// frame is the Opus frame duration of the fixtures (opusenc --framesize 20).
const frame = 20 * time.Millisecond

type opts struct {
	base       string
	steps      []int
	stepTime   time.Duration
	warmup     time.Duration
	repFile    string
	custFile   string
	watch      bool
	maxP99     time.Duration
	authHeader string
	soak       time.Duration
	soakRounds int
}

func run(args []string, stdout, stderr io.Writer) int {
	o := opts{}
	fs := flag.NewFlagSet("talkratio-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.base, "url", "http://localhost:8080", "base URL of the talkratio service")
	steps := fs.String("steps", "10,25,50", "comma-separated numbers of concurrent calls to try, in order")
	fs.DurationVar(&o.stepTime, "step-time", 30*time.Second, "how long to measure each step")
	fs.DurationVar(&o.warmup, "warmup", 5*time.Second, "settling time after each step's calls start")
	sender := fs.String("sender", "hybrid", "the kind of sender to model: hybrid (full-band hybrid Opus, a client that ignores the answer's maxplaybackrate) or silk-wb (SILK wideband, a browser that honours it); picks -rep and -customer")
	fs.StringVar(&o.repFile, "rep", "", "Ogg Opus file for the rep track (looped); default: -sender's")
	fs.StringVar(&o.custFile, "customer", "", "Ogg Opus file for the customer track (looped); default: -sender's")
	fs.BoolVar(&o.watch, "watch", true, "open a websocket viewer per call (snapshots are only built for watched calls)")
	fs.DurationVar(&o.maxP99, "max-p99", 250*time.Millisecond, "a step fails when p99 latency exceeds this")
	fs.StringVar(&o.authHeader, "auth", "", "Authorization header value for WHIP and websockets (e.g. 'Bearer TOKEN')")
	fs.DurationVar(&o.soak, "soak", 0, "instead of steps: hold the first step's calls this long, end them, and check that goroutines and RSS come back; -soak-rounds times")
	fs.IntVar(&o.soakRounds, "soak-rounds", 2, "soak rounds; RSS after the last must not exceed RSS after the first (the first warms the process up)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	for _, s := range strings.Split(*steps, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(stderr, "talkratio-load: -steps: %q is not a positive number\n", s)
			return 2
		}
		o.steps = append(o.steps, n)
	}
	repFile, custFile, ok := senderFiles(*sender)
	if !ok {
		fmt.Fprintf(stderr, "talkratio-load: -sender: %q is not hybrid or silk-wb\n", *sender)
		return 2
	}
	if o.repFile == "" {
		o.repFile = repFile
	}
	if o.custFile == "" {
		o.custFile = custFile
	}
	if o.soakRounds < 1 {
		fmt.Fprintln(stderr, "talkratio-load: -soak-rounds must be at least 1")
		return 2
	}
	rep, err := readPackets(o.repFile)
	if err != nil {
		fmt.Fprintf(stderr, "talkratio-load: %v\n", err)
		return 1
	}
	cust, err := readPackets(o.custFile)
	if err != nil {
		fmt.Fprintf(stderr, "talkratio-load: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "sender %s: rep %s (%s), customer %s (%s)\n", *sender, o.repFile, modes(rep), o.custFile, modes(cust))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	l := &load{o: o, rep: rep, cust: cust, out: stdout}
	if err := l.run(ctx); err != nil {
		fmt.Fprintf(stderr, "talkratio-load: %v\n", err)
		return 1
	}
	return 0
}

// senderFiles are the rep and customer fixtures of each kind of sender
// (paths from the repository's root, where the tool is run from).
func senderFiles(kind string) (rep, cust string, ok bool) {
	switch kind {
	case "hybrid":
		return "server/testdata/rep.opus", "server/testdata/customer.opus", true
	case "silk-wb":
		return "cmd/talkratio-load/testdata/rep-silkwb.opus", "cmd/talkratio-load/testdata/customer-silkwb.opus", true
	}
	return "", "", false
}

// modes describes the Opus modes of packets (from each one's TOC byte,
// RFC 6716 section 3.1), e.g. "SILK 100%".
func modes(pkts [][]byte) string {
	var n [3]int // SILK, hybrid, CELT
	for _, p := range pkts {
		if len(p) == 0 {
			continue
		}
		switch c := p[0] >> 3; {
		case c < 12:
			n[0]++
		case c < 16:
			n[1]++
		default:
			n[2]++
		}
	}
	var out []string
	for i, name := range []string{"SILK", "hybrid", "CELT"} {
		if n[i] > 0 {
			out = append(out, fmt.Sprintf("%s %.0f%%", name, 100*float64(n[i])/float64(len(pkts))))
		}
	}
	return strings.Join(out, ", ")
}

func readPackets(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := audio.ReadOggPackets(f, 2)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}
