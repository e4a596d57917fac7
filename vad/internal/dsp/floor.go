package dsp

import "math"

// FloorTracker follows a channel's noise floor by minimum statistics: the
// floor is the lowest (lightly smoothed) frame power seen in the last window,
// kept as the minima of a few sub-windows so that it can rise again when the
// noise does, one sub-window at a time. Speech has pauses between words far
// more often than once a window, so the minimum lands on noise, not voice.
type FloorTracker struct {
	subLen  int       // frames per sub-window
	mins    []float64 // minima of the last completed sub-windows (ring)
	minMins float64   // the least of mins: it only changes as a sub-window completes
	next    int       // ring position to overwrite
	cur     float64   // minimum of the sub-window being filled
	count   int       // frames in the current sub-window
	smooth  float64   // smoothed frame power
	started bool
	bias    float64 // linear factor for Config.NoiseBiasDB
}

// floorSubWindows: more sub-windows follow a rising floor sooner, fewer keep
// the ring small. Six gives a step of a sixth of the window.
const floorSubWindows = 6

// floorSmoothing is the weight of a new frame in the smoothed power: a
// single quiet frame between two words should not pull the floor down by
// the full variance of the noise.
const floorSmoothing = 0.5

func NewFloorTracker(windowFrames int, biasDB float64) FloorTracker {
	f := FloorTracker{
		subLen:  max(1, windowFrames/floorSubWindows),
		mins:    make([]float64, floorSubWindows),
		cur:     math.Inf(1),
		minMins: math.Inf(1),
		bias:    math.Pow(10, biasDB/10),
	}
	for i := range f.mins {
		f.mins[i] = math.Inf(1)
	}
	return f
}

// Value is the current floor estimate.
func (f *FloorTracker) Value() float64 {
	return min(f.cur, f.minMins) * f.bias
}

// Update adds a frame's power and returns the current floor estimate.
func (f *FloorTracker) Update(p float64) float64 {
	if f.started {
		f.smooth += floorSmoothing * (p - f.smooth)
	} else {
		f.smooth, f.started = p, true
	}
	f.cur = min(f.cur, f.smooth)
	if f.count++; f.count == f.subLen {
		f.complete()
	}
	return f.Value()
}

// complete closes the current sub-window. It is apart from update, which
// is small enough to be inlined into every frame's work without it.
func (f *FloorTracker) complete() {
	f.mins[f.next] = f.cur
	f.next = (f.next + 1) % len(f.mins)
	f.cur, f.count = math.Inf(1), 0
	f.minMins = math.Inf(1)
	for _, v := range f.mins {
		f.minMins = min(f.minMins, v)
	}
}
