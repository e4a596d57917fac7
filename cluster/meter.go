package cluster

import (
	"sync"
	"time"
)

// cpuMeter measures the share of a core the process used between two
// readings: the load a heartbeat reports.
type cpuMeter struct {
	mu        sync.Mutex
	last      time.Duration // CPU time at the last reading
	lastWall  time.Time
	available bool
}

func (m *cpuMeter) start() {
	m.last, m.available = processCPU()
	m.lastWall = time.Now()
}

// share is CPU time over wall time since the last call (1 = one core).
func (m *cpuMeter) share() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	now, ok := processCPU()
	wall := time.Now()
	if !ok || !m.available {
		return 0
	}
	d := wall.Sub(m.lastWall)
	used := now - m.last
	m.last, m.lastWall = now, wall
	if d <= 0 {
		return 0
	}
	return float64(used) / float64(d)
}
