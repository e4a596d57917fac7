package dsp

import (
	"math"
	"testing"
)

// The cache answers what DBToPower answers, bit for bit, whatever was
// asked before it: hits, misses, collisions and NaN alike.
func TestGainCache(t *testing.T) {
	c := NewGainCache(-100)
	for _, db := range []float64{-100, -20, -20, 0, -19.7, 3, -100, -20, math.NaN(), math.Inf(-1), -35.25, -20} {
		want := DBToPower(db)
		if got := c.Gain(db); math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("Gain(%g) = %g, want %g", db, got, want)
		}
	}
	// Many levels, more than the slots, twice over.
	for range 2 {
		for i := range 500 {
			db := -100 + float64(i)*0.3
			if got, want := c.Gain(db), DBToPower(db); got != want {
				t.Fatalf("Gain(%g) = %g, want %g", db, got, want)
			}
		}
	}
}
