package encoder

import (
	"math"
	"math/bits"
)

// The LPC subframe: autocorrelation, Levinson-Durbin, an estimate of the
// best order and the quantised predictor tried in full around it.

// lpc tries linear predictors of the orders the Levinson-Durbin errors
// favour, keeping any that beats the current plan.
func (e *Channel) lpc(x []int32, window []float64, hdr int) {
	n := len(x)
	xw := e.xw[:n]
	for i, v := range x {
		xw[i] = float64(v) * window[i]
	}
	// Four running sums per lag break the chain of dependent additions,
	// which makes this loop several times faster.
	var autoc [flacMaxLPCOrder + 1]float64
	for lag := range autoc {
		a, b := xw[lag:], xw[:n-lag]
		b = b[:len(a)]
		var s0, s1, s2, s3 float64
		i := 0
		for ; i+4 <= len(a); i += 4 {
			s0 += a[i] * b[i]
			s1 += a[i+1] * b[i+1]
			s2 += a[i+2] * b[i+2]
			s3 += a[i+3] * b[i+3]
		}
		for ; i < len(a); i++ {
			s0 += a[i] * b[i]
		}
		autoc[lag] = (s0 + s1) + (s2 + s3)
	}
	if autoc[0] <= 0 {
		return
	}

	// Levinson-Durbin: lp[o-1] predicts x[i] from x[i-1..i-o];
	// errs[o-1] is its prediction error energy.
	var lp [flacMaxLPCOrder][flacMaxLPCOrder]float64
	var errs [flacMaxLPCOrder]float64
	var a [flacMaxLPCOrder]float64
	maxOrder := 0
	errE := autoc[0]
	for i := range flacMaxLPCOrder {
		r := autoc[i+1]
		for j := range i {
			r -= a[j] * autoc[i-j]
		}
		k := r / errE
		if math.IsNaN(k) || math.IsInf(k, 0) || k <= -1 || k >= 1 {
			break
		}
		var na [flacMaxLPCOrder]float64
		for j := range i {
			na[j] = a[j] - k*a[i-1-j]
		}
		na[i] = k
		a = na
		errE *= 1 - k*k
		lp[i] = a
		errs[i] = errE
		maxOrder = i + 1
		if errE <= 0 {
			break
		}
	}
	if maxOrder == 0 {
		return
	}

	// Estimate each order's size from its error (libFLAC's model: a
	// Laplacian residual of that energy) and encode the best few in full.
	best, bestBits := 0, math.Inf(1)
	for o := 1; o <= maxOrder; o++ {
		bps := 0.0
		if errs[o-1] > 0 {
			bps = max(0.5*math.Log2(0.5*errs[o-1]/float64(n)), 0)
		}
		est := bps*float64(n-o) + float64(o)*float64(e.plan.bps+lpcPrecision(e.plan.bps, o))
		if est < bestBits {
			best, bestBits = o, est
		}
	}
	for o := max(best-flacLPCSearch, 1); o <= min(best+flacLPCSearch, maxOrder); o++ {
		e.tryLPC(x, lp[o-1][:o], hdr)
	}
}

// tryLPC quantises one predictor, computes its residual and keeps the plan
// if it is the cheapest so far.
func (e *Channel) tryLPC(x []int32, lp []float64, hdr int) {
	order, n := len(lp), len(x)
	t := e.try
	*t = Plan{kind: sfLPC, bps: e.plan.bps, wasted: e.plan.wasted, order: order, x: x}
	t.precision = lpcPrecision(t.bps, order)
	shift, ok := quantizeLPC(lp, int(t.precision), t.coefs[:order])
	if !ok {
		return
	}
	t.shift = shift
	res := e.tmp[:n-order]
	if !lpcResidual(x, t.coefs[:order], shift, res, e.acc) {
		return
	}
	t.res = res
	t.cost = hdr + order*int(t.bps) + 4 + 5 + order*int(t.precision) + e.rice(t, n)
	e.keep()
}

// lpcPrecision is the coefficient precision for an LPC of the given order
// on bps-bit samples: as much as the format allows while every prediction
// still fits a 32-bit sum (libFLAC's rule), so that decoders taking their
// fast 32-bit path stay exact. For 16-bit speech at order 12 that is 13
// bits, 12 for a side channel.
func lpcPrecision(bps uint, order int) uint {
	return uint(min(flacMaxLPCPrecision, 32-int(bps)-(bits.Len(uint(order))-1)))
}

// quantizeLPC turns coefficients into precision-bit integers and a right
// shift, carrying each rounding error into the next coefficient so the
// quantised filter stays close to the real one (as libFLAC does).
func quantizeLPC(lp []float64, precision int, q []int32) (shift int, ok bool) {
	qmax := int32(1)<<(precision-1) - 1
	qmin := -qmax - 1
	var cmax float64
	for _, c := range lp {
		cmax = max(cmax, math.Abs(c))
	}
	if !(cmax > 0) || math.IsInf(cmax, 0) {
		return 0, false
	}
	_, exp := math.Frexp(cmax) // cmax < 2^exp
	shift = precision - 1 - exp
	if shift < 0 {
		// A coefficient too large for the precision: not a useful filter.
		return 0, false
	}
	shift = min(shift, flacMaxShift)
	scale := float64(int64(1) << shift)
	var carry float64
	for i, c := range lp {
		carry += c * scale
		v := math.Round(carry)
		v = min(max(v, float64(qmin)), float64(qmax))
		q[i] = int32(v)
		carry -= v
	}
	return shift, true
}

// lpcResidual computes x's residual under the quantised predictor, one
// coefficient at a time over the whole block (a tight loop the compiler
// keeps free of bounds checks, twice as fast as the per-sample dot
// product), with acc as scratch. It reports false if a residual would not
// fit the 32-bit range RFC 9639 requires (impossible for 17-bit input with
// 12-bit coefficients, checked anyway so that a change of constants cannot
// write an invalid stream).
func lpcResidual(x []int32, q []int32, shift int, res []int32, acc []int64) bool {
	order := len(q)
	acc = acc[:len(res)]
	clear(acc)
	for j, c := range q {
		c := int64(c)
		xs := x[order-1-j:]
		xs = xs[:len(acc)]
		for i, v := range xs {
			acc[i] += c * int64(v)
		}
	}
	xs := x[order:]
	xs = xs[:len(res)]
	for i, v := range xs {
		r := int64(v) - acc[i]>>shift
		if r <= math.MinInt32 || r > math.MaxInt32 {
			return false
		}
		res[i] = int32(r)
	}
	return true
}
