package dsp

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The fast logarithm stays within a thousandth of a dB of math.Log10 over
// every power the detector meets (and far beyond).
func TestPowerToDB(t *testing.T) {
	worst := 0.0
	for e := -300; e <= 300; e++ {
		for k := range 100 {
			p := math.Pow(10, float64(e)/10+float64(k)/1000)
			worst = max(worst, math.Abs(PowerToDB(p)-10*math.Log10(p)))
		}
	}
	if worst > 0.001 {
		t.Errorf("PowerToDB is off by up to %.4f dB", worst)
	}
	if !math.IsInf(PowerToDB(0), -1) || !math.IsInf(PowerToDB(-1), -1) || !math.IsInf(PowerToDB(math.NaN()), -1) {
		t.Error("zero, negative or NaN power should be -Inf dB")
	}
}

// PowerToDB (and PowerToDB2) read the mantissa and exponent off the bits
// as math.Frexp does, and give the same decibels, bit for bit, as the
// series on Frexp's mantissa, at every power.
func TestPowerToDBBits(t *testing.T) {
	ref := func(p float64) float64 {
		if p <= 0 || math.IsNaN(p) {
			return math.Inf(-1)
		}
		if math.IsInf(p, 1) {
			return p
		}
		m, e := math.Frexp(p)
		return dbFromMantissa(m, e)
	}
	r := rand.New(rand.NewPCG(6, 6))
	vals := []float64{0, math.Copysign(0, -1), -1, 1, 0.5, math.Sqrt2 / 2, math.Nextafter(math.Sqrt2/2, 0), math.SmallestNonzeroFloat64,
		math.MaxFloat64, math.Inf(1), math.Inf(-1), math.NaN(), 0x1p-1022, math.Nextafter(0x1p-1022, 0)}
	for range 200000 {
		vals = append(vals, math.Float64frombits(r.Uint64()), math.Exp(-40*r.Float64()))
	}
	for i, p := range vals {
		got, want := PowerToDB(p), ref(p)
		if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Fatalf("PowerToDB(%v) = %v, want %v", p, got, want)
		}
		q := vals[(i*7919)%len(vals)]
		g1, g2 := PowerToDB2(p, q)
		if math.Float64bits(g1) != math.Float64bits(want) || math.Float64bits(g2) != math.Float64bits(ref(q)) {
			t.Fatalf("PowerToDB2(%v, %v) = %v, %v, want %v, %v", p, q, g1, g2, want, ref(q))
		}
	}
}
