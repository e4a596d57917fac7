package ingest

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestCounters(t *testing.T) {
	c := NewCounters("talkratio_test_errors_total", "Test errors, by reason.", "reason", "json", "other")
	if n := testutil.CollectAndCount(c.Collector()); n != 2 {
		t.Fatalf("%d series before any event, want 2", n)
	}
	c.Inc("json")
	c.Add("json", 2)
	c.Inc("not a reason") // counted as other
	vec := c.Collector().(*prometheus.CounterVec)
	if v := testutil.ToFloat64(vec.WithLabelValues("json")); v != 3 {
		t.Errorf("json %v", v)
	}
	if v := testutil.ToFloat64(vec.WithLabelValues("other")); v != 1 {
		t.Errorf("other %v", v)
	}
	reg := prometheus.NewPedanticRegistry()
	if err := Register(reg, c.Collector()); err != nil {
		t.Fatal(err)
	}
	if err := Register(reg, c.Collector()); err == nil {
		t.Error("registered twice without an error")
	}
}

func TestLogLimiter(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	now := time.Unix(0, 0)
	l := LogLimiter{now: func() time.Time { return now }}
	for range 5 {
		l.Warn(log, "json", "bad message")
	}
	l.Warn(log, "other", "another kind")
	now = now.Add(LogEvery)
	l.Warn(log, "json", "bad message")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines:\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[2], "suppressed_since_last=4") {
		t.Errorf("last line %q lacks the count", lines[2])
	}
}
