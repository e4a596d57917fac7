package ingest

import (
	"log/slog"
	"sync"
	"time"
)

// LogEvery is how often a LogLimiter lets the same kind of line through: a
// sender that repeats a mistake 50 times a second (a bad packet per RTP
// packet) gets one line every ten seconds, with the count.
const LogEvery = 10 * time.Second

// LogLimiter logs a warning once per key, then at most every LogEvery with
// the number suppressed since. Protocol errors come from the network: a
// broken or hostile sender must not be able to flood the log.
type LogLimiter struct {
	mu   sync.Mutex
	last map[string]limited
	now  func() time.Time
}

type limited struct {
	at         time.Time
	suppressed int
}

// maxLogKeys bounds the limiter's memory: keys include a reason chosen by
// the code, never by the sender, but a long-running service sees many
// sources; past this many the map starts afresh.
const maxLogKeys = 1024

// Warn logs msg with args under key (a reason, perhaps with a source).
func (l *LogLimiter) Warn(log *slog.Logger, key, msg string, args ...any) {
	l.mu.Lock()
	if l.last == nil || len(l.last) >= maxLogKeys {
		l.last = map[string]limited{}
	}
	now := time.Now()
	if l.now != nil {
		now = l.now()
	}
	e, seen := l.last[key]
	if seen && now.Sub(e.at) < LogEvery {
		e.suppressed++
		l.last[key] = e
		l.mu.Unlock()
		return
	}
	l.last[key] = limited{at: now}
	l.mu.Unlock()
	if e.suppressed > 0 {
		args = append(args, "suppressed_since_last", e.suppressed)
	}
	log.Warn(msg, args...)
}
