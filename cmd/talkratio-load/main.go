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
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"talkratio/audio"
	"talkratio/whipclient"
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
	fs.StringVar(&o.repFile, "rep", "server/testdata/rep.opus", "Ogg Opus file for the rep track (looped)")
	fs.StringVar(&o.custFile, "customer", "server/testdata/customer.opus", "Ogg Opus file for the customer track (looped)")
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	l := &load{o: o, rep: rep, cust: cust, out: stdout}
	if err := l.run(ctx); err != nil {
		fmt.Fprintf(stderr, "talkratio-load: %v\n", err)
		return 1
	}
	return 0
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

type load struct {
	o          opts
	rep, cust  [][]byte
	out        io.Writer
	mu         sync.Mutex
	calls      []*call
	snapshots  atomic.Int64
	sendErrors atomic.Int64
	retries    atomic.Int64
}

type call struct {
	pub  *whipclient.Publisher
	stop chan struct{}
	done chan struct{}
}

func (l *load) header() http.Header {
	h := http.Header{}
	if l.o.authHeader != "" {
		h.Set("Authorization", l.o.authHeader)
	}
	return h
}

// start opens one call: publish, pace packets, watch.
func (l *load) start(ctx context.Context, i int) error {
	pub, err := l.publish(ctx, i)
	if err != nil {
		return err
	}
	c := &call{pub: pub, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		t := time.NewTicker(frame)
		defer t.Stop()
		// Start each call at a different place in the audio so that the
		// load is not in lockstep.
		k := i * 37
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
			}
			if pub.WriteSample(0, l.rep[k%len(l.rep)], frame) != nil || pub.WriteSample(1, l.cust[k%len(l.cust)], frame) != nil {
				l.sendErrors.Add(1)
			}
			k++
		}
	}()
	if l.o.watch && pub.CallID() != "" {
		go l.watchCall(ctx, pub.CallID(), c.stop)
	}
	l.mu.Lock()
	l.calls = append(l.calls, c)
	l.mu.Unlock()
	return nil
}

// publish opens call i's WHIP session. A refusal that says when to come
// back (rate limit, call cap) is retried after that wait, up to a minute,
// so that a service left at its default per-client rate still ramps.
func (l *load) publish(ctx context.Context, i int) (*whipclient.Publisher, error) {
	deadline := time.Now().Add(time.Minute)
	for {
		pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		pub, err := whipclient.Publish(pctx, whipclient.PublishOptions{
			Endpoint: fmt.Sprintf("%s/whip?name=load-%d&rep=load&customer=load", l.o.base, i),
			Tracks:   []whipclient.TrackSpec{{StreamID: "rep", TrackID: "rep"}, {StreamID: "customer", TrackID: "customer"}},
			Header:   l.header(),
		})
		cancel()
		var refused *whipclient.RefusedError
		if err == nil || !errors.As(err, &refused) || refused.RetryAfter == 0 || time.Now().Add(refused.RetryAfter).After(deadline) {
			return pub, err
		}
		l.retries.Add(1)
		if !sleep(ctx, refused.RetryAfter) {
			return nil, ctx.Err()
		}
	}
}

func (l *load) watchCall(ctx context.Context, id string, stop chan struct{}) {
	u := "ws" + strings.TrimPrefix(l.o.base, "http") + "/ws/calls/" + id
	conn, _, err := websocket.DefaultDialer.DialContext(ctx, u, l.header())
	if err != nil {
		return
	}
	go func() {
		<-stop
		conn.Close()
	}()
	for {
		if _, _, err := conn.ReadMessage(); err != nil {
			return
		}
		l.snapshots.Add(1)
	}
}

// stopAll ends every call with DELETE.
func (l *load) stopAll(ctx context.Context) {
	l.mu.Lock()
	calls := l.calls
	l.calls = nil
	l.mu.Unlock()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, c := range calls {
		close(c.stop)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			<-c.done
			dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			c.pub.Close(dctx)
		}()
	}
	wg.Wait()
}

func (l *load) run(ctx context.Context) error {
	base, err := scrape(ctx, l.o.base)
	if err != nil {
		return err
	}
	fmt.Fprintf(l.out, "baseline: RSS %.1f MiB, %0.f goroutines\n", base.gauge("process_resident_memory_bytes")/(1<<20), base.gauge("go_goroutines"))
	fmt.Fprintf(l.out, "%6s %10s %12s %10s %10s %9s %8s %10s %12s\n", "calls", "cpu/call", "rss/call", "p50", "p99", "realtime", "late", "snap/s", "load cpu/call")
	defer l.stopAll(context.Background())
	if l.o.soak > 0 {
		return l.runSoak(ctx, base)
	}
	held := 0
	for _, n := range l.o.steps {
		l.mu.Lock()
		have := len(l.calls)
		l.mu.Unlock()
		if err := l.startCalls(ctx, have, n); err != nil {
			fmt.Fprintln(l.out, err)
			return l.report(held)
		}
		if !sleep(ctx, l.o.warmup) {
			break
		}
		ok, err := l.measure(ctx, n, base, l.o.stepTime)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		held = n
	}
	return l.report(held)
}

