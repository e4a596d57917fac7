package siprec

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestMetricsLint: the metrics follow Prometheus's conventions (promlint:
// help text, base units, _total counters), carry the talkratio_ prefix,
// register on a pedantic registry, and every labelled series exists from
// the start.
func TestMetricsLint(t *testing.T) {
	m := NewMetrics()
	reg := prometheus.NewPedanticRegistry()
	for _, c := range m.Collectors() {
		problems, err := testutil.CollectAndLint(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Errorf("%s: %s", p.Metric, p.Text)
		}
		if err := reg.Register(c); err != nil {
			t.Fatal(err)
		}
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "talkratio_siprec") {
			t.Errorf("%s: not talkratio_siprec_*", mf.GetName())
		}
		if len(mf.GetMetric()) == 0 {
			t.Errorf("%s: no series before the first event", mf.GetName())
		}
		for _, s := range mf.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() != "role" && l.GetName() != "reason" && l.GetName() != "method" {
					t.Errorf("%s: label %s", mf.GetName(), l.GetName())
				}
			}
		}
	}
}
