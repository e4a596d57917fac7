// SPDX-FileCopyrightText: 2026 The Pion community <https://pion.ly>
// SPDX-License-Identifier: MIT

package rangecoding

import (
	"math/rand"
	"testing"
)

// randomICDF returns a table in DecodeSymbolWithICDF's format: the total,
// then non-decreasing cumulative frequencies ending at the total, with
// zero-frequency symbols anywhere (first ones included, as in SILK's LBRR
// flag tables).
func randomICDF(rng *rand.Rand) []uint {
	total := uint(256)
	switch rng.Intn(4) {
	case 0:
		total = uint(2 + rng.Intn(32767))
	case 1:
		total = uint(1) << (1 + rng.Intn(15))
	}
	n := 1 + rng.Intn(20)
	table := []uint{total}
	c := uint(0)
	for range n - 1 {
		if rng.Intn(4) != 0 {
			c += uint(rng.Intn(int(total-c) + 1))
		}
		table = append(table, c)
	}

	return append(table, total)
}

// TestDecodeSymbolWithICDFMatchesDivision holds the division-free symbol
// search to the division of RFC 6716 section 4.1.3.3 on random tables,
// states and data: same symbol, same state after.
func TestDecodeSymbolWithICDFMatchesDivision(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	data := make([]byte, 64)
	for i := range 3_000_000 {
		table := randomICDF(rng)
		rng.Read(data)
		var fast Decoder
		fast.SetInternalValues(data, uint(rng.Intn(8*len(data))), 0, 0)
		fast.rangeSize = minRangeSize + 1 + uint32(rng.Int63n(1<<31-minRangeSize)) //nolint:gosec
		switch rng.Intn(3) {
		case 0: // anything, as a corrupt stream can leave it
			fast.highAndCodedDifference = rng.Uint32()
		case 1: // near the top of the range, where min() clamps
			fast.highAndCodedDifference = fast.rangeSize - 1 - uint32(rng.Intn(1<<16)) //nolint:gosec
		default:
			fast.highAndCodedDifference = uint32(rng.Int63n(int64(fast.rangeSize))) //nolint:gosec
		}
		slow := fast
		got := fast.DecodeSymbolWithICDF(table)
		want := slow.decodeSymbolWithICDFDividing(table[1:], slow.rangeSize/uint32(table[0]), uint32(table[0])) //nolint:gosec
		if got != want || fast.rangeSize != slow.rangeSize || fast.highAndCodedDifference != slow.highAndCodedDifference ||
			fast.bitsRead != slow.bitsRead || fast.nbitsTotal != slow.nbitsTotal {
			t.Fatalf("case %d, table %v: symbol %d, state %+v; with the division %d, %+v", i, table, got, fast, want, slow)
		}
	}
}

// BenchmarkDecodeSymbolWithICDF decodes symbols of a 256-total table of
// 18 symbols (like SILK's pulse counts) from random data, without and with
// the division.
func BenchmarkDecodeSymbolWithICDF(b *testing.B) {
	table := []uint{256, 31, 57, 107, 160, 205, 205, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 256}
	data := make([]byte, 4096)
	rand.New(rand.NewSource(4)).Read(data)
	b.Run("compare", func(b *testing.B) {
		var r Decoder
		for b.Loop() {
			r.Init(data)
			for range 1000 {
				r.DecodeSymbolWithICDF(table)
			}
		}
	})
	b.Run("divide", func(b *testing.B) {
		var r Decoder
		for b.Loop() {
			r.Init(data)
			for range 1000 {
				r.decodeSymbolWithICDFDividing(table[1:], r.rangeSize/uint32(table[0]), uint32(table[0])) //nolint:gosec
			}
		}
	})
}

// TestDecodeSymbolWithICDF8MatchesICDF holds DecodeSymbolWithICDF8 and
// DecodeBinaryWithICDF8 to DecodeSymbolWithICDF on random 256-total tables
// (two-symbol ones among them), states and data: same symbol, same state
// after.
func TestDecodeSymbolWithICDF8MatchesICDF(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	data := make([]byte, 64)
	for i := range 3_000_000 {
		var table []uint
		switch {
		case i%4 == 1: // two symbols, the first possibly impossible
			table = []uint{256, uint(rng.Intn(256)), 256}
		case i%4 == 2: // three or four
			c0 := uint(rng.Intn(256))
			c1 := c0 + uint(rng.Intn(int(257-c0)))
			table = []uint{256, c0, c1, 256}
			if rng.Intn(2) == 0 {
				table = []uint{256, c0, c1, c1 + uint(rng.Intn(int(257-c1))), 256}
			}
		default:
			for table == nil || table[0] != 256 {
				table = randomICDF(rng)
			}
		}
		t8 := NewICDF8(table)
		rng.Read(data)
		var fast Decoder
		fast.SetInternalValues(data, uint(rng.Intn(8*len(data))), 0, 0)
		fast.rangeSize = minRangeSize + 1 + uint32(rng.Int63n(1<<31-minRangeSize)) //nolint:gosec
		switch rng.Intn(3) {
		case 0: // anything, as a corrupt stream can leave it
			fast.highAndCodedDifference = rng.Uint32()
		case 1: // near the top of the range
			fast.highAndCodedDifference = fast.rangeSize - 1 - uint32(rng.Intn(1<<16)) //nolint:gosec
		default:
			fast.highAndCodedDifference = uint32(rng.Int63n(int64(fast.rangeSize))) //nolint:gosec
		}
		slow := fast
		var got uint32
		if i%2 == 0 {
			got = fast.DecodeSymbolWithICDF8(&t8)
		} else {
			got = fast.DecodeBinaryWithICDF8(&t8)
		}
		want := slow.DecodeSymbolWithICDF(table)
		if got != want || fast.rangeSize != slow.rangeSize || fast.highAndCodedDifference != slow.highAndCodedDifference ||
			fast.bitsRead != slow.bitsRead || fast.nbitsTotal != slow.nbitsTotal {
			t.Fatalf("case %d, table %v: symbol %d, state %+v; DecodeSymbolWithICDF %d, %+v", i, table, got, fast, want, slow)
		}
	}
}

// TestDecodeSymbolWithICDF8Uninitialized: a decoder never initialized
// panics (divides by zero) as DecodeSymbolWithICDF does.
func TestDecodeSymbolWithICDF8Uninitialized(t *testing.T) {
	t8 := NewICDF8([]uint{256, 0, 100, 256})
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	var r Decoder
	r.DecodeSymbolWithICDF8(&t8)
}
