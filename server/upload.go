package server

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"talkratio/audio"
	"talkratio/vad"
)

// Upload limits.
const (
	// DefaultMaxUpload is the default cap on an upload's body: an hour of
	// 48 kHz stereo 16-bit WAV is 0.7 GB.
	DefaultMaxUpload = 1 << 30
	// maxFieldBytes caps each text field of the form.
	maxFieldBytes = 1 << 10
	// progressEvery: an analysis in progress publishes how far it got
	// this often.
	progressEvery = 500 * time.Millisecond
	// meterStepS: replays redraw the meter from one sample a second.
	meterStepS = 1.0
)

// upload is an accepted upload: its files and form fields.
type upload struct {
	files  map[string]string // part name -> staged path
	fields map[string]string
}

func (u *upload) remove() {
	for _, p := range u.files {
		os.Remove(p)
	}
}

// handleUpload answers POST /api/calls: a stereo WAV ("audio", with
// rep_channel) or two mono WAVs ("rep_audio" and "customer_audio"), as
// multipart/form-data. The body is streamed to files under the store's
// staging area, never held in memory; the call is analyzed in the
// background and answered at once with 202.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	if err := s.upload(w, r); err != nil {
		writeError(w, err)
	}
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request) error {
	st, ok := s.store.(*DiskStore)
	if !ok {
		return errorf(http.StatusServiceUnavailable, "uploads need a data directory (serve -data DIR)")
	}
	if s.draining.Load() {
		w.Header().Set("Retry-After", "5")
		return errorf(http.StatusServiceUnavailable, "the service is shutting down")
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "multipart/form-data" {
		return errorf(http.StatusUnsupportedMediaType, "POST /api/calls takes multipart/form-data with a WAV in \"audio\", or two mono WAVs in \"rep_audio\" and \"customer_audio\"")
	}
	if r.ContentLength > s.cfg.MaxUpload {
		return errorf(http.StatusRequestEntityTooLarge, "the upload is %d bytes; the limit is %d", r.ContentLength, s.cfg.MaxUpload)
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUpload)
	up, err := s.receive(r, st.StagingDir())
	if err != nil {
		return err
	}
	rep, ok := principalOf(r).PublishAs(up.fields["rep"])
	if !ok {
		up.remove()
		return errorf(http.StatusForbidden, "your token uploads calls of %s only", rep)
	}
	up.fields["rep"] = rep
	rec, plan, err := s.validateUpload(up)
	if err != nil {
		up.remove()
		return err
	}
	// Move the files next to the record before the record exists: a
	// restart then finds both, and can finish the analysis.
	kept := map[string]string{}
	for part, p := range up.files {
		dst, err := st.Adopt(rec.ID, p, "upload-"+part+".wav")
		if err != nil {
			up.remove()
			st.Delete(rec.ID)
			return fmt.Errorf("keep upload: %w", err)
		}
		kept[part] = dst
	}
	plan.files = kept
	if err := st.Put(&rec); err != nil {
		for _, p := range kept {
			os.Remove(p)
		}
		return fmt.Errorf("store upload: %w", err)
	}
	s.startAnalysis(st, rec, plan)
	w.Header().Set("Location", "/api/calls/"+rec.ID)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	writeJSONBody(w, rec.Summary())
	return nil
}

// receive streams the form's parts: files to the staging directory, text
// fields into memory (small).
func (s *Server) receive(r *http.Request, staging string) (*upload, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "reading the form: %v", err)
	}
	up := &upload{files: map[string]string{}, fields: map[string]string{}}
	fail := func(err error) (*upload, error) {
		up.remove()
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errorf(http.StatusRequestEntityTooLarge, "the upload is larger than the limit of %d bytes", s.cfg.MaxUpload)
		}
		var he *httpError
		if errors.As(err, &he) {
			return nil, err
		}
		return nil, errorf(http.StatusBadRequest, "reading the form: %v", err)
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
				return fail(errorf(http.StatusBadRequest, "two files in %q", name))
			}
			f, err := os.CreateTemp(staging, "upload-*.wav")
			if err != nil {
				return fail(fmt.Errorf("staging: %w", err))
			}
			up.files[name] = f.Name()
			_, err = io.Copy(f, p)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fail(err)
			}
		case "name", "rep", "customer", "rep_channel", "started_at":
			b, err := io.ReadAll(io.LimitReader(p, maxFieldBytes+1))
			if err != nil {
				return fail(err)
			}
			if len(b) > maxFieldBytes {
				return fail(errorf(http.StatusBadRequest, "field %q is longer than %d bytes", name, maxFieldBytes))
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

// analysisPlan is how to read an upload.
type analysisPlan struct {
	files    map[string]string // part -> path
	repRight bool
}

// validateUpload checks the parts and the WAV headers before anything is
// stored, so that a bad upload leaves nothing behind.
func (s *Server) validateUpload(up *upload) (CallRecord, analysisPlan, error) {
	plan := analysisPlan{files: up.files}
	_, stereo := up.files["audio"]
	_, repOK := up.files["rep_audio"]
	_, custOK := up.files["customer_audio"]
	switch {
	case stereo && (repOK || custOK):
		return CallRecord{}, plan, errorf(http.StatusBadRequest, "give either \"audio\" (one stereo WAV) or \"rep_audio\" and \"customer_audio\" (two mono WAVs), not both")
	case !stereo && !(repOK && custOK):
		return CallRecord{}, plan, errorf(http.StatusBadRequest, "no audio: give \"audio\" (one stereo WAV) or both \"rep_audio\" and \"customer_audio\" (two mono WAVs)")
	}
	switch rc := strings.ToLower(up.fields["rep_channel"]); rc {
	case "", "left":
	case "right":
		plan.repRight = true
	default:
		return CallRecord{}, plan, errorf(http.StatusBadRequest, "rep_channel %q: want left or right", rc)
	}
	_, closeAll, err := openUpload(plan)
	if err != nil {
		return CallRecord{}, plan, err
	}
	closeAll()
	rec := CallRecord{
		ID: newID(8), Name: limitText(up.fields["name"], 200), Rep: limitText(up.fields["rep"], 100),
		Customer: limitText(up.fields["customer"], 100), Source: sourceUpload, State: stateAnalyzing,
		StartedAt: time.Now().UTC(),
	}
	if plan.repRight {
		rec.RepChannel = "right"
	}
	if v := up.fields["started_at"]; v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return CallRecord{}, plan, errorf(http.StatusBadRequest, "started_at %q: want RFC 3339, e.g. 2026-11-26T10:00:00Z", v)
		}
		rec.StartedAt = t.UTC()
	}
	if rec.Name == "" {
		for _, part := range []string{"audio", "rep_audio"} {
			if p, ok := plan.files[part]; ok && rec.Name == "" {
				rec.Name = "upload " + filepath.Base(p)
			}
		}
	}
	return rec, plan, nil
}

