package server

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"talkratio/call"
)

// usageMaxAge: the disk-usage figures are measured at most this often,
// however often Prometheus scrapes (a directory walk of a large library
// is not free).
const usageMaxAge = time.Minute

// usage reports what the library takes up: the calls it holds, the bytes
// of their audio and of uploads not yet analyzed (when the blob store can
// tell), and the space left where calls are stored.
type usage struct {
	store call.Store
	blobs call.BlobUsage        // nil: not reported
	free  func() (int64, error) // nil: not reported
	log   interface{ Warn(string, ...any) }

	calls, bytes, files, freeDesc *prometheus.Desc

	mu     sync.Mutex
	at     time.Time
	cached []prometheus.Metric
}

// usagePrefixes are what the byte figures are split by: the label value
// and the blob keys it covers.
var usagePrefixes = []struct{ what, prefix string }{
	{"audio", "audio/"}, {"uploads", "kept/"}, {"uploads", "staging/"},
}

func newUsage(store call.Store, blobs call.BlobUsage, free func() (int64, error), log interface{ Warn(string, ...any) }) *usage {
	return &usage{
		store: store, blobs: blobs, free: free, log: log,
		calls:    prometheus.NewDesc("talkratio_calls_stored", "Calls in the library, every state.", nil, nil),
		bytes:    prometheus.NewDesc("talkratio_stored_bytes", "Bytes the library's files take, by what (audio: calls' audio; uploads: uploaded files until analyzed). Measured at most once a minute.", []string{"what"}, nil),
		files:    prometheus.NewDesc("talkratio_stored_files", "Files the library keeps, by what (audio, uploads). Measured at most once a minute.", []string{"what"}, nil),
		freeDesc: prometheus.NewDesc("talkratio_storage_free_bytes", "Space left on the file system where calls are stored.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (u *usage) Describe(ch chan<- *prometheus.Desc) {
	ch <- u.calls
	ch <- u.bytes
	ch <- u.files
	ch <- u.freeDesc
}

// Collect implements prometheus.Collector.
func (u *usage) Collect(ch chan<- prometheus.Metric) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.cached == nil || time.Since(u.at) >= usageMaxAge {
		u.cached, u.at = u.measure(), time.Now()
	}
	for _, m := range u.cached {
		ch <- m
	}
}

func (u *usage) measure() []prometheus.Metric {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []prometheus.Metric
	if _, total, err := u.store.List(ctx, call.ListQuery{Size: 1}); err == nil {
		out = append(out, prometheus.MustNewConstMetric(u.calls, prometheus.GaugeValue, float64(total)))
	} else {
		u.log.Warn("usage: count calls", "err", err)
	}
	if u.blobs != nil {
		bytes, files := map[string]float64{}, map[string]float64{}
		ok := true
		for _, p := range usagePrefixes {
			n, b, err := u.blobs.Usage(ctx, p.prefix)
			if err != nil {
				u.log.Warn("usage: blobs", "prefix", p.prefix, "err", err)
				ok = false
				break
			}
			files[p.what] += float64(n)
			bytes[p.what] += float64(b)
		}
		if ok {
			for _, what := range []string{"audio", "uploads"} {
				out = append(out,
					prometheus.MustNewConstMetric(u.bytes, prometheus.GaugeValue, bytes[what], what),
					prometheus.MustNewConstMetric(u.files, prometheus.GaugeValue, files[what], what))
			}
		}
	}
	if u.free != nil {
		if free, err := u.free(); err == nil {
			out = append(out, prometheus.MustNewConstMetric(u.freeDesc, prometheus.GaugeValue, float64(free)))
		}
	}
	return out
}