func (l *load) report(held int) error {
	fmt.Fprintf(l.out, "held in real time: %d calls (WHIP offers retried after Retry-After: %d, packet send errors: %d)\n",
		held, l.retries.Load(), l.sendErrors.Load())
	return nil
}

// startCalls opens calls number from to n-1, one every 10 ms.
func (l *load) startCalls(ctx context.Context, from, n int) error {
	for i := from; i < n; i++ {
		if err := l.start(ctx, i); err != nil {
			return fmt.Errorf("call %d could not start: %w", i, err)
		}
		time.Sleep(10 * time.Millisecond) // a gentle ramp
	}
	return nil
}

// soakSettle: after a soak round's calls end, the service gets this long
// to close connections and free memory before it is compared with its
// baseline.
const soakSettle = 20 * time.Second

// Soak verdict thresholds.
const (
	// soakGoroutineSlack: room for a connection of someone else's (a
	// browser, a Prometheus scrape) that happens to be open.
	soakGoroutineSlack = 2
	// soakRSSGrowth: the most RSS may grow from the first round's end to
	// the last's. The first round maps code and sizes the runtime's
	// structures once; a leak grows with every round.
	soakRSSGrowth = 8 << 20
)

// runSoak holds the first step's calls for -soak, ends them, lets the
// service settle, and compares its goroutines and RSS with the baseline,
// -soak-rounds times. It fails when goroutines stay above the baseline or
// RSS keeps growing from round to round.
func (l *load) runSoak(ctx context.Context, base *sample) error {
	n := l.o.steps[0]
	var firstRSS float64
	var problems []string
	for round := 1; round <= l.o.soakRounds; round++ {
		if err := l.startCalls(ctx, 0, n); err != nil {
			return err
		}
		if !sleep(ctx, l.o.warmup) {
			return ctx.Err()
		}
		if _, err := l.measure(ctx, n, base, l.o.soak); err != nil {
			return err
		}
		l.stopAll(ctx)
		// Our idle keep-alive connections would each hold a goroutine on
		// the service and read as a leak.
		http.DefaultClient.CloseIdleConnections()
		if !sleep(ctx, soakSettle) {
			return ctx.Err()
		}
		after, err := scrape(ctx, l.o.base)
		if err != nil {
			return err
		}
		g, rss := after.gauge("go_goroutines"), after.gauge("process_resident_memory_bytes")
		fmt.Fprintf(l.out, "round %d: %d calls for %s, then %s settle: %0.f goroutines (baseline %0.f), RSS %.1f MiB (baseline %.1f), %0.f live calls\n",
			round, n, l.o.soak, soakSettle, g, base.gauge("go_goroutines"), rss/(1<<20), base.gauge("process_resident_memory_bytes")/(1<<20), after.gauge("talkratio_calls_active"))
		if g > base.gauge("go_goroutines")+soakGoroutineSlack {
			problems = append(problems, fmt.Sprintf("round %d left %0.f goroutines over the baseline", round, g-base.gauge("go_goroutines")))
		}
		if after.gauge("talkratio_calls_active") != 0 {
			problems = append(problems, fmt.Sprintf("round %d left live calls", round))
		}
		if round == 1 {
			firstRSS = rss
		} else if rss > firstRSS+soakRSSGrowth {
			problems = append(problems, fmt.Sprintf("RSS grew %.1f MiB from round 1 to round %d", (rss-firstRSS)/(1<<20), round))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("soak failed: %s", strings.Join(problems, "; "))
	}
	fmt.Fprintf(l.out, "soak ok: goroutines back to baseline after every round; RSS within %d MiB of round 1's\n", soakRSSGrowth>>20)
	return nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-time.After(d):
		return true
	case <-ctx.Done():
		return false
	}
}

