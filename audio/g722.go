package audio

import (
	"errors"
	"fmt"
)

// G.722 (ITU-T Recommendation G.722, "7 kHz audio-coding within 64
// kbit/s", 09/2012) is sub-band ADPCM: a quadrature mirror filter splits 16
// kHz audio into a lower (0-4 kHz) and a higher (4-8 kHz) band, each
// sampled at 8 kHz and coded with adaptive differential PCM: 6 bits per
// sample for the lower band and 2 for the higher in the 64 kbit/s mode
// (mode 1). One code byte carries one sample of each band and decodes to
// two output samples.
//
// This decoder is written from the Recommendation's description of the
// decoder (clause 3.6 and the block-by-block computational details of
// clause 6.2: INVQBL, INVQAL, LOGSCL, SCALEL, the higher-band INVQAH,
// LOGSCH, SCALEH, the shared adaptive predictor blocks RECONS, PARREC,
// UPPOL2, UPPOL1, UPZERO, DELAYA, FILTEP, FILTEZ, PREDIC and the receive
// QMF), in the Recommendation's integer arithmetic, with its tables. No
// other implementation's code was used; the test decodes streams that
// ffmpeg's encoder made and compares with ffmpeg's decoder (bit-exact).
// Only mode 1 (64 kbit/s, all 8 bits) is decoded: it is the only mode RTP
// carries (RFC 3551, section 4.5.2).

// g722 table values, from the Recommendation.
var (
	// g722QM6: the lower band's 6-bit inverse quantizer (INVQBL, mode 1),
	// output levels scaled by 2^15/DETL, indexed by the 6-bit code.
	g722QM6 = [64]int{
		-136, -136, -136, -136, -24808, -21904, -19008, -16704,
		-14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
		-7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576,
		-3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
		24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192,
		10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
		4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032,
		1688, 1360, 1040, 728, 432, 136, -432, -136,
	}
	// g722QM4: the 4-bit inverse quantizer (INVQAL) whose output drives the
	// lower band's adaptation, indexed by the code's top four bits.
	g722QM4 = [16]int{
		0, -20456, -12896, -8968, -6288, -4240, -2584, -1200,
		20456, 12896, 8968, 6288, 4240, 2584, 1200, 0,
	}
	// g722QM2: the higher band's 2-bit inverse quantizer (INVQAH).
	g722QM2 = [4]int{-7408, -1616, 7408, 1616}
	// g722RIL4 maps a 4-bit code to its magnitude index for LOGSCL's
	// multiplier table g722WL.
	g722RIL4 = [16]int{0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0}
	// g722WL: LOGSCL's log scale factor multipliers.
	g722WL = [8]int{-60, -30, 58, 172, 334, 538, 1198, 3042}
	// g722RIH2 and g722WH: the same for the higher band (LOGSCH).
	g722RIH2 = [4]int{2, 1, 2, 1}
	g722WH   = [3]int{0, -214, 798}
	// g722ILB: SCALEL/SCALEH's table of 2^(i/32) scaled by 2048, the
	// mantissa of the log-to-linear scale factor conversion.
	g722ILB = [32]int{
		2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383,
		2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
		2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371,
		3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
	}
	// g722QMF: the 24-tap QMF's coefficients, half of them (it is
	// symmetric): even taps with the first half, odd taps with the second
	// half reversed.
	g722QMF = [12]int{3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11}
)

// Scale factor limits of LOGSCL and LOGSCH (clause 6.2.1.3 and 6.2.2.3).
const (
	g722MaxNBL = 18432
	g722MaxNBH = 22528
)

// g722Band is one sub-band's ADPCM state: the adaptive predictor (two
// poles, six zeros) and the quantizer scale factor.
type g722Band struct {
	s, sp, sz int    // predictor output, its pole part, its zero part
	r         [3]int // reconstructed signal, now and two back
	p         [3]int // partially reconstructed signal (zero part + difference)
	a, ap     [3]int // pole coefficients (1 and 2), and their update
	d         [7]int // quantized differences, now and six back
	b, bp     [7]int // zero coefficients (1 to 6), and their update
	nb        int    // log scale factor
	det       int    // linear scale factor
}

