// Package upload takes recorded calls in: POST /api/calls receives one
// stereo WAV or two mono WAVs into staging, checks that they make a call,
// stores the call (state analyzing) and analyzes it in the background with
// the same code as `talkratio analyze`, its progress in the record. An
// analysis cut short by a restart is finished by Resume; nothing is left
// analyzing forever.
package upload

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"talkratio/audio"
	"talkratio/auth"
	"talkratio/call"
	"talkratio/recorded"
	"talkratio/reply"
)

// Limits.
const (
	// DefaultMaxUpload is the default cap on an upload's body: an hour of
	// 48 kHz stereo 16-bit WAV is 0.7 GB.
	DefaultMaxUpload = 1 << 30
	// DefaultStallTimeout: a client that sends nothing for this long is
	// gone.
	DefaultStallTimeout = 30 * time.Second
	// maxFieldBytes caps each text field of the form.
	maxFieldBytes = 1 << 10
)

// Config configures uploads.
type Config struct {
	// Store keeps the calls, Audio their audio, Staging the files until
	// they are analyzed. Without Staging or Audio there are no uploads.
	Store   call.Store
	Audio   call.AudioStore
	Staging call.Staging
	Rules   call.Rules
	// MaxUpload caps an upload's body in bytes; 0 for DefaultMaxUpload.
	MaxUpload int64
	// StallTimeout cuts an upload whose body stops coming for this long;
	// a slow but steady one of any allowed size is received, however long
	// it takes (the HTTP server's ReadTimeout, which covers a whole body,
	// is moved on with every read). 0 for DefaultStallTimeout.
	StallTimeout time.Duration
	// Analyzing counts the analyses running (a gauge); nil counts nothing.
	Analyzing Gauge
	// Metrics counts the analyses finished; nil counts nothing.
	Metrics Metrics
	Log     *slog.Logger
}

// Metrics counts what uploads come to.
type Metrics interface {
	// Finished: an analysis ended with result (ResultEnded or
	// ResultFailed) after seconds.
	Finished(result string, seconds float64)
	// StoreError: the store refused a write.
	StoreError()
}

// The results an analysis is counted by.
const (
	ResultEnded  = "ended"  // analyzed and stored
	ResultFailed = "failed" // stored as failed, saying why
)

// Gauge counts something up and down: a Prometheus gauge.
type Gauge interface {
	Inc()
	Dec()
}

// Service is the uploads of one process and their analyses.
type Service struct {
	cfg   Config
	bg    sync.WaitGroup // analyses running
	retry sync.Mutex     // one retry decision at a time
}

