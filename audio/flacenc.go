package audio

import (
	"math"
	"math/bits"
)

// The FLAC encoder's analysis: for each channel of a block it tries a
// constant, verbatim, fixed-polynomial and LPC subframe and keeps the
// smallest, then picks the stereo decorrelation (left/right, left/side,
// side/right or mid/side) whose two subframes are smallest together. It is
// the usual libFLAC-style search, sized for speech in the streamable subset
// (RFC 9639 section 7), which every decoder, Chromium's included, plays.

const (
	// flacMaxLPCOrder is the subset's limit for rates up to 48 kHz, and
	// about where speech at 16 kHz stops gaining from a longer predictor.
	flacMaxLPCOrder = 12
	// flacMaxLPCPrecision is the most bits a quantised LPC coefficient may
	// have (the 4-bit field's largest allowed value). lpcPrecision lowers
	// it so that predictions fit a 32-bit sum.
	flacMaxLPCPrecision = 15
	// flacMaxShift is the largest right shift the 5-bit signed field holds
	// (negative shifts are forbidden).
	flacMaxShift = 15
	// flacMaxPartitionOrder is the subset's limit on Rice partitions.
	flacMaxPartitionOrder = 8
	// flacMaxRice4 is the largest Rice parameter the 4-bit coding method can
	// signal (15 is its escape code); flacMaxRice5 the same for the 5-bit
	// method (31 is its escape).
	flacMaxRice4 = 14
	flacMaxRice5 = 30
	// flacEscape marks an escaped (raw binary) partition in a plan.
	flacEscape = 0xFF
	// flacMinLPCBlock is the smallest block worth an LPC analysis: below it
	// the coefficients cost more than they save (only the last block of a
	// stream is ever this short).
	flacMinLPCBlock = 64
	// flacLPCSearch is how many orders each side of the estimated best one
	// are encoded in full. The estimate from the Levinson error is good but
	// not exact: on the eval calls trying one neighbour each side saves
	// 0.1% for 40% more time, two save 0.04% more for another 30%.
	flacLPCSearch = 1
)

// Subframe kinds, as planned.
const (
	sfConstant = iota
	sfVerbatim
	sfFixed
	sfLPC
)

// subframePlan is one channel's chosen coding for the current block.
type subframePlan struct {
	kind   int
	bps    uint // sample bits after removing wasted bits (side: 17 - wasted)
	wasted uint
	order  int
	x      []int32 // samples after the wasted-bits shift (warm-up, verbatim, constant)
	res    []int32 // residual, len(x)-order samples

	// LPC only.
	coefs     [flacMaxLPCOrder]int32
	precision uint
	shift     int

	// Residual coding.
	partOrder uint
	rice5     bool
	params    [1 << flacMaxPartitionOrder]uint8 // Rice parameter, or flacEscape
	widths    [1 << flacMaxPartitionOrder]uint8 // escaped partitions' raw bit width

	cost int // bits, estimated closely enough to choose between plans
}

// chanEncoder holds one channel's scratch space, reused for every block so
// that encoding allocates nothing after the first frame.
type chanEncoder struct {
	x   []int32 // shifted samples
	res []int32 // residual of the best plan so far
	tmp []int32 // residual of the plan being tried
	xw  []float64
	acc []int64 // LPC prediction sums
	// plan is the best coding so far, try the one being tried; keep swaps
	// them, so that a plan is never copied.
	plan, try *subframePlan
	plans     [2]subframePlan
	sums      [1 << flacMaxPartitionOrder]uint64
	ors       [1 << flacMaxPartitionOrder]uint32
}

func newChanEncoder(blockSize int) *chanEncoder {
	e := &chanEncoder{
		x:   make([]int32, blockSize),
		res: make([]int32, blockSize),
		tmp: make([]int32, blockSize),
		xw:  make([]float64, blockSize),
		acc: make([]int64, blockSize),
	}
	e.plan, e.try = &e.plans[0], &e.plans[1]
	return e
}