// sat16 is the Recommendation's 16-bit saturation.
func sat16(x int) int {
	return max(-32768, min(32767, x))
}

// sgn is a sample's sign as the Recommendation tests it: 0 or -1.
func sgn(x int) int { return x >> 15 }

// adapt runs the predictor blocks of a band for quantized difference d:
// RECONS, PARREC, UPPOL2, UPPOL1, UPZERO, DELAYA, FILTEP, FILTEZ, PREDIC.
func (b *g722Band) adapt(d int) {
	// RECONS and PARREC.
	b.d[0] = d
	b.r[0] = sat16(b.s + d)
	b.p[0] = sat16(b.sz + d)

	// UPPOL2: the second pole coefficient.
	s0, s1, s2 := sgn(b.p[0]), sgn(b.p[1]), sgn(b.p[2])
	wd1 := sat16(b.a[1] << 2)
	wd2 := wd1
	if s0 == s1 {
		wd2 = -wd1
	}
	wd2 = min(wd2, 32767)
	wd3 := wd2 >> 7
	if s0 == s2 {
		wd3 += 128
	} else {
		wd3 -= 128
	}
	wd3 += (b.a[2] * 32512) >> 15
	b.ap[2] = max(-12288, min(12288, wd3))

	// UPPOL1: the first, held inside the stability triangle.
	wd1 = -192
	if s0 == s1 {
		wd1 = 192
	}
	b.ap[1] = sat16(wd1 + (b.a[1]*32640)>>15)
	lim := sat16(15360 - b.ap[2])
	b.ap[1] = max(-lim, min(lim, b.ap[1]))

	// UPZERO: the six zero coefficients, with leakage.
	step := 128
	if d == 0 {
		step = 0
	}
	sd := sgn(d)
	for i := 1; i < 7; i++ {
		w := -step
		if sgn(b.d[i]) == sd {
			w = step
		}
		b.bp[i] = sat16(w + (b.b[i]*32640)>>15)
	}

	// DELAYA.
	for i := 6; i > 0; i-- {
		b.d[i] = b.d[i-1]
		b.b[i] = b.bp[i]
	}
	for i := 2; i > 0; i-- {
		b.r[i] = b.r[i-1]
		b.p[i] = b.p[i-1]
		b.a[i] = b.ap[i]
	}

	// FILTEP, FILTEZ and PREDIC: the next prediction.
	wd1 = (b.a[1] * sat16(b.r[1]+b.r[1])) >> 15
	wd2 = (b.a[2] * sat16(b.r[2]+b.r[2])) >> 15
	b.sp = sat16(wd1 + wd2)
	sz := 0
	for i := 6; i > 0; i-- {
		sz += (b.b[i] * sat16(b.d[i]+b.d[i])) >> 15
	}
	b.sz = sat16(sz)
	b.s = sat16(b.sp + b.sz)
}

// scale is SCALEL/SCALEH: the linear scale factor for log scale factor nb;
// shift is 8 for the lower band and 10 for the higher.
func g722Scale(nb, shift int) int {
	m := g722ILB[(nb>>6)&31]
	e := shift - nb>>11
	if e < 0 {
		return (m << -e) << 2
	}
	return (m >> e) << 2
}

// G722 decodes a G.722 stream at 64 kbit/s to 16 kHz 16-bit PCM. Its state
// carries from one call of Decode to the next, as the stream's does from
// packet to packet.
type G722 struct {
	band [2]g722Band
	x    [24]int // receive QMF delay line
}

// NewG722 returns a decoder in the Recommendation's reset state.
func NewG722() *G722 {
	g := &G722{}
	g.Reset()
	return g
}

// Reset puts the decoder in its initial state (clause 6.2.1.4: the scale
// factors start at their minimum).
func (g *G722) Reset() {
	*g = G722{}
	g.band[0].det = 32
	g.band[1].det = 8
}