// measure holds n calls for d and prints one line of figures; ok is false
// when the service did not hold them in real time.
func (l *load) measure(ctx context.Context, n int, base *sample, d time.Duration) (bool, error) {
	a, err := scrape(ctx, l.o.base)
	if err != nil {
		return false, err
	}
	snap0, cpu0, t0 := l.snapshots.Load(), selfCPU(), time.Now()
	if !sleep(ctx, d) {
		return false, ctx.Err()
	}
	b, err := scrape(ctx, l.o.base)
	if err != nil {
		return false, err
	}
	wall := time.Since(t0).Seconds()
	cpu := (b.counter("process_cpu_seconds_total") - a.counter("process_cpu_seconds_total")) / wall / float64(n)
	rss := (b.gauge("process_resident_memory_bytes") - base.gauge("process_resident_memory_bytes")) / float64(n)
	p50, p99 := histQuantiles(a, b, "talkratio_snapshot_latency_seconds")
	analyzed := (b.counterL("talkratio_audio_analyzed_seconds_total", "role", "rep") - a.counterL("talkratio_audio_analyzed_seconds_total", "role", "rep")) / wall / float64(n)
	late := b.sumCounter("talkratio_rtp_packets_late_total") - a.sumCounter("talkratio_rtp_packets_late_total")
	recv := b.sumCounter("talkratio_rtp_packets_received_total") - a.sumCounter("talkratio_rtp_packets_received_total")
	snaps := float64(l.snapshots.Load()-snap0) / wall / float64(n)
	loadCPU := (selfCPU() - cpu0) / wall / float64(n)
	lateFrac := 0.0
	if recv > 0 {
		lateFrac = late / recv
	}
	fmt.Fprintf(l.out, "%6d %9.2f%% %9.2f MiB %8.0fms %8.0fms %8.3fx %7.2f%% %10.1f %11.2f%%\n",
		n, 100*cpu, rss/(1<<20), 1000*p50, 1000*p99, analyzed, 100*lateFrac, snaps, 100*loadCPU)
	ok := analyzed > 0.97 && lateFrac < 0.01 && !math.IsNaN(p99) && p99 <= l.o.maxP99.Seconds()
	if l.o.watch {
		ok = ok && snaps >= 5
	}
	return ok, nil
}

// sample is one scrape of /metrics.
type sample map[string]*dto.MetricFamily

func scrape(ctx context.Context, base string) (*sample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape metrics: %w", err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parse metrics: %w", err)
	}
	s := sample(fams)
	return &s, nil
}

func (s *sample) metrics(name string) []*dto.Metric {
	if f := (*s)[name]; f != nil {
		return f.Metric
	}
	return nil
}

func (s *sample) gauge(name string) float64 {
	for _, m := range s.metrics(name) {
		return m.GetGauge().GetValue()
	}
	return 0
}

func (s *sample) counter(name string) float64 {
	for _, m := range s.metrics(name) {
		return m.GetCounter().GetValue()
	}
	return 0
}

func (s *sample) counterL(name, label, value string) float64 {
	for _, m := range s.metrics(name) {
		for _, l := range m.Label {
			if l.GetName() == label && l.GetValue() == value {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func (s *sample) sumCounter(name string) float64 {
	t := 0.0
	for _, m := range s.metrics(name) {
		t += m.GetCounter().GetValue()
	}
	return t
}

// histQuantiles estimates p50 and p99 of a histogram's observations
// between two scrapes, interpolating within buckets.
func histQuantiles(a, b *sample, name string) (p50, p99 float64) {
	ha, hb := a.metrics(name), b.metrics(name)
	if len(hb) == 0 {
		return math.NaN(), math.NaN()
	}
	type bucket struct{ le, n float64 }
	var bs []bucket
	prev := map[float64]float64{}
	if len(ha) > 0 {
		for _, bk := range ha[0].GetHistogram().Bucket {
			prev[bk.GetUpperBound()] = float64(bk.GetCumulativeCount())
		}
	}
	for _, bk := range hb[0].GetHistogram().Bucket {
		bs = append(bs, bucket{bk.GetUpperBound(), float64(bk.GetCumulativeCount()) - prev[bk.GetUpperBound()]})
	}
	total := float64(hb[0].GetHistogram().GetSampleCount())
	if len(ha) > 0 {
		total -= float64(ha[0].GetHistogram().GetSampleCount())
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
	q := func(p float64) float64 {
		if total <= 0 {
			return math.NaN()
		}
		want := p * total
		lo, loN := 0.0, 0.0
		for _, bk := range bs {
			if bk.n >= want {
				if bk.n == loN {
					return bk.le
				}
				return lo + (bk.le-lo)*(want-loN)/(bk.n-loN)
			}
			lo, loN = bk.le, bk.n
		}
		return math.Inf(1)
	}
	return q(0.5), q(0.99)
}

// selfCPU is this process's CPU time in seconds.
func selfCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
