package recorded

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"testing"

	"talkratio/audio"
	"talkratio/tally"
	"talkratio/vad"
)

// wav is a 16-bit PCM WAV of frames silent frames.
func wav(channels, frames int) []byte {
	var b bytes.Buffer
	data := frames * channels * 2
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+data))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(channels), uint32(8000), uint32(8000 * channels * 2), uint16(channels * 2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(data))
	b.Write(make([]byte, data))
	return b.Bytes()
}

type memFile struct {
	*audio.WAVReader
	closed *int
}

func (f memFile) Close() error { *f.closed++; return nil }

// files opens WAVs from memory and counts what is closed.
func files(m map[string][]byte, closed *int) Opener {
	return func(name string) (File, error) {
		b, ok := m[name]
		if !ok {
			return nil, fs.ErrNotExist
		}
		r, err := audio.NewWAVReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return nil, err
		}
		return memFile{r, closed}, nil
	}
}

func TestOpen(t *testing.T) {
	m := map[string][]byte{"stereo": wav(2, 800), "three": wav(3, 10), "mono": wav(1, 800), "short": wav(1, 400)}
	closed := 0
	open := files(m, &closed)
	for _, tc := range []struct {
		name   string
		in     Input
		want   vad.ChannelMap
		frames int64
		err    func(error) bool
	}{
		{"stereo", Input{Stereo: "stereo", CustomerChannel: -1}, vad.ChannelMap{Channels: 2, Rep: 0, Customer: 1}, 800, nil},
		{"stereo, rep on the right", Input{Stereo: "stereo", RepChannel: 1, CustomerChannel: -1}, vad.ChannelMap{Channels: 2, Rep: 1, Customer: 0}, 800, nil},
		{"three channels", Input{Stereo: "three", RepChannel: 2, CustomerChannel: 0}, vad.ChannelMap{Channels: 3, Rep: 2, Customer: 0}, 10, nil},
		{"a pair", Input{Rep: "mono", Customer: "short"}, vad.ChannelMap{Channels: 2, Rep: 0, Customer: 1}, 800, nil},
		{"mono as stereo", Input{Stereo: "mono", CustomerChannel: -1}, vad.ChannelMap{}, 0, func(err error) bool { return errors.Is(err, ErrMono) }},
		{"no customer channel", Input{Stereo: "three", RepChannel: 2, CustomerChannel: -1}, vad.ChannelMap{}, 0, func(err error) bool {
			var e *CustomerChannelError
			return errors.As(err, &e) && e.Rep == 2
		}},
		{"same channel", Input{Stereo: "stereo", CustomerChannel: 0}, vad.ChannelMap{}, 0, func(err error) bool { return err != nil }},
		{"stereo as a side", Input{Rep: "mono", Customer: "stereo"}, vad.ChannelMap{}, 0, func(err error) bool {
			var e *SideError
			return errors.As(err, &e) && e.Role == tally.Customer && e.Channels == 2 && e.Err == nil
		}},
		{"a side missing", Input{Rep: "nope", Customer: "mono"}, vad.ChannelMap{}, 0, func(err error) bool {
			var e *SideError
			return errors.As(err, &e) && e.Role == tally.Rep && errors.Is(err, fs.ErrNotExist)
		}},
		{"stereo missing", Input{Stereo: "nope"}, vad.ChannelMap{}, 0, func(err error) bool { return errors.Is(err, fs.ErrNotExist) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Open(tc.in, open)
			if tc.err != nil {
				if !tc.err(err) || c != nil {
					t.Errorf("got %v, %v", c, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.Map != tc.want || c.Frames != tc.frames {
				t.Errorf("map %+v frames %d, want %+v %d", c.Map, c.Frames, tc.want, tc.frames)
			}
		})
	}
	// Every file opened was closed, those of calls that failed too: one
	// per stereo case that opened, two per pair that did.
	if closed != 10 {
		t.Errorf("%d files closed, want 10", closed)
	}
}

// floatOnly hides a source's 16-bit PCM methods: vad.Analyze then decodes
// its samples to float32.
type floatOnly struct{ audio.Source }

// A stereo 16-bit file is analyzed from its bytes as stored, with the same
// result as from its samples decoded to float; a pair of mono files is
// read as floats.
func TestCallHandsOutPCM16(t *testing.T) {
	const rate, frames = 8000, 8000 * 10
	b := wav(2, frames)
	data := b[44:]
	// Bursts of a tone (250 ms on, 150 ms off, like syllables) on the rep's
	// channel from 2 to 5 s, on the customer's from 6 to 9 s, over faint
	// noise: something for the detector.
	seed := uint32(1)
	for i := range frames {
		for c := range 2 {
			seed = seed*1664525 + 1013904223
			v := float64(int32(seed)>>20) / 8
			sec := i / rate
			if (c == 0 && sec >= 2 && sec < 5 || c == 1 && sec >= 6 && sec < 9) && i%(rate*2/5) < rate/4 {
				v += 8000 * math.Sin(2*math.Pi*440*float64(i)/rate)
			}
			binary.LittleEndian.PutUint16(data[4*i+2*c:], uint16(int16(v)))
		}
	}
	m := map[string][]byte{"stereo": b, "rep": wav(1, 800), "cust": wav(1, 800)}
	closed := 0
	open := files(m, &closed)
	analyze := func(src vad.Reader, c *Call) tally.Result {
		t.Helper()
		res, err := vad.Analyze(src, rate, c.Map, vad.DefaultConfig(), tally.DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	c, err := Open(Input{Stereo: "stereo", CustomerChannel: -1}, open)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.PCM16Channels(); got != 2 {
		t.Fatalf("stereo 16-bit call: PCM16Channels = %d, want 2", got)
	}
	fast := analyze(c, c)
	c.Close()
	c, err = Open(Input{Stereo: "stereo", CustomerChannel: -1}, open)
	if err != nil {
		t.Fatal(err)
	}
	slow := analyze(floatOnly{c.Source}, c)
	c.Close()
	if len(fast.Segments.Rep) == 0 || len(fast.Segments.Customer) == 0 {
		t.Fatalf("no speech found on a side: %+v", fast.Segments)
	}
	fj, _ := json.Marshal(fast)
	sj, _ := json.Marshal(slow)
	if !bytes.Equal(fj, sj) {
		t.Errorf("analyzed from the bytes:\n%s\nfrom floats:\n%s", fj, sj)
	}
	pair, err := Open(Input{Rep: "rep", Customer: "cust"}, open)
	if err != nil {
		t.Fatal(err)
	}
	defer pair.Close()
	if got := pair.PCM16Channels(); got != 0 {
		t.Errorf("a pair of files: PCM16Channels = %d, want 0", got)
	}
	if _, err := pair.ReadPCM16(make([]byte, 64)); err == nil {
		t.Error("a pair of files: ReadPCM16 gave no error")
	}
}
