//go:build !unix

package cluster

import "time"

// processCPU: no process CPU time here; heartbeats report 0.
func processCPU() (time.Duration, bool) { return 0, false }
