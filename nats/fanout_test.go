package nats

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"talkratio/call"
	"talkratio/inmem"
	"talkratio/tally"
)

// The fan-out figure: snapshots of many live calls published on
// one node and watched from another.
const (
	// fanoutCalls: live calls, each with one viewer on the other node.
	fanoutCalls = 200
	// fanoutEvery: a live call's snapshot period (10 a second).
	fanoutEvery = 100 * time.Millisecond
	// fanoutSeconds: the figure's default run, long enough for a stable
	// p99 (20,000 snapshots at 200 calls).
	fanoutSeconds = 10
	// snapshotBytes: a mid-call snapshot's size as the service sends it
	// (a few minutes of timeline segments).
	snapshotBytes = 1450
)

// fanoutRun is one run of the harness: calls publishing snapshots at a
// rate, each watched by one viewer.
type fanoutRun struct {
	calls, snapshots int
	every            time.Duration
}

// fanoutResult is what the viewers got, and what it cost.
type fanoutResult struct {
	sent, delivered, finals int
	lat                     []time.Duration // per delivered snapshot, sorted
	cpu, wall               time.Duration   // process CPU (user+sys) and wall time while publishing and draining
	size                    int             // bytes of one snapshot
}

func (r fanoutResult) quantile(q float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(q*float64(len(r.lat))))]
}

// stamp marks a snapshot with its sequence and send time, in the call's
// name, where the viewer finds it without decoding the whole snapshot.
var stamp = []byte(`"name":"fanout `)

// snapshotter builds one call's snapshots: a realistic message padded
// with timeline segments to snapshotBytes.
type snapshotter struct{ s call.Snapshot }

func newSnapshotter(id string) (*snapshotter, error) {
	pct := 42.5
	s := call.Snapshot{
		Type: "snapshot", Call: call.Info{ID: id, Rep: "Dana Rep", Customer: "Acme Corp", State: "live", StartedAt: time.Now()},
		TargetListenPct: 60, ListenPct: &pct, RecentListenPct: &pct, RecentWindowS: 120,
		RepTalkS: 101.25, CustomerTalkS: 74.5, RepSharePct: 57.6, CustomerSharePct: 42.4,
		Monologue:     call.Monologue{CurrentS: 12.3, NudgeAfterS: 90, LongestS: 48.2},
		Interruptions: call.RoleCount{Rep: 3, Customer: 1}, TurnSwitches: 57, TurnSwitchesPerMn: 11.4,
		Timeline: call.Timeline{Rep: []tally.Segment{}, Customer: []tally.Segment{}, Missing: []tally.Segment{}},
	}
	g := &snapshotter{s: s}
	for t := 1.0; ; t += 7.25 {
		m, err := g.build(1, time.Now())
		if err != nil {
			return nil, err
		}
		if len(m) >= snapshotBytes {
			return g, nil
		}
		tl := &g.s.Timeline
		if len(tl.Rep) <= len(tl.Customer) {
			tl.Rep = append(tl.Rep, tally.Segment{Start: t, End: t + 3.125})
		} else {
			tl.Customer = append(tl.Customer, tally.Segment{Start: t + 3.5, End: t + 6.875})
		}
	}
}

// build marshals the snapshot, as the service does every tick.
func (g *snapshotter) build(seq int, now time.Time) ([]byte, error) {
	g.s.NowS = float64(seq) / 10
	g.s.Call.Name = "fanout " + strconv.Itoa(seq) + " " + strconv.FormatInt(now.UnixNano(), 10)
	return json.Marshal(g.s)
}

// parseStamp takes the sequence and send time out of a snapshot.
func parseStamp(m []byte) (seq int, sent int64, err error) {
	_, rest, ok := bytes.Cut(m, stamp)
	if !ok {
		return 0, 0, errors.New("no stamp")
	}
	_, err = fmt.Fscanf(bytes.NewReader(rest), "%d %d", &seq, &sent)
	return seq, sent, err
}

// watchCalls subscribes one viewer on sub to each of n calls, and waits
// until pub, which will publish them, knows they are watched.
func watchCalls(pub, sub call.Bus, n int) (ids []string, gens []*snapshotter, views []call.Subscription, err error) {
	for i := range n {
		id := fmt.Sprintf("fan%d", i)
		g, err := newSnapshotter(id)
		if err != nil {
			return ids, gens, views, err
		}
		v, err := sub.Subscribe(context.Background(), id)
		if err != nil {
			return ids, gens, views, err
		}
		ids, gens, views = append(ids, id), append(gens, g), append(views, v)
	}
	deadline := time.Now().Add(embedWait)
	for _, id := range ids {
		for !pub.Watched(id) {
			if time.Now().After(deadline) {
				return ids, gens, views, fmt.Errorf("call %s: the publisher never heard of its viewer", id)
			}
			time.Sleep(time.Millisecond)
		}
	}
	return ids, gens, views, nil
}

