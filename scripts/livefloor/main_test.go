package main

import (
	"path/filepath"
	"testing"

	"github.com/pion/srtp/v3"
)

// The receiver analyzes every packet the sender seals (track.next), of
// both kinds of sender: a floor that dropped packets (a wrong key, a header it cannot
// parse, a decoder error) would measure less work than the service does.
func TestReceiverAnalyzesWhatIsSent(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for kind, files := range senders {
		t.Run(kind, func(t *testing.T) {
			var tracks [2][][]byte
			for r, f := range files {
				if tracks[r], err = loadOgg(filepath.Join(root, f)); err != nil {
					t.Fatal(err)
				}
			}
			enc, err := srtp.CreateContext(srtpKey, srtpSalt, srtpProfile)
			if err != nil {
				t.Fatal(err)
			}
			c, err := newCall()
			if err != nil {
				t.Fatal(err)
			}
			before := analyzed.Load()
			const packets = 100 // per track: 2 s of call
			tr := [2]track{{ssrc: 0}, {ssrc: 1}}
			for k := range packets {
				for r, pk := range tracks {
					b, err := tr[r].next(enc, pk[k%len(pk)], nil)
					if err != nil {
						t.Fatal(err)
					}
					if err := c.packet(b); err != nil {
						t.Fatalf("packet %d of track %d: %v", k, r, err)
					}
				}
			}
			if got := analyzed.Load() - before; got != 2*packets {
				t.Errorf("analyzed %d packets, sent %d", got, 2*packets)
			}
			if got, want := c.an.Now(), 2.0; got < want-0.02 {
				t.Errorf("detector has heard %.2f s of both sides, want %.2f", got, want)
			}
		})
	}
}