// uploadSource is an upload opened for analysis: both roles, rep first.
type uploadSource struct {
	src    audio.Source
	m      vad.ChannelMap
	frames int64 // -1 when unknown
}

// openUpload opens an upload's WAVs and checks they make a call. The
// caller must call closeAll.
func openUpload(plan analysisPlan) (uploadSource, func(), error) {
	var files []*audio.File
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	open := func(part string) (*audio.File, error) {
		f, err := audio.OpenWAV(plan.files[part])
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "%s: %v", part, err)
		}
		files = append(files, f)
		return f, nil
	}
	fail := func(err error) (uploadSource, func(), error) {
		closeAll()
		return uploadSource{}, func() {}, err
	}
	if _, ok := plan.files["audio"]; ok {
		f, err := open("audio")
		if err != nil {
			return fail(err)
		}
		fm := f.Format()
		if fm.Channels < 2 {
			return fail(errorf(http.StatusBadRequest, "audio: a mono file holds one side only; upload a stereo WAV, or the two sides as rep_audio and customer_audio"))
		}
		m := vad.ChannelMap{Channels: fm.Channels, Rep: 0, Customer: 1}
		if plan.repRight {
			m.Rep, m.Customer = 1, 0
		}
		return uploadSource{src: f, m: m, frames: f.Frames()}, closeAll, nil
	}
	var srcs []audio.Source
	frames := int64(0)
	for _, part := range []string{"rep_audio", "customer_audio"} {
		f, err := open(part)
		if err != nil {
			return fail(err)
		}
		if ch := f.Format().Channels; ch != 1 {
			return fail(errorf(http.StatusBadRequest, "%s has %d channels; rep_audio and customer_audio take mono files (a stereo call goes in \"audio\")", part, ch))
		}
		if f.Frames() < 0 {
			frames = -1
		} else if frames >= 0 {
			frames = max(frames, f.Frames())
		}
		srcs = append(srcs, f)
	}
	src, err := audio.Merge(srcs...)
	if err != nil {
		return fail(errorf(http.StatusBadRequest, "%v", err))
	}
	return uploadSource{src: src, m: vad.ChannelMap{Channels: 2, Rep: 0, Customer: 1}, frames: frames}, closeAll, nil
}