func closeAll(views []call.Subscription) {
	for _, v := range views {
		v.Close()
	}
}

// run publishes every call's snapshots on pub, the last one final, while
// one viewer per call on sub takes what reaches it. pub and sub may be
// the same bus (the baseline: no network).
func (r fanoutRun) run(pub, sub call.Bus) (fanoutResult, error) {
	ctx := context.Background()
	var res fanoutResult
	ids, gens, views, err := watchCalls(pub, sub, r.calls)
	defer closeAll(views)
	if err != nil {
		return res, err
	}

	// Viewers: each takes what is newest, until the final snapshot.
	gots := make([]struct {
		lat   []time.Duration
		final bool
		err   error
	}, r.calls)
	drained := make(chan struct{})
	var viewing sync.WaitGroup
	for i, v := range views {
		viewing.Go(func() {
			g := &gots[i]
			for !g.final {
				select {
				case <-v.Ready():
				case <-drained:
					return
				}
				m, final := v.Take()
				if m == nil {
					continue // a token outlived its message
				}
				seq, sent, err := parseStamp(m)
				if err != nil {
					g.err = err
					return
				}
				g.lat = append(g.lat, time.Duration(time.Now().UnixNano()-sent))
				g.final = final && seq == r.snapshots
			}
		})
	}

	cpu0, err := cpuTime()
	if err != nil {
		return res, err
	}
	start := time.Now()
	errs := make([]error, r.calls)
	var publishing sync.WaitGroup
	for i, id := range ids {
		publishing.Go(func() {
			// Calls start spread over a period, as live calls do.
			time.Sleep(time.Duration(i) * r.every / time.Duration(r.calls))
			t := time.NewTicker(r.every)
			defer t.Stop()
			for seq := 1; seq <= r.snapshots; seq++ {
				if seq > 1 {
					<-t.C
				}
				m, err := gens[i].build(seq, time.Now())
				if err == nil {
					err = pub.Publish(ctx, id, m, seq == r.snapshots)
				}
				if err != nil {
					errs[i] = err
					return
				}
			}
			pub.Forget(id)
		})
	}
	publishing.Wait()
	done := make(chan struct{})
	go func() { viewing.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(embedWait):
		close(drained)
		<-done
	}
	cpu1, err := cpuTime()
	if err != nil {
		return res, err
	}
	res.wall, res.cpu = time.Since(start), cpu1-cpu0
	if err := errors.Join(errs...); err != nil {
		return res, err
	}
	m, _ := gens[0].build(r.snapshots, time.Now())
	res.size = len(m)
	res.sent = r.calls * r.snapshots
	for _, g := range gots {
		if g.err != nil {
			return res, g.err
		}
		res.delivered += len(g.lat)
		res.lat = append(res.lat, g.lat...)
		if g.final {
			res.finals++
		}
	}
	slices.Sort(res.lat)
	return res, nil
}

// cpuTime is the process's CPU time so far, user and system.
func cpuTime() (time.Duration, error) {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano()), nil
}

// fanoutCluster is two nodes, each with its embedded server routed to the
// other's and a bus on an in-process connection: publishing node a,
// viewing node b.
func fanoutCluster(t testing.TB) (a, b *Bus) {
	t.Helper()
	sa, sb := routedPair(t, ServerConfig{Log: quiet()})
	return fanoutBus(t, sa, "a"), fanoutBus(t, sb, "b")
}

