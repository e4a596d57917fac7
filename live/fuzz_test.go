package live

import (
	"testing"
	"time"

	"github.com/pion/rtp"

	"talkratio/call"
	"talkratio/tally"
)

// FuzzRTPPath sends arbitrary RTP packets (length-prefixed in the input)
// down the live path: unmarshal, loss accounting, timestamp unwrapping,
// Opus or G.711 decoding, placement on the call clock, analysis and a
// snapshot. Nothing may panic or stall, whatever the sequence numbers,
// timestamps and payloads.
func FuzzRTPPath(f *testing.F) {
	pkt := func(seq uint16, ts uint32, payload ...byte) []byte {
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq, Timestamp: ts}, Payload: payload}).Marshal()
		return append([]byte{byte(len(b))}, b...)
	}
	join := func(ps ...[]byte) []byte {
		var out []byte
		for _, p := range ps {
			out = append(out, p...)
		}
		return out
	}
	f.Add(byte(0), join(pkt(1, 0, 0xfc, 0xff, 0xfe), pkt(2, 960, 0xfc, 0xff, 0xfe), pkt(4, 2880, 0x78, 1, 2, 3)))
	f.Add(byte(1), join(pkt(65535, 4294967000, make([]byte, 160)...), pkt(0, 4294967160, make([]byte, 160)...)))
	f.Add(byte(2), join(pkt(7, 100), pkt(6, 1<<31, 1, 2, 3)))
	reg := testRegistry(nil)
	f.Fuzz(func(t *testing.T, codec byte, stream []byte) {
		mime := []string{"audio/opus", "audio/PCMU", "audio/PCMA"}[int(codec)%3]
		c, err := newCall(&reg.cfg, reg, call.Record{ID: "fuzz"})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := c.NewTrack(TrackSpec{Codec: mime, Roles: []tally.Role{tally.Rep}})
		if err != nil {
			t.Fatal(err)
		}
		at := time.Unix(1000, 0)
		for len(stream) > 0 {
			n := int(stream[0])
			stream = stream[1:]
			if n > len(stream) {
				n = len(stream)
			}
			var p rtp.Packet
			if p.Unmarshal(stream[:n]) == nil {
				// The packet is placed and analyzed on this goroutine,
				// as on a track's read loop; the call's own goroutine
				// (ticks, the end) is not running.
				tr.Packet(p.SequenceNumber, p.Timestamp, p.Payload, at)
			}
			stream = stream[n:]
			at = at.Add(20 * time.Millisecond)
		}
		_ = c.snapshot(c.an.Live(call.TimelineWindowS), c.clockAt(at.Add(time.Second)))
		c.analyze(max(c.tl.written[0], c.tl.written[1]))
		if now := c.an.Now(); now > at.Sub(time.Unix(1000, 0)).Seconds()+maxLead.Seconds()+1 {
			t.Errorf("%.1f s of call from %v of packets: media ran ahead of real time", now, at.Sub(time.Unix(1000, 0)))
		}
	})
}