// startAnalysis analyzes an upload in the background.
func (s *Server) startAnalysis(st *DiskStore, rec CallRecord, plan analysisPlan) {
	s.bg.Add(1)
	s.m.uploadsActive.Inc()
	go func() {
		defer s.bg.Done()
		defer s.m.uploadsActive.Dec()
		s.analyzeUpload(st, rec, plan)
	}()
}

// progressReader tees what the analysis reads into the stored audio (rep
// left, customer right, 16-bit PCM, which every browser plays) and counts
// progress.
type progressReader struct {
	src    uploadSource
	wav    *audio.WAVWriter
	read   int64
	report func(frames int64)
	last   time.Time
}

func (p *progressReader) Read(dst [][]float32) (int, error) {
	n, err := p.src.src.Read(dst)
	if n > 0 {
		if werr := p.wav.Write([][]float32{dst[p.src.m.Rep][:n], dst[p.src.m.Customer][:n]}); werr != nil {
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

func (s *Server) analyzeUpload(st *DiskStore, rec CallRecord, plan analysisPlan) {
	log := s.log.With("call", rec.ID)
	fail := func(err error) {
		log.Warn("upload analysis failed", "err", err)
		rec.State, rec.Error, rec.Progress = stateFailed, err.Error(), 0
		if perr := st.Put(&rec); perr != nil {
			log.Error("store failed upload", "err", perr)
		}
	}
	src, closeAll, err := openUpload(plan)
	if err != nil {
		fail(err)
		return
	}
	defer closeAll()
	af, err := st.NewAudio(rec.ID)
	if err != nil {
		fail(err)
		return
	}
	rate := src.src.Format().SampleRate
	wav, err := audio.NewWAVWriter(af, rate, 2)
	if err != nil {
		af.Abort()
		fail(err)
		return
	}
	pr := &progressReader{src: src, wav: wav, last: time.Now(), report: func(frames int64) {
		if src.frames > 0 {
			s.setProgress(rec.ID, float64(frames)/float64(src.frames))
		}
	}}
	res, err := vad.Analyze(pr, rate, vad.ChannelMap{Channels: src.m.Channels, Rep: src.m.Rep, Customer: src.m.Customer}, vad.DefaultConfig(), s.tallyConfig())
	s.clearProgress(rec.ID)
	if err == nil {
		err = wav.Close()
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
	meter := vad.MeterSeries(res.Segments, res.DurationS, meterStepS, s.tallyConfig())
	rec.Result, rec.Meter = &res, &meter
	rec.DurationS, rec.State, rec.Progress, rec.HasAudio = res.DurationS, stateEnded, 0, true
	if err := st.Put(&rec); err != nil {
		log.Error("store analyzed upload", "err", err)
		return
	}
	for _, p := range plan.files {
		os.Remove(p)
	}
	log.Info("upload analyzed", "duration_s", res.DurationS, "listen_pct", res.ListenPct)
}

// resumeUploads finishes, after a restart, the analyses that were running:
// a call whose upload files are still there is analyzed again, one whose
// files are gone is marked failed. Nothing is left "analyzing" forever.
func (s *Server) resumeUploads(st *DiskStore) {
	rows, _, _ := st.List(ListQuery{})
	for _, row := range rows {
		if row.State != stateAnalyzing {
			continue
		}
		rec, err := st.Get(row.ID)
		if err != nil {
			continue
		}
		paths, _ := st.Uploads(rec.ID)
		plan := analysisPlan{files: map[string]string{}, repRight: rec.RepChannel == "right"}
		for _, p := range paths {
			part := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "upload-"), ".wav")
			plan.files[part] = p
		}
		if len(plan.files) == 0 {
			rec.State, rec.Error = stateFailed, "the service stopped while this upload was analyzed, and its files were lost; upload it again"
			st.Put(rec)
			continue
		}
		s.log.Info("resuming upload analysis after restart", "call", rec.ID)
		s.startAnalysis(st, *rec, plan)
	}
}
