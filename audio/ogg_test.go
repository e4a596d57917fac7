package audio

import (
	"bytes"
	"strings"
	"testing"
)

// oggPage builds one Ogg page holding the given lacing values and data.
func oggPage(lacing []byte, data []byte) []byte {
	h := make([]byte, 27)
	copy(h, "OggS")
	h[26] = byte(len(lacing))
	return append(append(h, lacing...), data...)
}

func TestReadOggPackets(t *testing.T) {
	big := bytes.Repeat([]byte{7}, 300) // spans lacing 255+45
	var f []byte
	f = append(f, oggPage([]byte{4}, []byte("Head"))...)
	f = append(f, oggPage([]byte{4, 255}, append([]byte("Tags"), big[:255]...))...)
	// The 300-byte packet continues on the next page.
	f = append(f, oggPage([]byte{45, 2}, append(big[255:], 1, 2))...)
	pkts, err := ReadOggPackets(bytes.NewReader(f), 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkts) != 2 || !bytes.Equal(pkts[0], big) || !bytes.Equal(pkts[1], []byte{1, 2}) {
		t.Errorf("got %d packets: %v", len(pkts), pkts)
	}
	for _, bad := range []struct{ name, data string }{
		{"not ogg", "RIFF0000WAVEfmt "},
		{"truncated", string(f[:len(f)-1])},
		{"empty", ""},
		{"headers only", string(f[:27+1+4])},
	} {
		if _, err := ReadOggPackets(strings.NewReader(bad.data), 2); err == nil {
			t.Errorf("%s: no error", bad.name)
		}
	}
}
