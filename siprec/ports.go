package siprec

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
)

// PortRange is the UDP ports RTP is received on, inclusive. Each stream
// takes an even port (RFC 3550 section 11: RTP on even ports, RTCP on the
// next odd one, which talkratio leaves unbound: it reads no RTCP).
type PortRange struct {
	Min, Max int
}

// DefaultPortRange leaves room for 500 two-stream calls.
var DefaultPortRange = PortRange{Min: 20000, Max: 21999}

// ParsePortRange reads "LOW-HIGH".
func ParsePortRange(s string) (PortRange, error) {
	lo, hi, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return PortRange{}, fmt.Errorf("port range %q: want LOW-HIGH", s)
	}
	l, err1 := strconv.Atoi(lo)
	h, err2 := strconv.Atoi(hi)
	r := PortRange{l, h}
	if err1 != nil || err2 != nil {
		return PortRange{}, fmt.Errorf("port range %q: want LOW-HIGH", s)
	}
	return r, r.check()
}

func (r PortRange) check() error {
	switch {
	case r.Min < 1024 || r.Max > 65535:
		return fmt.Errorf("port range %d-%d: ports must be within 1024-65535", r.Min, r.Max)
	case r.Max < r.Min+1:
		return fmt.Errorf("port range %d-%d holds no even port pair", r.Min, r.Max)
	}
	return nil
}

func (r PortRange) String() string { return fmt.Sprintf("%d-%d", r.Min, r.Max) }

var errNoPorts = errors.New("no free RTP port")

// ports hands out even ports of the range, bound as UDP sockets.
type ports struct {
	mu    sync.Mutex
	r     PortRange
	used  map[int]bool
	next  int                 // where the search for a free port starts
	bind  netip.Addr          // the local address to bind; unset: all
	taken func(port int) bool // tests: pretend a port is in use elsewhere
}

func newPorts(r PortRange, bind netip.Addr) *ports {
	first := r.Min + r.Min%2
	return &ports{r: r, used: map[int]bool{}, next: first, bind: bind}
}

// open binds the next free even port. Ports another process holds are
// skipped.
func (p *ports) open() (*net.UDPConn, int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	first := p.r.Min + p.r.Min%2
	n := (p.r.Max-first)/2 + 1
	for range n {
		port := p.next
		p.next += 2
		if p.next > p.r.Max {
			p.next = first
		}
		if p.used[port] || (p.taken != nil && p.taken(port)) {
			continue
		}
		la := &net.UDPAddr{Port: port} // every local address, IPv4 and IPv6
		if p.bind.IsValid() {
			la = net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.bind, uint16(port)))
		}
		c, err := net.ListenUDP("udp", la)
		if err != nil {
			continue
		}
		p.used[port] = true
		return c, port, nil
	}
	return nil, 0, fmt.Errorf("%w in %s (%d in use here)", errNoPorts, p.r, len(p.used))
}

// release returns a port (its socket closed by the caller).
func (p *ports) release(port int) {
	p.mu.Lock()
	delete(p.used, port)
	p.mu.Unlock()
}

// inUse counts the ports handed out.
func (p *ports) inUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.used)
}
