package audio

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pion/opus"
)

// go.mod replaces github.com/pion/opus with the fork in third_party/pion-opus,
// which NewOpusDecoder tells to skip the CELT layer of hybrid packets
// (issue 14). These tests hold the fork to the unmodified decoder, which
// this module cannot import: testdata/opus/pristine.txt records what
// github.com/pion/opus v0.1.0 itself decodes from each fixture, and this
// regenerates it (after make-fixtures.sh, for instance):
//
//go:generate sh -c "cd testdata/opus/pristine && go run . -dir .."

const opusFixtureDir = "testdata/opus"

// opusReference is one line of pristine.txt.
type opusReference struct {
	file             string
	rate, channels   int
	packets, samples int
	sha256           string
	line             int
}

func readOpusReferences(t testing.TB) []opusReference {
	t.Helper()
	f, err := os.Open(filepath.Join(opusFixtureDir, "pristine.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var refs []opusReference
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		fields := strings.Fields(sc.Text())
		if len(fields) != 6 {
			t.Fatalf("pristine.txt:%d: %d fields", line, len(fields))
		}
		ref := opusReference{file: fields[0], sha256: fields[5], line: line}
		for i, p := range []*int{&ref.rate, &ref.channels, &ref.packets, &ref.samples} {
			if *p, err = strconv.Atoi(fields[1+i]); err != nil {
				t.Fatalf("pristine.txt:%d: %v", line, err)
			}
		}
		refs = append(refs, ref)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(refs) == 0 {
		t.Fatal("pristine.txt: no references")
	}
	return refs
}

func opusFixture(t testing.TB, name string) [][]byte {
	t.Helper()
	f, err := os.Open(filepath.Join(opusFixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pkts, err := ReadOggPackets(f, 2)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return pkts
}

// decodeOpusRaw decodes with the fork's own API, where skipping is off
// unless asked for, and returns the interleaved output.
func decodeOpusRaw(t testing.TB, pkts [][]byte, rate, channels int, skip bool) []float32 {
	t.Helper()
	d, err := opus.NewDecoderWithOutput(rate, channels)
	if err != nil {
		t.Fatal(err)
	}
	d.SetSkipInaudibleCELT(skip)
	buf := make([]float32, MaxPacketSamples*channels)
	var out []float32
	for i, p := range pkts {
		n, err := d.DecodeToFloat32(p, buf)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		out = append(out, buf[:n*channels]...)
	}
	return out
}

// decodeOpusLive decodes as the live path does, through NewOpusDecoder,
// and interleaves the channels back for comparison.
func decodeOpusLive(t testing.TB, pkts [][]byte, rate, channels int) []float32 {
	t.Helper()
	d, err := NewOpusDecoder(rate, channels)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([][]float32, channels)
	for c := range dst {
		dst[c] = make([]float32, MaxPacketSamples)
	}
	var out []float32
	for i, p := range pkts {
		n, err := d.Decode(p, dst)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		for j := range n {
			for c := range dst {
				out = append(out, dst[c][j])
			}
		}
	}
	return out
}

// pcmSHA256 hashes samples as the pristine reference does: float32 bits,
// little-endian.
func pcmSHA256(pcm []float32) string {
	b := make([]byte, 0, 4*len(pcm))
	for _, v := range pcm {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))
}

// snrDB is the signal-to-noise ratio of got against want, +Inf when equal.
func snrDB(want, got []float32) float64 {
	var sig, noise float64
	for i := range want {
		d := float64(want[i]) - float64(got[i])
		sig += float64(want[i]) * float64(want[i])
		noise += d * d
	}
	return 10 * math.Log10(sig/noise)
}

// opusModes counts the packets of each mode and bandwidth by TOC byte
// (RFC 6716 section 3.1).
func opusModes(pkts [][]byte) map[string]int {
	m := map[string]int{}
	for _, p := range pkts {
		config := int(p[0] >> 3)
		var mode string
		switch {
		case config < 12:
			mode = []string{"silk-nb", "silk-mb", "silk-wb"}[config/4]
		case config < 16:
			mode = []string{"hybrid-swb", "hybrid-fb"}[(config-12)/2]
		default:
			mode = []string{"celt-nb", "celt-wb", "celt-swb", "celt-fb"}[(config-16)/4]
		}
		m[mode]++
	}
	return m
}

// TestOpusFixtureModes checks that each fixture holds the modes its name
// promises, so that a re-encode by another libopus cannot quietly drop a
// mode from the comparison.
func TestOpusFixtureModes(t *testing.T) {
	want := map[string][]string{
		"silk-nb.opus":                 {"silk-nb"},
		"silk-wb.opus":                 {"silk-wb"},
		"silk-wb-60ms.opus":            {"silk-wb"},
		"hybrid-swb.opus":              {"hybrid-swb"},
		"hybrid-fb.opus":               {"hybrid-fb"},
		"hybrid-fb-10ms.opus":          {"hybrid-fb"},
		"hybrid-fb-40ms.opus":          {"hybrid-fb"},
		"hybrid-fb-stereo.opus":        {"hybrid-fb"},
		"celt-fb.opus":                 {"celt-fb"},
		"switch-hybrid-silk-celt.opus": {"hybrid-fb", "silk-wb", "celt-fb"},
		"switch-silk-celt.opus":        {"silk-wb", "celt-wb"},
	}
	files, err := filepath.Glob(filepath.Join(opusFixtureDir, "*.opus"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(want) {
		t.Errorf("%d fixtures, %d described here", len(files), len(want))
	}
	for name, modes := range want {
		got := opusModes(opusFixture(t, name))
		if len(got) != len(modes) {
			t.Errorf("%s: modes %v, want %v", name, got, modes)
		}
		for _, m := range modes {
			if got[m] == 0 {
				t.Errorf("%s: no %s packets (%v)", name, m, got)
			}
		}
	}
}

// TestOpusForkMatchesPristine decodes every fixture at every output rate,
// mono and stereo, three ways: with the fork's defaults (skipping off, the
// code path of the unmodified decoder), with skipping on, and through
// NewOpusDecoder as the live path does. All three must reproduce the
// unmodified decoder's output bit for bit.
func TestOpusForkMatchesPristine(t *testing.T) {
	for _, ref := range readOpusReferences(t) {
		t.Run(fmt.Sprintf("%s/%dHz/%dch", ref.file, ref.rate, ref.channels), func(t *testing.T) {
			pkts := opusFixture(t, ref.file)
			if len(pkts) != ref.packets {
				t.Fatalf("%d packets, pristine.txt:%d says %d", len(pkts), ref.line, ref.packets)
			}
			full := decodeOpusRaw(t, pkts, ref.rate, ref.channels, false)
			for _, tc := range []struct {
				name string
				pcm  []float32
			}{
				{"fork, skipping off", full},
				{"fork, skipping on", decodeOpusRaw(t, pkts, ref.rate, ref.channels, true)},
				{"NewOpusDecoder", decodeOpusLive(t, pkts, ref.rate, ref.channels)},
			} {
				if n := len(tc.pcm) / ref.channels; n != ref.samples {
					t.Errorf("%s: %d samples per channel, pristine %d", tc.name, n, ref.samples)
					continue
				}
				if sum := pcmSHA256(tc.pcm); sum != ref.sha256 {
					t.Errorf("%s: output differs from the unmodified decoder's (pristine.txt:%d); SNR against skipping off %.1f dB",
						tc.name, ref.line, snrDB(full, tc.pcm))
				}
			}
		})
	}
}

// TestOpusForkSNR reports, at the analysis rate, how far skipping moves the
// output of each fixture (run with -v). TestOpusForkMatchesPristine is what
// holds it to zero.
func TestOpusForkSNR(t *testing.T) {
	const analysisRate = 16000
	files, err := filepath.Glob(filepath.Join(opusFixtureDir, "*.opus"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		pkts := opusFixture(t, name)
		channels := 1
		if IsStereoOpus(pkts[0]) {
			channels = 2
		}
		full := decodeOpusRaw(t, pkts, analysisRate, channels, false)
		live := decodeOpusLive(t, pkts, analysisRate, channels)
		differ := 0
		for i := range full {
			if math.Float32bits(full[i]) != math.Float32bits(live[i]) {
				differ++
			}
		}
		t.Logf("%-30s %v: SNR %6.1f dB, %d of %d samples differ", name, opusModes(pkts), snrDB(full, live), differ, len(full))
	}
}

// BenchmarkOpusDecode measures the decode cost per packet of each mode at
// the analysis rate, with the fork's skipping off (the unmodified decoder's
// code path) and on (as NewOpusDecoder sets it). Compare the two in one run:
//
//	go test -run '^$' -bench OpusDecode -count 6 ./audio | benchstat -col /skip -
func BenchmarkOpusDecode(b *testing.B) {
	const analysisRate = 16000
	for _, name := range []string{
		"silk-nb", "silk-wb", "hybrid-swb", "hybrid-fb", "hybrid-fb-stereo", "celt-fb", "switch-hybrid-silk-celt",
	} {
		pkts := opusFixture(b, name+".opus")
		channels := 1
		if IsStereoOpus(pkts[0]) {
			channels = 2
		}
		for _, skip := range []bool{false, true} {
			b.Run(fmt.Sprintf("mode=%s/skip=%v", name, skip), func(b *testing.B) {
				d, err := opus.NewDecoderWithOutput(analysisRate, channels)
				if err != nil {
					b.Fatal(err)
				}
				d.SetSkipInaudibleCELT(skip)
				buf := make([]float32, MaxPacketSamples*channels)
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
}
