package audio

import (
	"testing"
)

// BenchmarkSilkWBLive decodes the SILK-wideband fixtures to 16 kHz mono
// exactly as the live path does (NewOpusDecoder, then Decode per RTP
// payload), the case issue 14 profiled at 175 calls. One op is one packet,
// so ns/op and allocs/op are per 20 ms packet (per 60 ms packet for
// silk-wb-60ms). Compare builds by running their test binaries in turn:
//
//	go test -c -o new.test ./audio
//	(cd audio && ../new.test -test.run '^$' -test.bench SilkWBLive -test.benchmem -test.count 10)
func BenchmarkSilkWBLive(b *testing.B) {
	const analysisRate = 16000
	for _, name := range []string{"silk-wb", "silk-wb-60ms"} {
		pkts := opusFixture(b, name+".opus")
		b.Run(name, func(b *testing.B) {
			d, err := NewOpusDecoder(analysisRate, 1)
			if err != nil {
				b.Fatal(err)
			}
			dst := [][]float32{make([]float32, MaxPacketSamples)}
			// Warm up: the first packets size the decoder's buffers.
			for _, p := range pkts {
				if _, err := d.Decode(p, dst); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := d.Decode(pkts[i], dst); err != nil {
					b.Fatal(err)
				}
				if i++; i == len(pkts) {
					i = 0
				}
			}
		})
	}
}
