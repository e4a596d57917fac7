package audio

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// ffmpegSpeechSHA256 is the SHA-256 of ffmpeg's decode of
// testdata/g722/speech.g722 as 16-bit little-endian PCM (make-fixture.sh
// prints it).
const ffmpegSpeechSHA256 = "cdf126a7015ab4bdfc6a37ed107d92fb0aba5d054c5666cbf1d9cefa930e2b47"

func decodeG722File(t *testing.T, path string) []int16 {
	t.Helper()
	codes, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int16, 2*len(codes))
	if n := NewG722().Decode(out, codes); n != len(out) {
		t.Fatalf("decoded %d samples of %d", n, len(out))
	}
	return out
}

func pcm16Bytes(s []int16) []byte {
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

// TestG722MatchesFFmpeg: the fixture decodes to exactly what ffmpeg's
// decoder makes of it.
func TestG722MatchesFFmpeg(t *testing.T) {
	pcm := decodeG722File(t, "testdata/g722/speech.g722")
	sum := sha256.Sum256(pcm16Bytes(pcm))
	if got := hex.EncodeToString(sum[:]); got != ffmpegSpeechSHA256 {
		t.Errorf("decode differs from ffmpeg's: SHA-256 %s", got)
	}
	// A few samples of ffmpeg's decode, so a mismatch shows where.
	for _, tc := range []struct {
		i    int
		want int16
	}{
		{0, 0}, {1, 0}, {2, -1}, {100, -77}, {1001, 33}, {5000, -34},
		{12345, 384}, {24000, -3}, {40000, 244}, {47999, 242},
	} {
		if pcm[tc.i] != tc.want {
			t.Errorf("sample %d = %d, ffmpeg has %d", tc.i, pcm[tc.i], tc.want)
		}
	}
}

// TestG722AgainstFFmpegLive codes fresh signals with ffmpeg and compares
// the decodes (skipped without ffmpeg): a frequency sweep over both bands,
// loud enough to clip the predictor's limits, and silence.
func TestG722AgainstFFmpegLive(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	for _, tc := range []struct{ name, src string }{
		{"sweep", "aevalsrc='0.9*sin(2*PI*(50+1300*t)*t)':s=16000:d=3"},
		{"noise", "anoisesrc=color=white:amplitude=1:r=16000:seed=5:d=2"},
		{"silence", "anullsrc=r=16000:cl=mono:d=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			codes, ref := filepath.Join(dir, "in.g722"), filepath.Join(dir, "ref.s16")
			for _, args := range [][]string{
				{"-f", "lavfi", "-i", tc.src, "-ac", "1", "-c:a", "g722", "-f", "g722", codes},
				{"-f", "g722", "-i", codes, "-f", "s16le", "-ar", "16000", ref},
			} {
				cmd := exec.Command("ffmpeg", append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...)...)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
				}
			}
			got := decodeG722File(t, codes)
			want, err := os.ReadFile(ref)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) != 2*len(got) {
				t.Fatalf("%d samples, ffmpeg %d", len(got), len(want)/2)
			}
			var sig, noise float64
			diff := 0
			for i, v := range got {
				w := float64(int16(binary.LittleEndian.Uint16(want[2*i:])))
				d := float64(v) - w
				sig += w * w
				noise += d * d
				if d != 0 {
					diff++
				}
			}
			if diff > 0 {
				t.Errorf("%d of %d samples differ from ffmpeg's (SNR %.1f dB)", diff, len(got), 10*math.Log10(sig/noise))
			}
		})
	}
}

func TestG722PacketDecoder(t *testing.T) {
	codes, err := os.ReadFile("testdata/g722/speech.g722")
	if err != nil {
		t.Fatal(err)
	}
	whole := decodeG722File(t, "testdata/g722/speech.g722")
	d, err := NewPacketDecoder("audio/G722", 16000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if d.ClockRate() != 8000 || d.Rate() != 16000 || d.Channels() != 1 {
		t.Fatalf("clock %d, rate %d, channels %d; want 8000, 16000, 1 (RFC 3551)", d.ClockRate(), d.Rate(), d.Channels())
	}
	// 20 ms packets (160 codes) decode to the whole stream's samples: the
	// state carries across packets.
	dst := [][]float32{make([]float32, MaxPacketSamples)}
	var got []float32
	for off := 0; off < len(codes); off += 160 {
		n, err := d.Decode(codes[off:min(off+160, len(codes))], dst)
		if err != nil {
			t.Fatal(err)
		}
		if n != 2*min(160, len(codes)-off) {
			t.Fatalf("packet at %d: %d samples", off, n)
		}
		got = append(got, dst[0][:n]...)
	}
	for i, v := range whole {
		if got[i] != float32(v)/32768 {
			t.Fatalf("sample %d: %v, want %v", i, got[i], float32(v)/32768)
		}
	}
	for _, tc := range []struct {
		name    string
		payload []byte
	}{
		{"empty", nil},
		{"longer than 120 ms", make([]byte, 961)},
	} {
		if _, err := d.Decode(tc.payload, dst); err == nil {
			t.Errorf("%s payload: no error", tc.name)
		}
	}
	if _, err := NewG722Decoder(8000); err == nil {
		t.Error("8 kHz output: no error")
	}
}

// TestG722Reset: a reset decoder decodes like a new one.
func TestG722Reset(t *testing.T) {
	codes, err := os.ReadFile("testdata/g722/speech.g722")
	if err != nil {
		t.Fatal(err)
	}
	g := NewG722()
	a := make([]int16, 2000)
	g.Decode(a, codes[5000:6000])
	g.Reset()
	g.Decode(a, codes[:1000])
	b := make([]int16, 2000)
	NewG722().Decode(b, codes[:1000])
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("sample %d: %d after reset, %d new", i, a[i], b[i])
		}
	}
}

// FuzzG722 decodes arbitrary codes: every byte is a valid code, so nothing
// may fail, every sample stays in range, and the output is deterministic.
func FuzzG722(f *testing.F) {
	codes, err := os.ReadFile("testdata/g722/speech.g722")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(codes[:160])
	f.Add(make([]byte, 160))
	f.Add([]byte{0xff, 0x00, 0xff, 0x00, 0x3f, 0xc0, 0x7f, 0x80})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, codes []byte) {
		d, err := NewG722Decoder(16000)
		if err != nil {
			t.Fatal(err)
		}
		dst := [][]float32{make([]float32, MaxPacketSamples)}
		n, err := d.Decode(codes, dst)
		switch {
		case len(codes) == 0 || len(codes) > 960:
			if err == nil {
				t.Fatalf("%d codes: no error", len(codes))
			}
			return
		case err != nil:
			t.Fatal(err)
		case n != 2*len(codes):
			t.Fatalf("%d codes gave %d samples", len(codes), n)
		}
		for i, v := range dst[0][:n] {
			if v < -1 || v > 1 || v != v {
				t.Fatalf("sample %d = %v", i, v)
			}
		}
		again := make([]int16, 2*len(codes))
		NewG722().Decode(again, codes)
		for i, v := range again {
			if float32(v)/32768 != dst[0][i] {
				t.Fatalf("sample %d differs between decoders", i)
			}
		}
	})
}
