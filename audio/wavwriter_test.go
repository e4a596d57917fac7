package audio

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

// What the writer writes, the reader reads back, within 16-bit precision.
func TestWAVWriterRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "out.wav")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWAVWriter(f, 16000, 2)
	if err != nil {
		t.Fatal(err)
	}
	n := 40000
	l, r := make([]float32, n), make([]float32, n)
	for i := range l {
		l[i] = float32(0.5 * math.Sin(float64(i)/10))
		r[i] = float32(-0.25 * math.Cos(float64(i)/7))
	}
	l[0], r[0] = 2, -2 // clipped
	for i := 0; i < n; i += 4096 {
		j := min(i+4096, n)
		if err := w.Write([][]float32{l[i:j], r[i:j]}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	in, err := OpenWAV(p)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if fm := in.Format(); fm.SampleRate != 16000 || fm.Channels != 2 || fm.BitsPerSample != 16 || in.Frames() != int64(n) {
		t.Fatalf("format %+v, frames %d", fm, in.Frames())
	}
	dst := [][]float32{make([]float32, n), make([]float32, n)}
	got := 0
	for got < n {
		k, err := in.Read([][]float32{dst[0][got:], dst[1][got:]})
		if err != nil {
			t.Fatal(err)
		}
		got += k
	}
	if dst[0][0] < 0.999 || dst[1][0] > -0.999 {
		t.Errorf("clipping: %v %v", dst[0][0], dst[1][0])
	}
	for i := 1; i < n; i++ {
		if math.Abs(float64(dst[0][i]-l[i])) > 1.0/32000 || math.Abs(float64(dst[1][i]-r[i])) > 1.0/32000 {
			t.Fatalf("sample %d: %v %v, want %v %v", i, dst[0][i], dst[1][i], l[i], r[i])
		}
	}
}