func fanoutBus(t testing.TB, s *natsserver.Server, node string) *Bus {
	t.Helper()
	nc, err := Connect(ConnectConfig{Server: s, Name: node, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(nc, Options{Node: node, Log: quiet()})
	if err != nil {
		nc.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close(); nc.Close() })
	return b
}

// The harness itself, quickly: every viewer gets its call's final
// snapshot, over the cluster and locally, and no latency is negative.
func TestFanoutHarness(t *testing.T) {
	run := fanoutRun{calls: 5, snapshots: 20, every: 5 * time.Millisecond}
	a, b := fanoutCluster(t)
	local := inmem.NewBus(0)
	for name, buses := range map[string][2]call.Bus{"cluster": {a, b}, "local": {local, local}} {
		res, err := run.run(buses[0], buses[1])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.finals != run.calls || res.sent != run.calls*run.snapshots {
			t.Errorf("%s: %d of %d final snapshots delivered, %d sent", name, res.finals, run.calls, res.sent)
		}
		if res.delivered < run.calls || res.delivered > res.sent {
			t.Errorf("%s: %d delivered of %d sent", name, res.delivered, res.sent)
		}
		if len(res.lat) == 0 || res.lat[0] < 0 {
			t.Errorf("%s: latencies %v", name, res.lat)
		}
		if res.size < snapshotBytes || res.size > snapshotBytes+100 {
			t.Errorf("%s: snapshots of %d bytes, want about %d", name, res.size, snapshotBytes)
		}
		if res.cpu < 0 || res.wall <= 0 {
			t.Errorf("%s: cpu %s wall %s", name, res.cpu, res.wall)
		}
	}
}

// TestFanoutFigure is the figure: 200 calls x 10 snapshots/s
// published on node a and watched on node b. It reports delivery latency,
// and the CPU the bus adds per call: the process's CPU during the cluster
// run minus during the same run on the in-process bus (same snapshots,
// same viewers, no NATS), per call, as % of one core. Both nodes' servers
// run in this process, so that is the cluster's cost, both ends.
// scripts/fanout.sh runs it.
func TestFanoutFigure(t *testing.T) {
	if os.Getenv("TALKRATIO_FANOUT") != "1" {
		t.Skip("the fan-out figure: set TALKRATIO_FANOUT=1 (scripts/fanout.sh)")
	}
	seconds := fanoutSeconds
	if s := os.Getenv("TALKRATIO_FANOUT_SECONDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("TALKRATIO_FANOUT_SECONDS=%q: want whole seconds, at least 1", s)
		}
		seconds = n
	}
	run := fanoutRun{calls: fanoutCalls, snapshots: seconds * int(time.Second/fanoutEvery), every: fanoutEvery}
	local := inmem.NewBus(0)
	base, err := run.run(local, local)
	if err != nil {
		t.Fatal(err)
	}
	a, b := fanoutCluster(t)
	res, err := run.run(a, b)
	if err != nil {
		t.Fatal(err)
	}
	cores := func(r fanoutResult) float64 { return r.cpu.Seconds() / r.wall.Seconds() }
	perCall := (cores(res) - cores(base)) / float64(run.calls) * 100
	t.Logf("fanout: %d calls x %d snapshots/s for %ds, %d-byte snapshots, node a -> node b", run.calls, int(time.Second/run.every), seconds, res.size)
	t.Logf("fanout: delivered %d/%d (%.1f%%; newest-only may skip superseded snapshots), finals %d/%d",
		res.delivered, res.sent, 100*float64(res.delivered)/float64(res.sent), res.finals, run.calls)
	µs := 10 * time.Microsecond // shown to the hundredth of a millisecond
	t.Logf("fanout: latency p50 %s p99 %s max %s", res.quantile(0.50).Round(µs), res.quantile(0.99).Round(µs), res.quantile(1).Round(µs))
	t.Logf("fanout: cpu cluster %.1f%% baseline %.1f%% of one core; the bus adds %.3f%% of one core per call",
		100*cores(res), 100*cores(base), perCall)
}

// BenchmarkFanoutCluster: one snapshot at a time, of 200 calls in turn,
// published on node a and taken by its viewer on node b, over routed
// embedded servers.
func BenchmarkFanoutCluster(b *testing.B) {
	a, v := fanoutCluster(b)
	ctx := context.Background()
	ids, gens, views, err := watchCalls(a, v, fanoutCalls)
	defer closeAll(views)
	if err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	n := 0
	for ; b.Loop(); n++ {
		i := n % fanoutCalls
		seq := n/fanoutCalls + 1
		sent := time.Now()
		m, err := gens[i].build(seq, sent)
		if err != nil {
			b.Fatal(err)
		}
		if err := a.Publish(ctx, ids[i], m, false); err != nil {
			b.Fatal(err)
		}
		for got := 0; got != seq; {
			select {
			case <-views[i].Ready():
			case <-time.After(embedWait):
				b.Fatalf("call %s: snapshot %d never came", ids[i], seq)
			}
			if m, _ := views[i].Take(); m != nil {
				if got, _, err = parseStamp(m); err != nil {
					b.Fatal(err)
				}
			}
		}
		total += time.Since(sent)
	}
	b.ReportMetric(float64(total.Microseconds())/float64(n), "µs/delivery")
}
