package ingesttest

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"sync"

	"talkratio/audio"
)

// FixtureRate is the sample rate of the test call: the telephone rate that
// PCMU, PCMA, Twilio and AudioHook carry.
const FixtureRate = 8000

//go:embed testdata/call.opus
var callOpus []byte

var (
	fixtureOnce sync.Once
	fixture     [2][]float32
	fixtureErr  error
)

// Fixture returns the stereo test call (30.7 s of synthetic speech with
// babble noise, the rep on the left) at FixtureRate: what every adapter's
// end-to-end test publishes. The slices are shared: do not modify them.
func Fixture() (rep, cust []float32, err error) {
	fixtureOnce.Do(func() { fixture, fixtureErr = decodeFixture() })
	return fixture[0], fixture[1], fixtureErr
}

func decodeFixture() ([2][]float32, error) {
	var out [2][]float32
	pkts, err := audio.ReadOggPackets(bytes.NewReader(callOpus), 2)
	if err != nil {
		return out, fmt.Errorf("test call: %w", err)
	}
	dec, err := audio.NewOpusDecoder(FixtureRate, 2)
	if err != nil {
		return out, err
	}
	buf := [][]float32{make([]float32, audio.MaxPacketSamples), make([]float32, audio.MaxPacketSamples)}
	for _, p := range pkts {
		n, err := dec.Decode(p, buf)
		if err != nil {
			return out, fmt.Errorf("test call: %w", err)
		}
		out[0] = append(out[0], buf[0][:n]...)
		out[1] = append(out[1], buf[1][:n]...)
	}
	// Ogg Opus starts with the encoder's pre-skip (OpusHead): 312 samples
	// at 48 kHz that are not audio. Dropping them at 8 kHz keeps the WAV
	// in step with what ffmpeg decodes from the same file.
	const preSkip48k = 312
	skip := preSkip48k * FixtureRate / 48000
	out[0], out[1] = out[0][skip:], out[1][skip:]
	return out, nil
}

// WriteWAV writes the test call as a 16-bit stereo WAV at FixtureRate (the
// rep on the left), for tools outside Go (ffmpeg, SIPp).
func WriteWAV(path string) error {
	rep, cust, err := Fixture()
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w, err := audio.NewWAVWriter(f, FixtureRate, 2)
	if err != nil {
		f.Close()
		return err
	}
	if err := w.Write([][]float32{rep, cust}); err != nil {
		f.Close()
		return err
	}
	if err := w.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// EncodeMuLaw compresses PCM in [-1, 1] to G.711 mu-law, as ITU-T G.191's
// ulaw_compress does on 16-bit samples.
func EncodeMuLaw(dst []byte, src []float32) []byte {
	for _, v := range src {
		dst = append(dst, muLawCompress(toInt16(v)))
	}
	return dst
}

// EncodeALaw compresses PCM in [-1, 1] to G.711 A-law (G.191 alaw_compress).
func EncodeALaw(dst []byte, src []float32) []byte {
	for _, v := range src {
		dst = append(dst, aLawCompress(toInt16(v)))
	}
	return dst
}

func toInt16(v float32) int {
	x := int(v * 32768)
	return max(-32768, min(32767, x))
}

func muLawCompress(x int) byte {
	absno := x >> 2
	if x < 0 {
		absno = (^x) >> 2
	}
	absno = min(absno+33, 0x1FFF)
	segno := 1
	for i := absno >> 6; i != 0; i >>= 1 {
		segno++
	}
	high := 8 - segno
	low := 0x0F - (absno>>segno)&0x0F
	out := byte(high<<4 | low)
	if x >= 0 {
		out |= 0x80
	}
	return out
}

func aLawCompress(x int) byte {
	ix := x >> 4
	if x < 0 {
		ix = (^x) >> 4
	}
	if ix > 15 {
		exp := 1
		for ix > 16+15 {
			ix >>= 1
			exp++
		}
		ix -= 16
		ix += exp << 4
	}
	if x >= 0 {
		ix |= 0x80
	}
	return byte(ix) ^ 0x55
}
