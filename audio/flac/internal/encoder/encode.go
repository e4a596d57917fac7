package encoder

import (
	"math"
	"math/bits"
)

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

// Plan is one channel's chosen coding for the current block.
type Plan struct {
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

// Channel holds one channel's scratch space, reused for every block so
// that encoding allocates nothing after the first frame.
type Channel struct {
	x   []int32 // shifted samples
	res []int32 // residual of the best plan so far
	tmp []int32 // residual of the plan being tried
	xw  []float64
	acc []int64 // LPC prediction sums
	// plan is the best coding so far, try the one being tried; keep swaps
	// them, so that a plan is never copied.
	plan, try *Plan
	plans     [2]Plan
	sums      [1 << flacMaxPartitionOrder]uint64
	ors       [1 << flacMaxPartitionOrder]uint32
}

func NewChannel(blockSize int) *Channel {
	e := &Channel{
		x:   make([]int32, blockSize),
		res: make([]int32, blockSize),
		tmp: make([]int32, blockSize),
		xw:  make([]float64, blockSize),
		acc: make([]int64, blockSize),
	}
	e.plan, e.try = &e.plans[0], &e.plans[1]
	return e
}

// TukeyWindow is the Tukey(0.5) window libFLAC uses by default: flat in
// the middle, cosine tapers over a quarter of the block at each end, so the
// block edges do not smear the autocorrelation.
func TukeyWindow(n int) []float64 {
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
func (e *Channel) Analyze(src []int32, bps uint, window []float64) int {
	n := len(src)
	p := e.plan
	*p = Plan{bps: bps}

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
		*t = Plan{kind: sfFixed, bps: p.bps, wasted: p.wasted, order: order, x: x}
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

// Plan is the coding Analyze chose, valid until the next Analyze.
func (e *Channel) Plan() *Plan { return e.plan }

// keep makes the trial plan the best one if it is cheaper, swapping the
// residual buffers too so that the kept residual is not overwritten.
func (e *Channel) keep() {
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
