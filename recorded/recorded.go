// Package recorded opens a recorded call for analysis: one WAV with both
// sides on separate channels, or one mono WAV per side, lined up. Which
// channel is the rep's, and what makes a call, is decided here once, for
// `talkratio analyze` and uploads alike; each words the errors for its own
// users.
//
// It is apart from package call because it reads audio: call stays free of
// codecs (package audio carries the Opus decoder), as it is of transports.
package recorded

import (
	"errors"
	"fmt"

	"talkratio/audio"
	"talkratio/tally"
	"talkratio/vad"
)

// Input names a recorded call: one file with both sides, or one mono file
// per side.
type Input struct {
	// Stereo names a file with both sides on separate channels.
	Stereo string
	// RepChannel and CustomerChannel are Stereo's channels for the roles;
	// CustomerChannel -1 is the other of left and right.
	RepChannel, CustomerChannel int
	// Rep and Customer name one mono file per side, when Stereo is "".
	Rep, Customer string
}

// File is an opened WAV: audio.File, or a WAV reader over a stored file.
type File interface {
	audio.Source
	Frames() int64 // -1 when not known
	Close() error
}

// Opener opens a file the Input names.
type Opener func(name string) (File, error)

// Call is a recorded call ready for analysis: its samples and which
// channel carries which role. Close closes its files.
type Call struct {
	audio.Source
	Map vad.ChannelMap
	// Frames is how many sample frames the call has, -1 when not known.
	Frames int64
	files  []File
}

// Close closes the call's files.
func (c *Call) Close() error {
	var errs []error
	for _, f := range c.files {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}

// PCM16Channels and ReadPCM16 make a call that is one 16-bit PCM file a
// vad.PCM16Reader, as the file itself is: vad.Analyze then filters its
// bytes as stored, which spares about a fifth of the analysis's work at
// 8 kHz (decoding every sample to float32, then averaging it apart).
// Embedding Source alone would hide them. A pair of files, or any other
// source, reports 0 channels and is read with Read.
func (c *Call) PCM16Channels() int {
	if p, ok := c.Source.(vad.PCM16Reader); ok {
		return p.PCM16Channels()
	}
	return 0
}

// ReadPCM16 reads whole sample frames as stored (see PCM16Channels).
func (c *Call) ReadPCM16(b []byte) (int, error) {
	p, ok := c.Source.(vad.PCM16Reader)
	if !ok {
		return 0, errors.New("recorded: the call is not one 16-bit PCM file")
	}
	return p.ReadPCM16(b)
}

// ErrMono is Open's refusal of a stereo input that has one channel.
var ErrMono = errors.New("mono recording: it holds one side only")

// CustomerChannelError is Open's refusal of a stereo input whose rep is
// on a channel past left and right with no customer channel named: the
// customer's cannot be "the other one".
type CustomerChannelError struct{ Rep int }

func (e *CustomerChannelError) Error() string {
	return fmt.Sprintf("rep channel %d given without a customer channel", e.Rep)
}

// SideError is a side's file of a pair that could not be used: Err is why
// it did not open, or nil when it opened with Channels channels, not one.
type SideError struct {
	Role     tally.Role
	Name     string
	Channels int
	Err      error
}

func (e *SideError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Name, e.Err)
	}
	return fmt.Sprintf("%s: the %s file has %d channels, not one", e.Name, e.Role, e.Channels)
}

func (e *SideError) Unwrap() error { return e.Err }

// Open opens the call in: a stereo file's open error comes back as the
// opener gave it, a pair's inside a SideError; ErrMono,
// CustomerChannelError and vad.ChannelMap's checks say what does not make
// a call.
func Open(in Input, open Opener) (*Call, error) {
	if in.Stereo != "" {
		return openStereo(in, open)
	}
	c := &Call{Map: vad.ChannelMap{Channels: 2, Rep: 0, Customer: 1}}
	var srcs []audio.Source
	for _, side := range []struct {
		role tally.Role
		name string
	}{{tally.Rep, in.Rep}, {tally.Customer, in.Customer}} {
		f, err := open(side.name)
		if err != nil {
			c.Close()
			return nil, &SideError{Role: side.role, Name: side.name, Err: err}
		}
		c.files = append(c.files, f)
		if ch := f.Format().Channels; ch != 1 {
			c.Close()
			return nil, &SideError{Role: side.role, Name: side.name, Channels: ch}
		}
		c.Frames = longest(c.Frames, f.Frames(), len(srcs) == 0)
		srcs = append(srcs, f)
	}
	src, err := audio.Merge(srcs...)
	if err != nil {
		c.Close()
		return nil, err
	}
	c.Source = src
	return c, nil
}

// longest is the frames of a pair lined up: the longer file's, unknown if
// either is.
func longest(sofar, frames int64, first bool) int64 {
	switch {
	case first || frames < 0:
		return frames
	case sofar < 0:
		return sofar
	}
	return max(sofar, frames)
}

func openStereo(in Input, open Opener) (*Call, error) {
	f, err := open(in.Stereo)
	if err != nil {
		return nil, err
	}
	c := &Call{Source: f, Frames: f.Frames(), files: []File{f}}
	fail := func(err error) (*Call, error) {
		c.Close()
		return nil, err
	}
	rep, cust := in.RepChannel, in.CustomerChannel
	if cust < 0 {
		if rep > 1 {
			return fail(&CustomerChannelError{Rep: rep})
		}
		cust = 1 - rep // the other side of a stereo pair
	}
	channels := f.Format().Channels
	if channels < 2 {
		return fail(ErrMono)
	}
	c.Map = vad.ChannelMap{Channels: channels, Rep: rep, Customer: cust}
	if err := c.Map.Validate(); err != nil {
		return fail(err)
	}
	return c, nil
}
