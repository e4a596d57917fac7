package server

import (
	"talkratio/audio"
	"talkratio/retention"
	"talkratio/upload"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"talkratio/live"
	"talkratio/tally"
)

// metrics are the service's Prometheus metrics, on the registry it is
// given (never the global one). Labels are bounded sets (role, reason,
// codec, handler, code): never a call id, which would grow without end.
// They are what live calls count (live.Metrics) and what the HTTP side
// counts itself.
type metrics struct {
	reg *prometheus.Registry

	callsActive   prometheus.Gauge
	callsStarted  prometheus.Counter
	callsEnded    *prometheus.CounterVec // reason
	rtpPackets    *prometheus.CounterVec // role
	rtpLost       *prometheus.CounterVec // role
	rtpLate       *prometheus.CounterVec // role
	rtpAhead      *prometheus.CounterVec // role
	decodeErrors  *prometheus.CounterVec // codec
	analyzed      *prometheus.CounterVec // role
	missing       *prometheus.CounterVec // role
	speech        *prometheus.CounterVec // role
	wsClients     prometheus.Gauge
	wsDropped     *prometheus.CounterVec // reason
	latency       prometheus.Histogram
	httpRequests  *prometheus.CounterVec // handler, code
	uploadsActive prometheus.Gauge
	uploadsDone   *prometheus.CounterVec // result
	retained      *prometheus.CounterVec // what
	uploadTime    prometheus.Histogram
	noMedia       prometheus.Counter
	storeErrors   prometheus.Counter

	// Per-role children of the vectors above, indexed by tally.Role, looked
	// up once: the packet path counts a hundred packets per call a second.
	packetsBy, lostBy, lateBy, aheadBy, analyzedBy, speechBy, missingBy [2]prometheus.Counter
}

var _ live.Metrics = (*metrics)(nil)

// newMetrics registers the metrics on reg; nil for a registry of their
// own with the Go and process collectors.
func newMetrics(reg *prometheus.Registry) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m := &metrics{
		reg: reg,
		callsActive: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "talkratio_calls_active", Help: "Live calls being analyzed now.",
		}),
		callsStarted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "talkratio_calls_started_total", Help: "Live calls started.",
		}),
		callsEnded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "talkratio_calls_ended_total", Help: "Live calls ended, by reason (hangup, closed, failed, shutdown, error).",
		}, []string{"reason"}),
		rtpPackets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "talkratio_rtp_packets_received_total", Help: "RTP packets received, by role (rep, customer).",
		}, []string{"role"}),
		rtpLost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "talkratio_rtp_packets_lost_total", Help: "RTP packets never received (gaps in sequence numbers), by role.",
		}, []string{"role"}),
		rtpLate: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "talkratio_rtp_packets_late_total", Help: "RTP packets that arrived after their part of the call was analyzed, by role.",
		}, []string{"role"}),
		rtpAhead: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "talkratio_rtp_packets_ahead_total", Help: "RTP packets whose timestamp ran more than 3 s ahead of real time (a fast or bogus sender clock) and were placed by arrival time instead, by role.",
		}, []string{"role"}),
		decodeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "talkratio_decode_errors_total", Help: "RTP payloads that could not be decoded, by codec.",
		}, []string{"codec"}),
		analyzed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "talkratio_audio_analyzed_seconds_total", Help: "Seconds of live audio analyzed, by role.",
		}, []string{"role"}),
		missing: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "talkratio_audio_missing_seconds_total", Help: "Seconds of live call time analyzed whose audio never arrived (lost packets, a stalled or dropped sender), by role.",
		}, []string{"role"}),
		speech: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "talkratio_speech_seconds_total", Help: "Seconds of speech found in ended live calls, by role.",
		}, []string{"role"}),
		wsClients: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "talkratio_websocket_clients", Help: "Dashboard websocket clients connected now.",
		}),
		wsDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "talkratio_websocket_dropped_total", Help: "Dashboard websocket clients dropped by the service, by reason (slow, error, limit).",
		}, []string{"reason"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "talkratio_snapshot_latency_seconds",
			Help:    "Time from an RTP packet's arrival to the first dashboard snapshot that includes it.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.35, 0.5, 1, 2.5},
		}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "talkratio_http_requests_total", Help: "HTTP requests served, by handler and status code.",
		}, []string{"handler", "code"}),
		uploadsActive: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "talkratio_uploads_analyzing", Help: "Uploaded calls being analyzed now.",
		}),
		noMedia: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "talkratio_calls_without_media_total", Help: "Live calls that ended without receiving any audio (offers that never connected): not stored.",
		}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "talkratio_store_errors_total", Help: "Writes to the call library that failed (a full disk, a store that is down); each is retried or kept.",
		}),
	}
	m.uploadsDone = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "talkratio_uploads_finished_total", Help: "Uploaded calls whose analysis finished, by result (ended: stored with its analysis; failed: stored as failed).",
	}, []string{"result"})
	m.uploadTime = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "talkratio_upload_analysis_seconds",
		Help:    "How long an uploaded call's analysis took (audio read, analyzed and stored), failed ones included.",
		Buckets: []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600},
	})
	m.retained = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "talkratio_retention_deleted_total", Help: "Calls the retention policy deleted, by what went (audio: the call's audio; call: the whole call).",
	}, []string{"what"})
	reg.MustRegister(m.noMedia, m.storeErrors, m.uploadsDone, m.uploadTime, m.retained)
	reg.MustRegister(
		m.callsActive, m.callsStarted, m.callsEnded, m.rtpPackets, m.rtpLost, m.rtpLate, m.rtpAhead, m.missing,
		m.decodeErrors, m.analyzed, m.speech, m.wsClients, m.wsDropped, m.latency, m.httpRequests,
		m.uploadsActive,
	)
	// Pre-create the label values people alert on, so that they read 0
	// rather than missing before the first event.
	for _, r := range tally.Roles {
		n := r.String()
		m.packetsBy[r] = m.rtpPackets.WithLabelValues(n)
		m.lostBy[r] = m.rtpLost.WithLabelValues(n)
		m.lateBy[r] = m.rtpLate.WithLabelValues(n)
		m.aheadBy[r] = m.rtpAhead.WithLabelValues(n)
		m.missingBy[r] = m.missing.WithLabelValues(n)
		m.analyzedBy[r] = m.analyzed.WithLabelValues(n)
		m.speechBy[r] = m.speech.WithLabelValues(n)
	}
	for _, r := range live.EndReasons() {
		m.callsEnded.WithLabelValues(r)
	}
	for _, r := range []string{"slow", "error", "limit"} {
		m.wsDropped.WithLabelValues(r)
	}
	for _, c := range audio.PacketCodecs() {
		m.decodeErrors.WithLabelValues(c)
	}
	for _, r := range []string{upload.ResultEnded, upload.ResultFailed} {
		m.uploadsDone.WithLabelValues(r)
	}
	for _, w := range []string{retention.WhatAudio, retention.WhatCall} {
		m.retained.WithLabelValues(w)
	}
	return m
}

