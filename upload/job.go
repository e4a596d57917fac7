package upload

import (
	"context"
	"fmt"
	"io"
	"time"

	"talkratio/audio/flac"
	"talkratio/call"
	"talkratio/recorded"
	"talkratio/reply"
	"talkratio/resample"
	"talkratio/tally"
	"talkratio/vad"
)

// progressEvery: an analysis in progress writes how far it got this often.
const progressEvery = 500 * time.Millisecond

// start analyzes an upload in the background.
func (s *Service) start(rec call.Record, files map[string]call.Staged) {
	s.bg.Add(1)
	s.cfg.Analyzing.Inc()
	go func() {
		defer s.bg.Done()
		defer s.cfg.Analyzing.Dec()
		s.analyze(context.Background(), rec, files)
	}()
}

// progressReader tees what the analysis reads into the stored audio and
// counts progress.
type progressReader struct {
	c      *recorded.Call
	out    *storedAudio
	read   int64
	report func(frames int64)
	last   time.Time
}

func (p *progressReader) Read(dst [][]float32) (int, error) {
	n, err := p.c.Read(dst)
	if n > 0 {
		if werr := p.out.write(dst[p.c.Map.Rep][:n], dst[p.c.Map.Customer][:n]); werr != nil {
			return 0, fmt.Errorf("storing audio: %w", werr)
		}
		p.read += int64(n)
		if now := time.Now(); now.Sub(p.last) >= progressEvery {
			p.last = now
			p.report(p.read)
		}
	}
	return n, err
}

// storedAudio is an upload's audio as the call keeps it: FLAC (lossless,
// seekable in browsers, about half the size of WAV for speech), rep
// left and customer right, at call.AudioRate or the file's own rate if
// lower. The analysis reads the file at its own rate; only what is kept
// is resampled.
type storedAudio struct {
	rs   *resample.Resampler // nil when the file's rate is kept
	flac *flac.Writer
}

func newStoredAudio(w io.WriteSeeker, rate int, frames int64) (*storedAudio, error) {
	out := min(rate, call.AudioRate)
	expected := flac.DefaultExpected
	if frames > 0 {
		expected = time.Duration(float64(frames) / float64(rate) * float64(time.Second))
	}
	fw, err := flac.NewWriterExpecting(w, out, 2, expected)
	if err != nil {
		return nil, err
	}
	s := &storedAudio{flac: fw}
	if out != rate {
		if s.rs, err = resample.New(rate, out, 2); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *storedAudio) write(rep, cust []float32) error {
	if s.rs == nil {
		return s.flac.Write([][]float32{rep, cust})
	}
	out, err := s.rs.Write([][]float32{rep, cust})
	if err != nil {
		return err
	}
	return s.flac.Write(out)
}

// close writes what the resampler holds back and completes the stream.
func (s *storedAudio) close() error {
	if s.rs != nil {
		if err := s.flac.Write(s.rs.Flush()); err != nil {
			return err
		}
	}
	return s.flac.Close()
}

// analyze analyzes an upload whose files are kept with its call, keeps its
// audio, and stores the result; or stores the call as failed, saying why.
func (s *Service) analyze(ctx context.Context, rec call.Record, files map[string]call.Staged) {
	log := s.cfg.Log.With("call", rec.ID)
	store := s.cfg.Store
	began := time.Now()
	fail := func(err error) {
		s.cfg.Metrics.Finished(ResultFailed, time.Since(began).Seconds())
		log.Warn("upload analysis failed", "err", err)
		rec.State, rec.Error, rec.Progress = call.StateFailed, reply.NoPaths(err), 0
		s.putUntilStored(ctx, &rec)
	}
	c, err := open(ctx, files, rec.RepOnRight())
	if err != nil {
		fail(err)
		return
	}
	defer c.Close()
	af, err := s.cfg.Audio.CreateAudio(ctx, rec.ID)
	if err != nil {
		fail(err)
		return
	}
	rate := c.Format().SampleRate
	out, err := newStoredAudio(af, rate, c.Frames)
	if err != nil {
		af.Abort()
		fail(err)
		return
	}
	pr := &progressReader{c: c, out: out, last: time.Now(), report: func(frames int64) {
		if c.Frames > 0 {
			r := rec
			r.Progress = min(max(float64(frames)/float64(c.Frames), 0), 1)
			if err := store.Put(ctx, &r); err != nil {
				log.Warn("store progress", "err", err)
			}
		}
	}}
	res, err := vad.Analyze(pr, rate, c.Map, vad.DefaultConfig(), s.cfg.Rules.Tally())
	if err == nil {
		err = out.close()
	}
	if err == nil {
		err = af.Commit()
	} else {
		af.Abort()
	}
	if err != nil {
		fail(fmt.Errorf("analysis: %w", err))
		return
	}
	meter := s.cfg.Rules.Meter(&res)
	rec.Result, rec.Meter = &res, &meter
	rec.DurationS, rec.State, rec.Progress, rec.HasAudio = res.DurationS, call.StateEnded, 0, true
	s.putUntilStored(ctx, &rec)
	s.cfg.Metrics.Finished(ResultEnded, time.Since(began).Seconds())
	discard(ctx, files)
	log.Info("upload analyzed", "duration_s", res.DurationS, "listen_pct", tally.LogPct(res.ListenPct))
}

// Resume finishes, after a restart, the analyses that were running: a call
// whose files were kept is analyzed again, one whose files are gone is
// marked failed.
func (s *Service) Resume(ctx context.Context) {
	if s.cfg.Staging == nil || s.cfg.Audio == nil {
		return
	}
	rows, _, err := s.cfg.Store.List(ctx, call.ListQuery{State: call.StateAnalyzing})
	if err != nil {
		s.cfg.Log.Error("resume uploads", "err", err)
		return
	}
	for _, row := range rows {
		rec, err := s.cfg.Store.Get(ctx, row.ID)
		if err != nil {
			continue
		}
		files, err := s.cfg.Staging.Kept(ctx, rec.ID)
		if err != nil || len(files) == 0 {
			rec.State, rec.Error = call.StateFailed, "the service stopped while this upload was analyzed, and its files were lost; upload it again"
			s.cfg.Store.Put(ctx, rec)
			continue
		}
		s.cfg.Log.Info("resuming upload analysis after restart", "call", rec.ID)
		rec.Progress = 0
		s.start(*rec, files)
	}
}

// Wait waits for the analyses running, or for ctx to end: one that does
// not finish keeps its files and is finished at the next start. It
// reports whether all finished.
func (s *Service) Wait(ctx context.Context) bool {
	done := make(chan struct{})
	go func() {
		s.bg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}
