package live

import (
	"context"
	"errors"

	"talkratio/audio/flac"
	"talkratio/call"
)

// recorder keeps a call's audio as it is analyzed: the call's second
// consumer, beside the analyzer (after galene's diskwriter). It gets both
// sides on the call clock, rep left and customer right, at the analysis
// rate, as FLAC (see call.AudioStore); missing audio is silence there.
// Its methods do nothing on a nil recorder: a call without one records
// nothing.
type recorder struct {
	c   *Call
	w   call.AudioWriter
	enc *flac.Writer
}

// startRecording opens the call's audio. Analysis matters more than the
// recording: a call that cannot record goes on without.
func (c *Call) startRecording(ctx context.Context) {
	if err := c.openRecording(ctx); err != nil {
		c.log.Error("cannot record this call's audio", "err", err)
	}
}

func (c *Call) openRecording(ctx context.Context) error {
	if c.cfg.Audio == nil {
		return errors.New("the store keeps no audio (serve -data DIR)")
	}
	f, err := c.cfg.Audio.CreateAudio(ctx, c.rec.ID)
	if err != nil {
		return err
	}
	w, err := flac.NewWriter(f, AnalysisRate, 2)
	if err != nil {
		f.Abort()
		return err
	}
	c.recording = &recorder{c: c, w: f, enc: w}
	return nil
}

// write adds audio to the recording; a recording that fails stops, and
// the call goes on.
func (r *recorder) write(rep, cust []float32) {
	if r == nil || r.enc == nil {
		return
	}
	if err := r.enc.Write([][]float32{rep, cust}); err != nil {
		r.c.log.Error("recording stopped", "err", err)
		r.w.Abort()
		r.enc = nil
	}
}

// close completes the recording; it reports whether the call now has
// audio.
func (r *recorder) close() bool {
	if r == nil || r.enc == nil {
		return false
	}
	err := r.enc.Close()
	if err == nil {
		err = r.w.Commit()
	} else {
		r.w.Abort()
	}
	if err != nil {
		r.c.log.Error("recording", "err", err)
		return false
	}
	return true
}

// abort throws the recording away.
func (r *recorder) abort() {
	if r != nil && r.enc != nil {
		r.w.Abort()
		r.enc = nil
	}
}

// flush hands the recording's frames so far to the store, so that a crash
// loses at most the audio since the last checkpoint.
func (r *recorder) flush() {
	if r == nil || r.enc == nil {
		return
	}
	if err := r.enc.Flush(); err != nil {
		r.c.log.Warn("flush recording", "err", err)
	}
}