// New returns the upload service.
func New(cfg Config) *Service {
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = DefaultMaxUpload
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = DefaultStallTimeout
	}
	if cfg.Analyzing == nil {
		cfg.Analyzing = noGauge{}
	}
	if cfg.Metrics == nil {
		cfg.Metrics = noMetrics{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Service{cfg: cfg}
}

type noMetrics struct{}

func (noMetrics) Finished(string, float64) {}
func (noMetrics) StoreError()              {}

type noGauge struct{}

func (noGauge) Inc() {}
func (noGauge) Dec() {}

// MaxUpload is the largest body taken, in bytes.
func (s *Service) MaxUpload() int64 { return s.cfg.MaxUpload }

// form is an upload received: its files and text fields.
type form struct {
	files  map[string]call.Staged // by part name
	fields map[string]string
	// names are the files' names as the uploader gave them, by part
	// name: what the call's file fields show.
	names map[string]string
}

// fileName is the name of the file in a part, as the uploader gave it, or
// else the staging's.
func (up *form) fileName(part string) string {
	if n := up.names[part]; n != "" {
		return n
	}
	return up.files[part].Name()
}

func discard(ctx context.Context, files map[string]call.Staged) {
	for _, f := range files {
		f.Discard(ctx)
	}
}

// Handle answers POST /api/calls: a stereo WAV ("audio", with
// rep_channel) or two mono WAVs ("rep_audio" and "customer_audio"), as
// multipart/form-data. The body is streamed into staging, never held in
// memory; the call is analyzed in the background and answered at once
// with 202. The caller checks that the principal may publish, and that
// the service is not draining.
func (s *Service) Handle(w http.ResponseWriter, r *http.Request) {
	if err := s.upload(w, r); err != nil {
		reply.WriteError(w, err)
	}
}

func (s *Service) upload(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if s.cfg.Staging == nil || s.cfg.Audio == nil {
		return reply.Errorf(http.StatusServiceUnavailable, "uploads need a data directory (serve -data DIR)")
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "multipart/form-data" {
		return reply.Errorf(http.StatusUnsupportedMediaType, "POST /api/calls takes multipart/form-data with a WAV in \"audio\", or two mono WAVs in \"rep_audio\" and \"customer_audio\"")
	}
	if r.ContentLength > s.cfg.MaxUpload {
		return reply.Errorf(http.StatusRequestEntityTooLarge, "the upload is %d bytes; the limit is %d", r.ContentLength, s.cfg.MaxUpload)
	}
	r.Body = http.MaxBytesReader(w, progressDeadline(w, r.Body, s.cfg.StallTimeout), s.cfg.MaxUpload)
	up, err := s.receive(r)
	if err != nil {
		return err
	}
	rep, ok := auth.FromContext(ctx).PublishAs(up.fields["rep"])
	if !ok {
		discard(ctx, up.files)
		return reply.Errorf(http.StatusForbidden, "your token uploads calls of %s only", rep)
	}
	up.fields["rep"] = rep
	rec, err := s.validate(ctx, up)
	if err != nil {
		discard(ctx, up.files)
		return err
	}
	// Keep the files with the call before its record exists: a restart
	// then finds both, and can finish the analysis.
	for part, f := range up.files {
		if err := f.Keep(ctx, rec.ID, part); err != nil {
			discard(ctx, up.files)
			return s.storeFault("keep upload", err)
		}
	}
	if err := s.cfg.Store.Put(ctx, &rec); err != nil {
		discard(ctx, up.files)
		return s.storeFault("store upload", err)
	}
	s.start(rec, up.files)
	w.Header().Set("Location", "/api/calls/"+rec.ID)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	reply.Body(w, rec.Summary())
	return nil
}

// receive streams the form's parts: files into staging, text fields into
// memory (small).
func (s *Service) receive(r *http.Request) (*form, error) {
	ctx := r.Context()
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, reply.Errorf(http.StatusBadRequest, "reading the form: %v", err)
	}
	up := &form{files: map[string]call.Staged{}, fields: map[string]string{}, names: map[string]string{}}
	fail := func(err error) (*form, error) {
		discard(ctx, up.files)
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, reply.Errorf(http.StatusRequestEntityTooLarge, "the upload is larger than the limit of %d bytes", s.cfg.MaxUpload)
		}
		var re *reply.Error
		if errors.As(err, &re) {
			return nil, err
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, reply.Errorf(http.StatusRequestTimeout, "the upload stalled: nothing came for %v", s.cfg.StallTimeout)
		}
		return nil, reply.Errorf(http.StatusBadRequest, "reading the form: %v", err)
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(err)
		}
		name := p.FormName()
		switch name {
		case "audio", "rep_audio", "customer_audio":
			if _, dup := up.files[name]; dup {
				return fail(reply.Errorf(http.StatusBadRequest, "two files in %q", name))
			}
			// A read error is the client's (it stalled, sent too much, or
			// a broken form); any other is the store's.
			in := &readErr{r: p}
			f, err := s.cfg.Staging.Stage(ctx, in)
			if err != nil && in.err == nil {
				discard(ctx, up.files)
				return nil, s.storeFault("stage upload", err)
			}
			if err != nil {
				return fail(in.err)
			}
			up.files[name] = f
			if fn := p.FileName(); fn != "" && fn != "." {
				up.names[name] = call.ClipLabel(fn)
			}
		case "name", "rep", "customer", "rep_channel", "started_at":
			b, err := io.ReadAll(io.LimitReader(p, maxFieldBytes+1))
			if err != nil {
				return fail(err)
			}
			if len(b) > maxFieldBytes {
				return fail(reply.Errorf(http.StatusBadRequest, "field %q is longer than %d bytes", name, maxFieldBytes))
			}
			up.fields[name] = strings.TrimSpace(string(b))
		default:
			// Unknown parts are read and dropped, not stored.
			if _, err := io.Copy(io.Discard, p); err != nil {
				return fail(err)
			}
		}
	}
	return up, nil
}

