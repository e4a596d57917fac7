package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

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
