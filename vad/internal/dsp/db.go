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
	bexp := int(b>>52) & 0x7ff
	if b>>63 != 0 || bexp == 0 || bexp == 0x7ff {
		return powerToDBSlow(p)
	}
	m := math.Float64frombits(b&^(0x7ff<<52) | 1022<<52)
	return dbFromMantissa(m, bexp-1022)
}

// PowerToDB2 is PowerToDB of two powers, side by side: each conversion is
// a chain of dependent operations (a division, then a polynomial), and two
// independent chains in one stretch of code overlap in the processor.
func PowerToDB2(p, q float64) (float64, float64) {
	bp, bq := math.Float64bits(p), math.Float64bits(q)
	ep, eq := int(bp>>52)&0x7ff, int(bq>>52)&0x7ff
	if bp>>63 != 0 || ep == 0 || ep == 0x7ff || bq>>63 != 0 || eq == 0 || eq == 0x7ff {
		return PowerToDB(p), PowerToDB(q)
	}
	mp := math.Float64frombits(bp&^(0x7ff<<52) | 1022<<52)
	mq := math.Float64frombits(bq&^(0x7ff<<52) | 1022<<52)
	return dbFromMantissa(mp, ep-1022), dbFromMantissa(mq, eq-1022)
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
	t := (m - 1) / (m + 1)
	t2 := t * t
	ln := 2 * t * (1 + t2*(1.0/3+t2*(1.0/5+t2*(1.0/7))))
	return dbPerNeper * (ln + float64(e)*math.Ln2)
}

// dbPerNeper converts a natural logarithm of power to decibels.
const dbPerNeper = 10 / math.Ln10