// validate checks the parts and the WAV headers before anything is
// stored, so that a bad upload leaves nothing behind, and returns the
// call's record.
func (s *Service) validate(ctx context.Context, up *form) (call.Record, error) {
	_, stereo := up.files["audio"]
	_, repOK := up.files["rep_audio"]
	_, custOK := up.files["customer_audio"]
	switch {
	case stereo && (repOK || custOK):
		return call.Record{}, reply.Errorf(http.StatusBadRequest, "give either \"audio\" (one stereo WAV) or \"rep_audio\" and \"customer_audio\" (two mono WAVs), not both")
	case !stereo && !(repOK && custOK):
		return call.Record{}, reply.Errorf(http.StatusBadRequest, "no audio: give \"audio\" (one stereo WAV) or both \"rep_audio\" and \"customer_audio\" (two mono WAVs)")
	}
	rc := strings.ToLower(up.fields["rep_channel"])
	right, err := call.RepOnRight(rc)
	if err != nil {
		return call.Record{}, reply.Errorf(http.StatusBadRequest, "rep_channel %q: %v", rc, err)
	}
	c, err := open(ctx, up.files, right)
	if err != nil {
		return call.Record{}, err
	}
	c.Close()
	rec := call.Record{ID: call.NewID(8), Source: call.SourceUpload, State: call.StateAnalyzing, StartedAt: time.Now().UTC()}
	rec.SetLabels(up.fields["name"], up.fields["rep"], up.fields["customer"])
	rec.SampleRate, rec.Channels = c.Format().SampleRate, c.Format().Channels
	if _, ok := up.files["audio"]; ok {
		rec.File = up.fileName("audio")
		rec.SetChannels(c.Map.Rep, c.Map.Customer)
	} else {
		rec.RepFile, rec.CustomerFile = up.fileName("rep_audio"), up.fileName("customer_audio")
	}
	if v := up.fields["started_at"]; v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return call.Record{}, reply.Errorf(http.StatusBadRequest, "started_at %q: want RFC 3339, e.g. 2026-11-26T10:00:00Z", v)
		}
		if y := t.UTC().Year(); y < 1 || y > 9999 {
			return call.Record{}, reply.Errorf(http.StatusBadRequest, "started_at %q: the year must be from 0001 to 9999", v)
		}
		rec.StartedAt = t.UTC()
	}
	if rec.Name == "" {
		for _, part := range []string{"audio", "rep_audio"} {
			if _, ok := up.files[part]; ok && rec.Name == "" {
				rec.Name = "upload " + up.fileName(part)
			}
		}
	}
	return rec, nil
}

// open opens an upload's WAVs as a call, in the words of the upload form.
// The caller closes it.
func open(ctx context.Context, files map[string]call.Staged, repRight bool) (*recorded.Call, error) {
	in := recorded.Input{Rep: "rep_audio", Customer: "customer_audio"}
	if _, ok := files["audio"]; ok {
		in = recorded.Input{Stereo: "audio", CustomerChannel: -1}
		if repRight {
			in.RepChannel = 1
		}
	}
	c, err := recorded.Open(in, func(part string) (recorded.File, error) {
		f, ok := files[part]
		if !ok {
			return nil, call.ErrNotFound
		}
		b, err := f.Open(ctx)
		if err != nil {
			return nil, err
		}
		w, err := audio.NewWAVReader(b, b.Size())
		if err != nil {
			b.Close()
			return nil, err
		}
		return wavFile{w, b}, nil
	})
	var side *recorded.SideError
	switch {
	case err == nil:
		return c, nil
	case errors.Is(err, recorded.ErrMono):
		return nil, reply.Errorf(http.StatusBadRequest, "audio: a mono file holds one side only; upload a stereo WAV, or the two sides as rep_audio and customer_audio")
	case errors.As(err, &side) && side.Err == nil:
		return nil, reply.Errorf(http.StatusBadRequest, "%s has %d channels; rep_audio and customer_audio take mono files (a stereo call goes in \"audio\")", side.Name, side.Channels)
	case errors.As(err, &side):
		return nil, reply.Errorf(http.StatusBadRequest, "%v", err) // names the part
	case in.Stereo != "":
		return nil, reply.Errorf(http.StatusBadRequest, "audio: %v", err)
	}
	return nil, reply.Errorf(http.StatusBadRequest, "%v", err)
}

// wavFile is a WAV reader over a stored file.
type wavFile struct {
	*audio.WAVReader
	b call.Blob
}

func (f wavFile) Close() error { return f.b.Close() }
