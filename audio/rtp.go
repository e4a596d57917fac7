package audio

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pion/opus"
)

// PacketDecoder turns RTP payloads of one stream into PCM at a fixed rate.
// Payloads come without any container: one Opus packet (RFC 7587), or
// G.711 bytes (RFC 3551), per RTP packet.
type PacketDecoder interface {
	// Decode decodes one payload into dst, one slice per channel (len(dst)
	// == Channels(), each at least MaxPacketSamples long) and returns the
	// samples per channel.
	Decode(payload []byte, dst [][]float32) (int, error)
	// Rate is the output sample rate in Hz.
	Rate() int
	// Channels is the number of output channels.
	Channels() int
	// ClockRate is the RTP clock rate of the codec, for placing packets in
	// time.
	ClockRate() int
}

// MaxPacketSamples bounds the samples per channel one payload can decode
// to at MaxSampleRate: Opus packs at most 120 ms into a packet.
const MaxPacketSamples = MaxSampleRate * 120 / 1000

// opusClockRate is fixed by RFC 7587 whatever the audio bandwidth.
const opusClockRate = 48000

// opusDecoder wraps pion's pure-Go decoder.
type opusDecoder struct {
	d        opus.Decoder
	rate     int
	channels int
	buf      []float32 // interleaved output of the decoder
}

// NewOpusDecoder returns a decoder of Opus payloads to rate Hz (8000,
// 12000, 16000, 24000 or 48000) and 1 or 2 channels. A mono stream decoded
// to 2 channels comes out the same on both.
func NewOpusDecoder(rate, channels int) (PacketDecoder, error) {
	d, err := opus.NewDecoderWithOutput(rate, channels)
	if err != nil {
		return nil, fmt.Errorf("opus decoder at %d Hz, %d channels: %w", rate, channels, err)
	}
	// At the analysis rate the CELT layer of hybrid packets (8 kHz and up)
	// is above Nyquist, yet it was most of their decode time. The output is
	// unchanged (audio/opus_fork_test.go); the option comes from the fork in
	// third_party/pion-opus and applies from 16 kHz down.
	d.SetSkipInaudibleCELT(true)
	return &opusDecoder{d: d, rate: rate, channels: channels, buf: make([]float32, channels*rate*120/1000)}, nil
}

func (o *opusDecoder) Rate() int      { return o.rate }
func (o *opusDecoder) Channels() int  { return o.channels }
func (o *opusDecoder) ClockRate() int { return opusClockRate }

func (o *opusDecoder) Decode(payload []byte, dst [][]float32) (n int, err error) {
	if len(payload) == 0 {
		return 0, errors.New("decode opus: empty payload")
	}
	// Payloads come off the network from anyone who can publish. The
	// decoder has survived fuzzing, but a crafted packet that trips a bug
	// in it must cost one packet, not the process and every call in it.
	defer func() {
		if r := recover(); r != nil {
			o.d.Init(o.rate, o.channels)
			n, err = 0, fmt.Errorf("decode opus: decoder failed on this packet: %v", r)
		}
	}()
	n, err = o.d.DecodeToFloat32(payload, o.buf)
	if err != nil {
		return 0, fmt.Errorf("decode opus: %w", err)
	}
	if o.channels == 1 {
		return copy(dst[0], o.buf[:n]), nil
	}
	n = min(n, len(dst[0]), len(dst[1]))
	for i := range n {
		dst[0][i] = o.buf[2*i]
		dst[1][i] = o.buf[2*i+1]
	}
	return n, nil
}

// IsStereoOpus reports whether an Opus packet codes two channels (the s
// bit of its TOC byte, RFC 6716 section 3.1).
func IsStereoOpus(payload []byte) bool {
	return len(payload) > 0 && payload[0]&0x04 != 0
}

// g711Decoder decodes PCMU or PCMA at 8 kHz and repeats each sample to
// reach the output rate. Repetition is exact for talkratio's analysis,
// which averages back down to 8 kHz before measuring anything.
type g711Decoder struct {
	alaw   bool
	factor int
	tmp    []float32
}

// g711Rate is the sample and clock rate of G.711.
const g711Rate = 8000

// maxG711Payload: 120 ms at 8 kHz, the most any sane sender packs.
const maxG711Payload = g711Rate * 120 / 1000

// NewG711Decoder returns a decoder of PCMA (alaw) or PCMU payloads to rate
// Hz, a multiple of 8000.
func NewG711Decoder(alaw bool, rate int) (PacketDecoder, error) {
	if rate < g711Rate || rate%g711Rate != 0 {
		return nil, fmt.Errorf("g711 decoder: output rate %d is not a multiple of 8000", rate)
	}
	return &g711Decoder{alaw: alaw, factor: rate / g711Rate, tmp: make([]float32, maxG711Payload)}, nil
}

func (g *g711Decoder) Rate() int      { return g711Rate * g.factor }
func (g *g711Decoder) Channels() int  { return 1 }
func (g *g711Decoder) ClockRate() int { return g711Rate }

func (g *g711Decoder) Decode(payload []byte, dst [][]float32) (int, error) {
	if len(payload) == 0 {
		return 0, errors.New("decode g711: empty payload")
	}
	if len(payload) > maxG711Payload {
		return 0, fmt.Errorf("decode g711: %d-byte payload is longer than 120 ms", len(payload))
	}
	tmp := g.tmp[:len(payload)]
	if g.alaw {
		DecodeALaw(tmp, payload)
	} else {
		DecodeMuLaw(tmp, payload)
	}
	out := dst[0]
	n := min(len(tmp)*g.factor, len(out))
	for i := range n {
		out[i] = tmp[i/g.factor]
	}
	return n, nil
}

// PacketCodecs are the RTP codecs NewPacketDecoder takes, by their MIME
// subtypes in lower case (what metrics label decoding errors with).
func PacketCodecs() []string { return []string{"opus", "pcmu", "pcma", "g722"} }

// NewPacketDecoder picks the decoder for an RTP codec by MIME type (as in
// SDP: "audio/opus", "audio/PCMU", "audio/PCMA", "audio/G722"), decoding
// to rate Hz (G.722: 16000 only).
func NewPacketDecoder(mimeType string, rate, channels int) (PacketDecoder, error) {
	switch strings.ToLower(mimeType) {
	case "audio/opus":
		return NewOpusDecoder(rate, channels)
	case "audio/pcmu":
		return NewG711Decoder(false, rate)
	case "audio/pcma":
		return NewG711Decoder(true, rate)
	case "audio/g722":
		return NewG722Decoder(rate)
	}
	return nil, fmt.Errorf("%w: codec %s (talkratio takes opus, PCMU, PCMA and G722)", ErrUnsupported, mimeType)
}
