package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sort"
	"syscall"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

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
