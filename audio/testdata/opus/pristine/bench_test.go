package main

import (
	"path/filepath"
	"testing"

	"github.com/pion/opus"
)

// BenchmarkOpusDecode is audio.BenchmarkOpusDecode on the unmodified
// decoder, for checking that the fork with skipping off costs the same:
//
//	go test -run '^$' -bench OpusDecode -count 6 . (in this directory)
func BenchmarkOpusDecode(b *testing.B) {
	const analysisRate = 16000
	for _, name := range []string{
		"silk-nb", "silk-wb", "hybrid-swb", "hybrid-fb", "hybrid-fb-stereo", "celt-fb", "switch-hybrid-silk-celt",
	} {
		pkts, err := readOggPackets(filepath.Join("..", name+".opus"))
		if err != nil {
			b.Fatal(err)
		}
		channels := 1
		if pkts[0][0]&0x04 != 0 {
			channels = 2
		}
		b.Run("mode="+name+"/skip=pristine", func(b *testing.B) {
			d, err := opus.NewDecoderWithOutput(analysisRate, channels)
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]float32, maxPacketSamples*channels)
			for b.Loop() {
				for _, p := range pkts {
					if _, err := d.DecodeToFloat32(p, buf); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N*len(pkts)), "µs/packet")
		})
	}
}