// tukeyWindow is the Tukey(0.5) window libFLAC uses by default: flat in
// the middle, cosine tapers over a quarter of the block at each end, so the
// block edges do not smear the autocorrelation.
func tukeyWindow(n int) []float64 {
	w := make([]float64, n)
	np := n/4 - 1 // last index of the rising taper
	for i := range w {
		switch {
		case np <= 0:
			w[i] = 1
		case i <= np:
			w[i] = 0.5 - 0.5*math.Cos(math.Pi*float64(i)/float64(np))
		case i >= n-np-1:
			w[i] = 0.5 - 0.5*math.Cos(math.Pi*float64(n-1-i)/float64(np))
		default:
			w[i] = 1
		}
	}
	return w
}

// analyze plans the subframe for samples src (bps bits each; 17 for a side
// channel) and returns its cost in bits. window is the block's window (len
// at least len(src)).
func (e *chanEncoder) analyze(src []int32, bps uint, window []float64) int {
	n := len(src)
	p := e.plan
	*p = subframePlan{bps: bps}

	// Constant: digital silence, the most common block in a call where one
	// side is muted.
	var or int32
	constant := true
	for _, v := range src {
		or |= v
		constant = constant && v == src[0]
	}
	if constant {
		p.kind, p.x = sfConstant, src[:1]
		p.cost = 8 + int(bps)
		return p.cost
	}

	// Wasted bits: trailing zeros every sample shares (8-bit or G.711
	// sources scaled to 16 bits have some).
	x := e.x[:n]
	if k := uint(bits.TrailingZeros32(uint32(or))); k > 0 && k < bps {
		for i, v := range src {
			x[i] = v >> k
		}
		p.wasted, p.bps = k, bps-k
	} else {
		copy(x, src)
	}
	p.x = x
	hdr := 8 + int(p.wasted) // type byte, plus the unary wasted-bits count

	// Verbatim is the fallback every other plan has to beat.
	p.kind = sfVerbatim
	p.cost = hdr + n*int(p.bps)

	// Fixed polynomial predictors.
	if order := bestFixedOrder(x); order <= n {
		t := e.try
		*t = subframePlan{kind: sfFixed, bps: p.bps, wasted: p.wasted, order: order, x: x}
		fixedResidual(x, order, e.tmp[:n-order])
		t.res = e.tmp[:n-order]
		t.cost = hdr + order*int(p.bps) + e.rice(t, n)
		e.keep()
	}

	if n >= flacMinLPCBlock {
		e.lpc(x, window[:n], hdr)
	}
	return e.plan.cost
}

// keep makes the trial plan the best one if it is cheaper, swapping the
// residual buffers too so that the kept residual is not overwritten.
func (e *chanEncoder) keep() {
	if e.try.cost >= e.plan.cost {
		return
	}
	e.plan, e.try = e.try, e.plan
	e.res, e.tmp = e.tmp, e.res
}

// bestFixedOrder picks the fixed predictor order (0-4) with the smallest
// sum of absolute residuals, the same quick test libFLAC uses.
func bestFixedOrder(x []int32) int {
	if len(x) <= 4 {
		return 0
	}
	var s [5]uint64
	// Differences of successive orders, carried from sample to sample.
	d1p := int64(x[3]) - int64(x[2])
	d2p := d1p - (int64(x[2]) - int64(x[1]))
	d3p := d2p - ((int64(x[2]) - int64(x[1])) - (int64(x[1]) - int64(x[0])))
	prev := int64(x[3])
	for _, v := range x[4:] {
		e0 := int64(v)
		e1 := e0 - prev
		e2 := e1 - d1p
		e3 := e2 - d2p
		e4 := e3 - d3p
		s[0] += absU(e0)
		s[1] += absU(e1)
		s[2] += absU(e2)
		s[3] += absU(e3)
		s[4] += absU(e4)
		prev, d1p, d2p, d3p = e0, e1, e2, e3
	}
	best := 0
	for o := 1; o < 5; o++ {
		if s[o] < s[best] {
			best = o
		}
	}
	return best
}

