package tally

import (
	"encoding/json"
	"regexp"
	"testing"
)

// The figures are printed as they can mean (issue 11, point 5): a length
// summed from 10 ms steps (41.980000000000004) is 41.98, in the report and
// its JSON, times to the millisecond and shares to a hundredth.
func TestReportHasNoFloatNoise(t *testing.T) {
	// 0.01 added 4,198 times is 41.97999999999..., not 41.98.
	var noisy float64
	for range 4198 {
		noisy += 0.01
	}
	if noisy == 41.98 {
		t.Fatalf("the sum is exact (%v): the test would prove nothing", noisy)
	}
	long := regexp.MustCompile(`[0-9]\.[0-9]{4,}`)
	tests := []struct {
		name string
		dur  float64
		rep  []Segment
		cust []Segment
	}{
		{"noisy length", noisy, []Segment{{0.1, 0.2 + 0.1}, {1.1, 1.3 + 0.1}}, []Segment{{2.3, 2.3 + 0.7}}},
		{"41.980000000000004", 41.980000000000004, []Segment{{0.7, 0.7 + 0.6}, {3.3, 13.3 + 0.2}}, []Segment{{14.1, 14.1 + 0.3}, {20, 40.1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ty := New(DefaultConfig())
			for _, s := range tc.rep {
				ty.Add(Rep, s)
			}
			for _, s := range tc.cust {
				ty.Add(Customer, s)
			}
			m := ty.Report(tc.dur)
			if m.DurationS != 41.98 {
				t.Errorf("duration %v, want 41.98", m.DurationS)
			}
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if bad := long.FindAllString(string(b), -1); len(bad) > 0 {
				t.Errorf("figures with float noise %q in %s", bad, b)
			}
		})
	}
}
