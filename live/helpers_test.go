package live

import (
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"talkratio/call"
	"talkratio/inmem"
	"talkratio/tally"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// countMetrics counts what calls report, per role.
type countMetrics struct {
	mu                           sync.Mutex
	started, ended, decodeErrors int
	received, lost, late, ahead  [2]float64
	analyzed, missing, speech    [2]float64
	reasons                      []string
	latencies                    int
	noMedia, storeErrors         int
}

func (m *countMetrics) NoMedia()    { m.mu.Lock(); m.noMedia++; m.mu.Unlock() }
func (m *countMetrics) StoreError() { m.mu.Lock(); m.storeErrors++; m.mu.Unlock() }

func (m *countMetrics) add(v *[2]float64, r tally.Role, x float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v[r] += x
}

func (m *countMetrics) total(v *[2]float64) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return v[0] + v[1]
}

func (m *countMetrics) CallStarted() { m.mu.Lock(); m.started++; m.mu.Unlock() }
func (m *countMetrics) CallEnded(reason string) {
	m.mu.Lock()
	m.ended++
	m.reasons = append(m.reasons, reason)
	m.mu.Unlock()
}
func (m *countMetrics) Received(r tally.Role, lost int) {
	m.add(&m.received, r, 1)
	m.add(&m.lost, r, float64(lost))
}
func (m *countMetrics) Late(r tally.Role)                { m.add(&m.late, r, 1) }
func (m *countMetrics) Ahead(r tally.Role)               { m.add(&m.ahead, r, 1) }
func (m *countMetrics) DecodeError(string)               { m.mu.Lock(); m.decodeErrors++; m.mu.Unlock() }
func (m *countMetrics) Analyzed(r tally.Role, s float64) { m.add(&m.analyzed, r, s) }
func (m *countMetrics) Missing(r tally.Role, s float64)  { m.add(&m.missing, r, s) }
func (m *countMetrics) Speech(r tally.Role, s float64)   { m.add(&m.speech, r, s) }
func (m *countMetrics) SnapshotLatency(float64)          { m.mu.Lock(); m.latencies++; m.mu.Unlock() }

// testRegistry is a registry on an in-memory store and bus.
func testRegistry(m Metrics) *Registry {
	return NewRegistry(Config{Store: inmem.NewStore(), Bus: inmem.NewBus(0), Rules: call.Rules{}.WithDefaults(), Metrics: m, Log: quietLogger()})
}

// feed gives a call one packet of audio: a call that never gets any is
// not stored.
func feed(t *testing.T, c *Call) {
	t.Helper()
	tr, err := c.NewTrack(TrackSpec{Codec: "audio/PCMU", Roles: []tally.Role{tally.Rep}})
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Packet(1, 160, make([]byte, 160), time.Now()) {
		t.Fatal("the call refused a packet")
	}
}
