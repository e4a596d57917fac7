package dsp

import "math"

// GainCache is DBToPower with a memory: a small table of levels (dB) met
// before, each with its power ratio. A level that moves in steps between a
// few dozen values, and stands still between them (the leak model's ratio
// does), is converted once per value rather than once per use (a
// math.Pow each).
type GainCache struct {
	slots [gainSlots]gainSlot
}

// gainBits, gainSlots: the levels kept, room for the few dozen values a
// call's leak ratios take.
const (
	gainBits  = 6
	gainSlots = 1 << gainBits
)

// gainSlot is a level, by its bits (which, unlike a compare, find a NaN
// too), and its power ratio.
type gainSlot struct {
	dbBits uint64
	gain   float64
}

// NewGainCache returns a cache whose every slot holds db, so that each
// slot starts right: it holds the gain of the level it names, wherever it
// sits.
func NewGainCache(db float64) GainCache {
	var c GainCache
	for i := range c.slots {
		c.slots[i] = gainSlot{math.Float64bits(db), DBToPower(db)}
	}
	return c
}

// Gain is DBToPower(db), looked up by db's bits (its slot: the top bits of
// a multiplicative hash) and computed on a miss.
func (c *GainCache) Gain(db float64) float64 {
	b := math.Float64bits(db)
	g := &c.slots[(b*0x9e3779b97f4a7c15)>>(64-gainBits)]
	if g.dbBits != b {
		g.dbBits, g.gain = b, DBToPower(db)
	}
	return g.gain
}
