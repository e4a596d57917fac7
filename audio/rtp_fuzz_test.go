package audio

import (
	"testing"
)

// FuzzPacketDecoders feeds arbitrary RTP payloads to every decoder the
// live path uses: none may panic, and none may claim more samples than its
// buffers hold.
func FuzzPacketDecoders(f *testing.F) {
	f.Add([]byte{0xfc, 0xff, 0xfe})             // Opus CELT FB 20 ms, tiny
	f.Add([]byte{0x78, 0x01, 0x02, 0x03, 0x04}) // Opus SILK
	f.Add([]byte{0x6b, 0x80, 0x00, 0x11, 0x22}) // Opus hybrid
	f.Add([]byte{0x03, 0x83, 0x01, 0x01, 0x01}) // code 3, padding
	f.Add(make([]byte, 160))                    // G.711 20 ms
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, payload []byte) {
		for _, mk := range []func() (PacketDecoder, error){
			func() (PacketDecoder, error) { return NewOpusDecoder(16000, 1) },
			func() (PacketDecoder, error) { return NewOpusDecoder(16000, 2) },
			func() (PacketDecoder, error) { return NewG711Decoder(false, 16000) },
			func() (PacketDecoder, error) { return NewG711Decoder(true, 16000) },
			func() (PacketDecoder, error) { return NewG722Decoder(16000) },
		} {
			d, err := mk()
			if err != nil {
				t.Fatal(err)
			}
			dst := make([][]float32, d.Channels())
			for c := range dst {
				dst[c] = make([]float32, MaxPacketSamples)
			}
			// Twice: decoders keep state between packets.
			for range 2 {
				n, err := d.Decode(payload, dst)
				if err == nil && (n < 0 || n > MaxPacketSamples) {
					t.Fatalf("%T decoded %d samples", d, n)
				}
			}
		}
	})
}
