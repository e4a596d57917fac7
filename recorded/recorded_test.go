package recorded

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
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
