package live

import "talkratio/tally"

// Metrics is what live calls count. The server's Prometheus metrics
// implement it; every method is cheap, for the packet path calls some of
// them a hundred times per call a second.
type Metrics interface {
	CallStarted()
	CallEnded(reason string)
	// Received counts a packet of a role, and the packets found lost
	// before it.
	Received(r tally.Role, lost int)
	// Late: a packet came after its audio was analyzed.
	Late(r tally.Role)
	// Ahead: a packet's clock ran too far ahead of real time.
	Ahead(r tally.Role)
	DecodeError(codec string)
	// Analyzed, Missing: seconds of call time analyzed, and of those, the
	// ones whose audio never arrived.
	Analyzed(r tally.Role, seconds float64)
	Missing(r tally.Role, seconds float64)
	// Speech found in an ended call.
	Speech(r tally.Role, seconds float64)
	// SnapshotLatency: a packet's arrival to the first snapshot with it.
	SnapshotLatency(seconds float64)
	// NoMedia: a call ended without any audio, and is not stored.
	NoMedia()
	// StoreError: a write to the store failed (and is retried).
	StoreError()
}

type nopMetrics struct{}

func (nopMetrics) CallStarted()                 {}
func (nopMetrics) CallEnded(string)             {}
func (nopMetrics) Received(tally.Role, int)     {}
func (nopMetrics) Late(tally.Role)              {}
func (nopMetrics) Ahead(tally.Role)             {}
func (nopMetrics) DecodeError(string)           {}
func (nopMetrics) Analyzed(tally.Role, float64) {}
func (nopMetrics) Missing(tally.Role, float64)  {}
func (nopMetrics) Speech(tally.Role, float64)   {}
func (nopMetrics) SnapshotLatency(float64)      {}
func (nopMetrics) NoMedia()                     {}
func (nopMetrics) StoreError()                  {}