func absU(v int64) uint64 {
	if v < 0 {
		return uint64(-v)
	}
	return uint64(v)
}

// fixedResidual computes the residual of the fixed predictor of the given
// order (RFC 9639 section 9.2.5) into res (len(x)-order long). Samples of
// at most 17 bits cannot overflow int32 here: the order-4 residual is at
// most 16 times the largest sample.
func fixedResidual(x []int32, order int, res []int32) {
	switch order {
	case 0:
		copy(res, x)
	case 1:
		for i := range res {
			res[i] = x[i+1] - x[i]
		}
	case 2:
		for i := range res {
			res[i] = x[i+2] - 2*x[i+1] + x[i]
		}
	case 3:
		for i := range res {
			res[i] = x[i+3] - 3*x[i+2] + 3*x[i+1] - x[i]
		}
	case 4:
		for i := range res {
			res[i] = x[i+4] - 4*x[i+3] + 6*x[i+2] - 4*x[i+1] + x[i]
		}
	}
}

// lpc tries linear predictors of the orders the Levinson-Durbin errors
// favour, keeping any that beats the current plan.
func (e *chanEncoder) lpc(x []int32, window []float64, hdr int) {
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
func (e *chanEncoder) tryLPC(x []int32, lp []float64, hdr int) {
	order, n := len(lp), len(x)
	t := e.try
	*t = subframePlan{kind: sfLPC, bps: e.plan.bps, wasted: e.plan.wasted, order: order, x: x}
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

// rice chooses the partition order and per-partition Rice parameters (or
// escapes) for t.res in a block of n samples, fills them into t, and
// returns the residual's size in bits.
func (e *chanEncoder) rice(t *subframePlan, n int) int {
	order := t.order
	// The deepest partitioning the block allows: partitions must divide
	// the block, and the first must hold the warm-up samples.
	maxP := uint(0)
	for p := uint(1); p <= flacMaxPartitionOrder; p++ {
		if n%(1<<p) != 0 || n>>p < order || n>>p < 1 {
			break
		}
		maxP = p
	}
	// Zigzag sums and bit-ORs per partition at the deepest order; shallower
	// orders are built by merging neighbours.
	parts := 1 << maxP
	size := n >> maxP
	sums, ors := e.sums[:parts], e.ors[:parts]
	i := 0
	for p := range parts {
		end := (p + 1) * size
		var s uint64
		var o uint32
		for ; i+order < end; i++ {
			u := zigzag(t.res[i])
			s += uint64(u)
			o |= u
		}
		sums[p], ors[p] = s, o
	}

	bestCost := math.MaxInt
	var bestP uint
	var bestParams, bestWidths [1 << flacMaxPartitionOrder]uint8
	var bestRice5 bool
	for p := int(maxP); p >= 0; p-- {
		np := 1 << p
		psize := n >> p
		cost := 2 + 4 // method and order
		var params, widths [1 << flacMaxPartitionOrder]uint8
		rice5 := false
		for j := range np {
			cnt := psize
			if j == 0 {
				cnt -= order
			}
			k, c := riceParam(sums[j], cnt)
			// An escaped partition stores raw two's complement numbers:
			// cheaper for all-zero runs and for noise the parameter fits
			// badly.
			w := bits.Len32(ors[j])
			if ec := 5 + cnt*w; w <= 31 && ec < c {
				k, c = flacEscape, ec
				widths[j] = uint8(w)
			} else if k > flacMaxRice4 {
				rice5 = true
			}
			params[j] = uint8(k)
			cost += c
		}
		if rice5 {
			cost += np * 5
		} else {
			cost += np * 4
		}
		if cost < bestCost {
			bestCost, bestP, bestParams, bestWidths, bestRice5 = cost, uint(p), params, widths, rice5
		}
		if p > 0 {
			for j := range np / 2 {
				sums[j] = sums[2*j] + sums[2*j+1]
				ors[j] = ors[2*j] | ors[2*j+1]
			}
		}
	}
	t.partOrder, t.params, t.widths, t.rice5 = bestP, bestParams, bestWidths, bestRice5
	return bestCost
}

// zigzag folds a residual into the unsigned number Rice codes store.
func zigzag(r int32) uint32 { return uint32(r<<1) ^ uint32(r>>31) }

// riceParam returns the best Rice parameter for cnt folded residuals
// summing to sum, and its estimated cost in bits (the unary parts are
// estimated as sum>>k, exact up to rounding per sample).
func riceParam(sum uint64, cnt int) (int, int) {
	if cnt == 0 {
		return 0, 0
	}
	k0 := 0
	if mean := sum / uint64(cnt); mean > 0 {
		k0 = bits.Len64(mean) - 1
	}
	bestK, bestC := 0, math.MaxInt
	for k := max(k0-1, 0); k <= min(k0+1, flacMaxRice5); k++ {
		c := cnt*(k+1) + int(min(sum>>uint(k), math.MaxInt32))
		if c < bestC {
			bestK, bestC = k, c
		}
	}
	return bestK, bestC
}

// write appends the planned subframe to w.
func (p *subframePlan) write(w *bitWriter) {
	var typ uint64
	switch p.kind {
	case sfConstant:
		typ = 0
	case sfVerbatim:
		typ = 1
	case sfFixed:
		typ = 8 + uint64(p.order)
	case sfLPC:
		typ = 32 + uint64(p.order) - 1
	}
	w.bits(typ, 7) // a zero bit, then 6 type bits
	if p.wasted > 0 {
		w.bits(1, 1)
		w.zeros(p.wasted - 1)
		w.bits(1, 1)
	} else {
		w.bits(0, 1)
	}
	switch p.kind {
	case sfConstant:
		w.signed(int64(p.x[0]), p.bps)
		return
	case sfVerbatim:
		for _, v := range p.x {
			w.signed(int64(v), p.bps)
		}
		return
	}
	for _, v := range p.x[:p.order] {
		w.signed(int64(v), p.bps)
	}
	if p.kind == sfLPC {
		w.bits(uint64(p.precision)-1, 4)
		w.signed(int64(p.shift), 5)
		for _, c := range p.coefs[:p.order] {
			w.signed(int64(c), p.precision)
		}
	}
	p.writeResidual(w)
}

func (p *subframePlan) writeResidual(w *bitWriter) {
	paramBits, escape := uint(4), uint64(15)
	if p.rice5 {
		w.bits(1, 2)
		paramBits, escape = 5, 31
	} else {
		w.bits(0, 2)
	}
	w.bits(uint64(p.partOrder), 4)
	n := len(p.x)
	size := n >> p.partOrder
	i := 0
	for j := range 1 << p.partOrder {
		end := (j+1)*size - p.order
		part := p.res[i:end]
		i = end
		k := p.params[j]
		if k == flacEscape {
			w.bits(escape, paramBits)
			width := uint(p.widths[j])
			w.bits(uint64(width), 5)
			if width > 0 {
				for _, r := range part {
					w.signed(int64(r), width)
				}
			}
			continue
		}
		w.bits(uint64(k), paramBits)
		kk := uint(k)
		mask := uint32(1)<<kk - 1
		for _, r := range part {
			u := zigzag(r)
			q := uint(u >> kk)
			if q+1+kk <= 32 {
				// q zeros, the stop bit and the low bits in one write.
				w.bits(uint64(1)<<kk|uint64(u&mask), q+1+kk)
				continue
			}
			w.zeros(q)
			w.bits(1, 1)
			w.bits(uint64(u&mask), kk)
		}
	}
}
