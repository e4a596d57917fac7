package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"talkratio/whipclient"
)

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
