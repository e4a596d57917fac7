package ingest

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Counters builds the labelled counters the adapters share the shape of:
// one label whose values are a fixed set, every series created up front so
// that it reads 0 rather than missing before its first event (alerts on
// rate() need the series to exist).
type Counters struct {
	vec    *prometheus.CounterVec
	values map[string]prometheus.Counter
	other  string // the value an unknown one is counted under
}

// NewCounters returns a counter vector name (help on it) with one label
// whose values are values. Inc of a value outside the set counts under the
// last value, so a typo in a rare path is visible in the metrics, not lost.
func NewCounters(name, help, label string, values ...string) *Counters {
	c := &Counters{
		vec:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{label}),
		values: make(map[string]prometheus.Counter, len(values)),
	}
	for _, v := range values {
		c.values[v] = c.vec.WithLabelValues(v)
	}
	if len(values) > 0 {
		c.other = values[len(values)-1]
	}
	return c
}

// Inc counts one event for value v.
func (c *Counters) Inc(v string) { c.Add(v, 1) }

// Add counts n events for value v.
func (c *Counters) Add(v string, n float64) {
	if x, ok := c.values[v]; ok {
		x.Add(n)
		return
	}
	if x, ok := c.values[c.other]; ok {
		x.Add(n)
	}
}

// Collector is the vector, to register.
func (c *Counters) Collector() prometheus.Collector { return c.vec }

// Register registers collectors on r, failing on the first that does not
// register (a name registered twice is a wiring bug the caller reports).
func Register(r prometheus.Registerer, cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			return fmt.Errorf("register ingest metrics: %w", err)
		}
	}
	return nil
}

// RoleNames are the values of role labels, in Role order.
var RoleNames = []string{Rep.String(), Customer.String()}
