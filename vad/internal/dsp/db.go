package dsp

import "math"

// DBToPower converts decibels to power.
func DBToPower(db float64) float64 { return math.Pow(10, db/10) }

// PowerToDB converts power to decibels. It runs a few times per frame and
// channel, so it trades math.Log10's last digits for speed: the series for
// ln(m) = 2 atanh((m-1)/(m+1)) on the mantissa, to four odd terms, is good
// to 0.0003 dB, a thousandth of the smallest threshold it is compared with.
func PowerToDB(p float64) float64 {
	// p = m * 2^e with m in [0.5, 1), read off the bits of a normal
	// positive number as math.Frexp would, without its call and its
	// special cases, which only the rare rest needs.
	b := math.Float64bits(p)
	if bexp := b >> 52 & 0x7ff; b>>63 != 0 || bexp == 0 || bexp == 0x7ff {
		return powerToDBSlow(p)
	}
	m, e := centredMantissa(b)
	return dbFromCentred(m, e)
}

// PowerToDB2 is PowerToDB of two powers, side by side: each conversion is
// a chain of dependent operations (a division, then a polynomial), and two
// independent chains in one stretch of code overlap in the processor. Both
// series run whatever the powers; one on a special power (zero, which a
// channel under its floor gives every frame, or negative, subnormal,
// infinite, NaN) is thrown away for the slow path's answer, so that the
// other still overlaps with nothing to wait for.
func PowerToDB2(p, q float64) (float64, float64) {
	bp, bq := math.Float64bits(p), math.Float64bits(q)
	mp, ep := centredMantissa(bp)
	mq, eq := centredMantissa(bq)
	dp, dq := dbFromCentred(mp, ep), dbFromCentred(mq, eq)
	if xp := bp >> 52 & 0x7ff; bp>>63 != 0 || xp == 0 || xp == 0x7ff {
		dp = powerToDBSlow(p)
	}
	if xq := bq >> 52 & 0x7ff; bq>>63 != 0 || xq == 0 || xq == 0x7ff {
		dq = powerToDBSlow(q)
	}
	return dp, dq
}

// Bits of a float64.
const (
	fracBits = 1<<52 - 1  // the mantissa's fraction
	expOne   = 1023 << 52 // the exponent field of [1, 2)
	expHalf  = 1022 << 52 // the exponent field of [0.5, 1)
	// sqrtHalfFrac is the fraction of Sqrt2/2, which lies in [0.5, 1):
	// a mantissa in [0.5, 1) is under Sqrt2/2 when its fraction is
	// under this (positive floats order as their bits do).
	sqrtHalfFrac = 0x3fe6a09e667f3bcd & fracBits
)

// centredMantissa splits the bits b of a positive normal number p into
// p = m * 2^e with m in [0.707, 1.414), as dbFromMantissa centres Frexp's
// mantissa (doubling it is exact: one more in the exponent field). Half
// of all powers take the doubling, at random, so it is chosen with
// conditional integer moves rather than a branch the processor would
// mispredict as often. Other bits give some m and e, to be thrown away.
func centredMantissa(b uint64) (m float64, e int) {
	f := b & fracBits
	e = int(b>>52&0x7ff) - 1022
	hi := uint64(expHalf)
	if f < sqrtHalfFrac {
		hi, e = expOne, e-1
	}
	return math.Float64frombits(f | hi), e
}

// powerToDBSlow is PowerToDB for zero, negative, subnormal, infinite and
// NaN power.
func powerToDBSlow(p float64) float64 {
	if p <= 0 || math.IsNaN(p) {
		return math.Inf(-1)
	}
	if math.IsInf(p, 1) {
		return p
	}
	m, e := math.Frexp(p)
	return dbFromMantissa(m, e)
}

// dbFromMantissa is PowerToDB of m * 2^e, m in [0.5, 1).
func dbFromMantissa(m float64, e int) float64 {
	if m < math.Sqrt2/2 {
		m, e = m*2, e-1 // m in [0.707, 1.414): |t| < 0.172
	}
	return dbFromCentred(m, e)
}

// dbFromCentred is PowerToDB of m * 2^e, m in [0.707, 1.414).
func dbFromCentred(m float64, e int) float64 {
	t := (m - 1) / (m + 1)
	t2 := t * t
	ln := 2 * t * (1 + t2*(1.0/3+t2*(1.0/5+t2*(1.0/7))))
	return dbPerNeper * (ln + float64(e)*math.Ln2)
}

// dbPerNeper converts a natural logarithm of power to decibels.
const dbPerNeper = 10 / math.Ln10
