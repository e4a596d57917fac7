package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// Each -sender kind replays what it says it models: every packet of the
// silk-wb fixtures is SILK, the hybrid ones carry hybrid packets.
func TestSenderFixtures(t *testing.T) {
	for _, tc := range []struct{ kind, want string }{
		{"silk-wb", "SILK 100%"},
		{"hybrid", "hybrid"},
	} {
		rep, cust, ok := senderFiles(tc.kind)
		if !ok {
			t.Fatalf("no files for %s", tc.kind)
		}
		for _, f := range []string{rep, cust} {
			pkts, err := readPackets(filepath.Join("..", "..", f))
			if err != nil {
				t.Fatal(err)
			}
			if got := modes(pkts); len(pkts) < 1000 || !strings.Contains(got, tc.want) {
				t.Errorf("%s: %d packets, %s; want %s", f, len(pkts), got, tc.want)
			}
		}
	}
	if _, _, ok := senderFiles("celt"); ok {
		t.Error("an unknown sender kind has files")
	}
}

func TestModes(t *testing.T) {
	for _, tc := range []struct {
		toc  []byte
		want string
	}{
		{[]byte{9 << 3}, "SILK 100%"},
		{[]byte{13 << 3, 31 << 3}, "hybrid 50%, CELT 50%"},
		{[]byte{0 << 3, 0 << 3, 0 << 3, 15 << 3}, "SILK 75%, hybrid 25%"},
	} {
		var pkts [][]byte
		for _, b := range tc.toc {
			pkts = append(pkts, []byte{b, 0})
		}
		if got := modes(pkts); got != tc.want {
			t.Errorf("TOCs %v: %q, want %q", tc.toc, got, tc.want)
		}
	}
}