// Deleted implements retention.Metrics.
func (m *metrics) Deleted(what string, n int) { m.retained.WithLabelValues(what).Add(float64(n)) }

// Finished implements upload.Metrics.
func (m *metrics) Finished(result string, seconds float64) {
	m.uploadsDone.WithLabelValues(result).Inc()
	m.uploadTime.Observe(seconds)
}

// CallStarted implements live.Metrics.
func (m *metrics) CallStarted() {
	m.callsStarted.Inc()
	m.callsActive.Inc()
}

// CallEnded implements live.Metrics.
func (m *metrics) CallEnded(reason string) {
	m.callsEnded.WithLabelValues(reason).Inc()
	m.callsActive.Dec()
}

// Received implements live.Metrics.
func (m *metrics) Received(r tally.Role, lost int) {
	m.packetsBy[r].Inc()
	if lost > 0 {
		m.lostBy[r].Add(float64(lost))
	}
}

// Late implements live.Metrics.
func (m *metrics) Late(r tally.Role) { m.lateBy[r].Inc() }

// Ahead implements live.Metrics.
func (m *metrics) Ahead(r tally.Role) { m.aheadBy[r].Inc() }

// DecodeError implements live.Metrics.
func (m *metrics) DecodeError(codec string) { m.decodeErrors.WithLabelValues(codec).Inc() }

// Analyzed implements live.Metrics.
func (m *metrics) Analyzed(r tally.Role, s float64) { m.analyzedBy[r].Add(s) }

// Missing implements live.Metrics.
func (m *metrics) Missing(r tally.Role, s float64) { m.missingBy[r].Add(s) }

// Speech implements live.Metrics.
func (m *metrics) Speech(r tally.Role, s float64) { m.speechBy[r].Add(s) }

// SnapshotLatency implements live.Metrics.
func (m *metrics) SnapshotLatency(s float64) { m.latency.Observe(s) }

// NoMedia implements live.Metrics.
func (m *metrics) NoMedia() { m.noMedia.Inc() }

// StoreError implements live.Metrics and counts the failed writes of
// uploads too.
func (m *metrics) StoreError() { m.storeErrors.Inc() }
