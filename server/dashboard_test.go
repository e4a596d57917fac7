package server

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

// metricRef finds the metric names an expression uses (not the names of
// recording rules, level:metric:operations, which hold one).
var metricRef = regexp.MustCompile(`(?:^|[^:a-z0-9_])((?:talkratio|process|go)_[a-z0-9_]+)`)

// exported returns the metric names the service exposes, the series of
// histograms included.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	// With what serve gives it, so that the storage metrics are there.
	srv, _ := newTestServer(t, Config{FreeSpace: func() (int64, error) { return 1 << 30, nil }})
	// One request, so that the request counter has a series.
	srv.Handler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/livez", nil))
	fams, err := srv.m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range fams {
		n := f.GetName()
		names[n] = true
		for _, s := range []string{"_bucket", "_sum", "_count"} {
			names[n+s] = true
		}
	}
	return names
}

// clampedRates finds clamp_min(...) whose argument is a rate: a
// denominator of events per second clamped to 1 is wrong whenever fewer
// than one happen a second (below one call, for audio seconds).
func clampedRates(expr string) []string {
	var out []string
	for rest := expr; ; {
		i := strings.Index(rest, "clamp_min(")
		if i < 0 {
			return out
		}
		rest = rest[i+len("clamp_min("):]
		depth, end := 1, 0
		for end < len(rest) && depth > 0 {
			switch rest[end] {
			case '(':
				depth++
			case ')':
				depth--
			}
			end++
		}
		if arg := rest[:end]; strings.Contains(arg, "rate(") || strings.Contains(arg, "increase(") {
			out = append(out, "clamp_min("+arg)
		}
	}
}

// The Grafana dashboard and the Prometheus rules shipped in docs/ use only
// metrics the service exposes, and never divide by a clamped rate.
func TestDashboardAndRulesMatchMetrics(t *testing.T) {
	names := exported(t)
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	b, err := os.ReadFile("../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	exprs := map[string]string{}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			exprs["panel "+p.Title] += tg.Expr + "\n"
		}
	}
	rules, err := os.ReadFile("../docs/prometheus/talkratio-rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	exprs["talkratio-rules.yml"] = string(rules)
	if len(exprs) < 10 {
		t.Fatalf("%d panels read: the dashboard's layout changed?", len(exprs))
	}
	for where, e := range exprs {
		for _, sm := range metricRef.FindAllStringSubmatch(e, -1) {
			if m := sm[1]; !names[m] {
				t.Errorf("%s uses %s, which the service does not export", where, m)
			}
		}
		if bad := clampedRates(e); len(bad) > 0 {
			t.Errorf("%s divides by a clamped rate: %v", where, bad)
		}
	}
}

func TestClampedRates(t *testing.T) {
	for _, tc := range []struct {
		expr string
		bad  int
	}{
		{`a / clamp_min(sum(rate(x[5m])), 1)`, 1},
		{`a / clamp_min(sum(talkratio_calls_active), 1)`, 0},
		{`a / (sum(rate(x[5m])) > 0)`, 0},
		{`clamp_min(increase(x[1h]), 1) + clamp_min(sum(rate(y[1m])) + 1, 1)`, 2},
	} {
		if got := clampedRates(tc.expr); len(got) != tc.bad {
			t.Errorf("%s: %v, want %d", tc.expr, got, tc.bad)
		}
	}
}