// Decode decodes codes (one byte per 8 kHz sample pair) into dst, two
// samples per byte, scaled so that 32768 is full scale; it decodes as many
// codes as dst has room for and returns the samples written.
func (g *G722) Decode(dst []int16, codes []byte) int {
	n := min(len(codes), len(dst)/2)
	lo, hi := &g.band[0], &g.band[1]
	for i, code := range codes[:n] {
		il := int(code & 0x3F)
		ih := int(code >> 6)

		// Lower band: INVQBL for the output, INVQAL for the adaptation.
		rl := lo.s + (lo.det*g722QM6[il])>>15
		rl = max(-16384, min(16383, rl))
		il4 := il >> 2
		dl := (lo.det * g722QM4[il4]) >> 15
		// LOGSCL and SCALEL.
		nb := (lo.nb*127)>>7 + g722WL[g722RIL4[il4]]
		lo.nb = max(0, min(g722MaxNBL, nb))
		lo.det = g722Scale(lo.nb, 8)
		lo.adapt(dl)

		// Higher band: INVQAH, LOGSCH, SCALEH.
		dh := (hi.det * g722QM2[ih]) >> 15
		rh := max(-16384, min(16383, hi.s+dh))
		nb = (hi.nb*127)>>7 + g722WH[g722RIH2[ih]]
		hi.nb = max(0, min(g722MaxNBH, nb))
		hi.det = g722Scale(hi.nb, 10)
		hi.adapt(dh)

		// Receive QMF: the sum and difference of the bands, interpolated
		// to two samples at 16 kHz.
		copy(g.x[:], g.x[2:])
		g.x[22] = rl + rh
		g.x[23] = rl - rh
		var x1, x2 int
		for j := range 12 {
			x2 += g.x[2*j] * g722QMF[j]
			x1 += g.x[2*j+1] * g722QMF[11-j]
		}
		// The QMF's gain is 2^12, and the bands are 15-bit: a shift of
		// 11 gives 16-bit output.
		dst[2*i] = int16(sat16(x1 >> 11))
		dst[2*i+1] = int16(sat16(x2 >> 11))
	}
	return 2 * n
}

// g722ClockRate is G.722's RTP clock rate: 8000, although it samples at
// 16 kHz, for an error in RFC 1890 that RFC 3551 (section 4.5.2) keeps for
// compatibility. Timestamps advance by one per code byte.
const g722ClockRate = 8000

// g722Rate is the rate G.722 decodes to.
const g722Rate = 16000

// maxG722Payload: 120 ms of codes, one byte per 8 kHz tick.
const maxG722Payload = g722ClockRate * 120 / 1000

// g722Decoder is the PacketDecoder of RTP payload type 9.
type g722Decoder struct {
	g   *G722
	pcm []int16
}

// NewG722Decoder returns a decoder of RTP G.722 payloads (payload type 9)
// to 16 kHz mono, the only rate it decodes to.
func NewG722Decoder(rate int) (PacketDecoder, error) {
	if rate != g722Rate {
		return nil, fmt.Errorf("g722 decoder: output rate %d, want %d", rate, g722Rate)
	}
	return &g722Decoder{g: NewG722(), pcm: make([]int16, 2*maxG722Payload)}, nil
}

func (d *g722Decoder) Rate() int      { return g722Rate }
func (d *g722Decoder) Channels() int  { return 1 }
func (d *g722Decoder) ClockRate() int { return g722ClockRate }

func (d *g722Decoder) Decode(payload []byte, dst [][]float32) (int, error) {
	if len(payload) == 0 {
		return 0, errors.New("decode g722: empty payload")
	}
	if len(payload) > maxG722Payload {
		return 0, fmt.Errorf("decode g722: %d-byte payload is longer than 120 ms", len(payload))
	}
	n := d.g.Decode(d.pcm, payload)
	n = min(n, len(dst[0]))
	out := dst[0][:n]
	for i := range out {
		out[i] = float32(d.pcm[i]) * scale16
	}
	return n, nil
}
