package server

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"talkratio/auth"
	"talkratio/reply"
)

// limiter rate-limits requests per client address: a token bucket per IP,
// forgotten after a while idle so that the table cannot grow without end.
type limiter struct {
	every   rate.Limit
	burst   int
	mu      sync.Mutex
	clients map[string]*clientBucket
	swept   time.Time
}

type clientBucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// limiterIdle: a client's bucket is dropped after this long without a
// request; by then it would be full again anyway.
const limiterIdle = 10 * time.Minute

// newLimiter allows perSecond requests per client, with bursts of burst
// (or of one second's worth, if that is more).
func newLimiter(perSecond float64, burst int) *limiter {
	burst = max(burst, int(math.Ceil(perSecond)))
	return &limiter{every: rate.Limit(perSecond), burst: burst, clients: map[string]*clientBucket{}}
}

// clientIP is the request's peer address. Forwarded headers are not
// trusted: behind a proxy, rate-limit at the proxy.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// allow takes a token for the client, or says how long to wait for one.
func (l *limiter) allow(ip string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > limiterIdle {
		for k, c := range l.clients {
			if now.Sub(c.seen) > limiterIdle {
				delete(l.clients, k)
			}
		}
		l.swept = now
	}
	c := l.clients[ip]
	if c == nil {
		c = &clientBucket{lim: rate.NewLimiter(l.every, l.burst)}
		l.clients[ip] = c
	}
	c.seen = now
	res := c.lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// limit wraps a handler: past the client's rate it answers 429 with
// Retry-After.
func (l *limiter) limit(h http.HandlerFunc) http.HandlerFunc { return l.limitUnless(nil, h) }

// limitUnless is limit, but requests that exempt says yes to are never
// limited nor counted.
func (l *limiter) limitUnless(exempt func(*http.Request) bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if exempt != nil && exempt(r) {
			h(w, r)
			return
		}
		ok, wait := l.allow(clientIP(r), time.Now())
		if !ok {
			secs := int(math.Ceil(wait.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			reply.WriteError(w, reply.Errorf(http.StatusTooManyRequests, "too many requests from %s; retry in %d s", clientIP(r), secs))
			return
		}
		h(w, r)
	}
}

// bulkImporter says whether a request comes from someone the upload rate
// limit must not stop: an admin (a token with the admin grant), or, on a
// service that runs open, a caller on this machine. The limit protects
// the service from reps' browsers and scripts gone wrong, not from the
// operator importing a backlog (talkratio import).
func bulkImporter(r *http.Request) bool {
	p := auth.FromContext(r.Context())
	if p.Open {
		ip := net.ParseIP(clientIP(r))
		return ip != nil && ip.IsLoopback()
	}
	return p.Grants.Admin
}
