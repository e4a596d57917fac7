package audio

// G.711 expansion tables, built once from the ITU-T G.191 reference
// algorithm (ulaw_expand / alaw_expand) rather than typed in, so the code can
// be checked against the standard line by line. Values are the 16-bit linear
// reference outputs scaled by 1/32768, matching the PCM16 scale.
var (
	muLawTable = buildMuLawTable()
	aLawTable  = buildALawTable()
)

// muLawLinear is G.191 ulaw_expand for one code: 14-bit magnitude with the
// bias of 33 removed, left-justified to 16 bits.
func muLawLinear(code byte) int {
	sign := 1
	if code < 0x80 {
		sign = -1
	}
	m := int(^code)
	exponent := (m >> 4) & 0x07
	segment := exponent + 1
	mantissa := m & 0x0F
	step := 4 << segment
	return sign * ((0x80 << exponent) + step*mantissa + step/2 - 4*33)
}

// aLawLinear is G.191 alaw_expand for one code: even bits are toggled on the
// wire (0x55), the top bit is the sign (1 = positive).
func aLawLinear(code byte) int {
	ix := int(code^0x55) & 0x7F
	exponent := ix >> 4
	mantissa := ix & 0x0F
	if exponent > 0 {
		mantissa += 16
	}
	mantissa = (mantissa << 4) + 0x08
	if exponent > 1 {
		mantissa <<= exponent - 1
	}
	if code > 127 {
		return mantissa
	}
	return -mantissa
}

func buildMuLawTable() *[256]float32 {
	var t [256]float32
	for i := range t {
		t[i] = float32(muLawLinear(byte(i))) / 32768
	}
	return &t
}

func buildALawTable() *[256]float32 {
	var t [256]float32
	for i := range t {
		t[i] = float32(aLawLinear(byte(i))) / 32768
	}
	return &t
}

// DecodeMuLaw expands G.711 mu-law codes into dst; len(dst) should be at
// least len(src). Like copy, it converts only min(len(dst), len(src)) codes
// instead of panicking on a short dst. It is exported for RTP PCMU payloads,
// which carry the same codes without a container.
func DecodeMuLaw(dst []float32, src []byte) {
	if len(dst) < len(src) {
		src = src[:len(dst)]
	}
	decodeG711(dst, src, muLawTable)
}

// DecodeALaw expands G.711 A-law codes into dst (RTP PCMA); like
// DecodeMuLaw it converts min(len(dst), len(src)) codes.
func DecodeALaw(dst []float32, src []byte) {
	if len(dst) < len(src) {
		src = src[:len(dst)]
	}
	decodeG711(dst, src, aLawTable)
}
