// Package blobfiles keeps calls' audio and uploads' files in a blob store
// (a directory, S3): it implements call.AudioStore and call.Staging on any
// call.BlobStore. With a shared blob store, an upload received by one node
// can be analyzed, or its analysis resumed, by any other.
//
// Keys:
//
//	audio/ID.flac       a call's audio (audio/ID.wav when written by a
//	                    version before FLAC: still served, replaced by new
//	                    audio for the call)
//	staging/NAME        an upload's file being received, or received and
//	                    not yet accepted
//	kept/ID/PART.wav    an accepted upload's files until its analysis is
//	                    stored
package blobfiles

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"talkratio/call"
)

// Files is a call.AudioStore and call.Staging on a blob store.
type Files struct {
	b call.BlobStore
}

var (
	_ call.AudioRecoverer = (*Files)(nil)
	_ call.AudioStore     = (*Files)(nil)
	_ call.Staging        = (*Files)(nil)
)

// New returns the files kept in b.
func New(b call.BlobStore) *Files { return &Files{b: b} }

// AudioKey is the key of a call's audio.
func AudioKey(id string) string { return "audio/" + id + ".flac" }

// LegacyAudioKey is the key of a call's audio in the WAV of the versions
// before FLAC.
func LegacyAudioKey(id string) string { return "audio/" + id + ".wav" }

// KeptKey is the key of an accepted upload's file: part of call id.
func KeptKey(id, part string) string { return keptPrefix(id) + part + ".wav" }

func keptPrefix(id string) string { return "kept/" + id + "/" }

// CreateAudio implements call.AudioStore.
func (f *Files) CreateAudio(ctx context.Context, id string) (call.AudioWriter, error) {
	if !call.ValidID(id) {
		return nil, call.ErrNotFound
	}
	w, err := f.b.Create(ctx, AudioKey(id))
	if err != nil {
		return nil, err
	}
	return &audioWriter{AudioWriter: w, f: f, ctx: ctx, id: id}, nil
}

// audioWriter drops the call's audio in the format before FLAC once the
// new audio is in: it would otherwise linger, never served.
type audioWriter struct {
	call.AudioWriter
	f   *Files
	ctx context.Context
	id  string
}

func (a *audioWriter) Commit() error {
	if err := a.AudioWriter.Commit(); err != nil {
		return err
	}
	return a.f.b.Delete(a.ctx, LegacyAudioKey(a.id))
}

// OpenAudio implements call.AudioStore.
func (f *Files) OpenAudio(ctx context.Context, id string) (call.Blob, error) {
	if !call.ValidID(id) {
		return nil, call.ErrNotFound
	}
	b, err := f.b.Open(ctx, AudioKey(id))
	if errors.Is(err, call.ErrNotFound) {
		return f.b.Open(ctx, LegacyAudioKey(id))
	}
	return b, err
}

// DeleteAudio implements call.AudioStore: the audio goes, and any upload
// files still kept for the call (a call deleted while being analyzed).
func (f *Files) DeleteAudio(ctx context.Context, id string) error {
	if !call.ValidID(id) {
		return nil
	}
	keys, err := f.b.List(ctx, keptPrefix(id))
	if err != nil {
		return err
	}
	for _, k := range append(keys, AudioKey(id), LegacyAudioKey(id)) {
		if err := f.b.Delete(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

// Stage implements call.Staging.
func (f *Files) Stage(ctx context.Context, r io.Reader) (call.Staged, error) {
	name := "upload-" + call.NewID(8) + ".wav"
	w, err := f.b.Create(ctx, "staging/"+name)
	if err != nil {
		return nil, fmt.Errorf("staging: %w", err)
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Abort()
		return nil, err
	}
	if err := w.Commit(); err != nil {
		return nil, fmt.Errorf("staging: %w", err)
	}
	return &staged{f: f, key: "staging/" + name, name: name}, nil
}

// Kept implements call.Staging.
func (f *Files) Kept(ctx context.Context, id string) (map[string]call.Staged, error) {
	if !call.ValidID(id) {
		return nil, call.ErrNotFound
	}
	keys, err := f.b.List(ctx, keptPrefix(id))
	if err != nil {
		return nil, err
	}
	out := map[string]call.Staged{}
	for _, k := range keys {
		part := strings.TrimSuffix(path.Base(k), ".wav")
		out[part] = &staged{f: f, key: k, name: "upload-" + part + ".wav"}
	}
	return out, nil
}

// staged is an uploaded file in the blob store.
type staged struct {
	f         *Files
	key, name string
}

func (s *staged) Name() string { return s.name }

func (s *staged) Open(ctx context.Context) (call.Blob, error) { return s.f.b.Open(ctx, s.key) }

func (s *staged) Keep(ctx context.Context, id, part string) error {
	if !call.ValidID(id) || part == "" || strings.ContainsAny(part, "/\\") || part == "." || part == ".." {
		return fmt.Errorf("keep upload as %q of %q: bad name", part, id)
	}
	to := KeptKey(id, part)
	if err := s.f.b.Move(ctx, s.key, to); err != nil {
		return fmt.Errorf("keep upload: %w", err)
	}
	s.key = to
	return nil
}

func (s *staged) Discard(ctx context.Context) error { return s.f.b.Delete(ctx, s.key) }

// RecoverAudio implements call.AudioRecoverer with what blobdir keeps of
// a write cut short (call.PartialBlobPrefix): a live call's recording, as
// far as it got. FLAC frames stand on their own, so the stream plays up to
// its last whole frame.
func (f *Files) RecoverAudio(ctx context.Context, id string) (bool, error) {
	if !call.ValidID(id) {
		return false, call.ErrNotFound
	}
	err := f.b.Move(ctx, call.PartialBlobPrefix+AudioKey(id), AudioKey(id))
	if errors.Is(err, call.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// PartialAudio implements call.AudioRecoverer.
func (f *Files) PartialAudio(ctx context.Context) ([]string, error) {
	keys, err := f.b.List(ctx, call.PartialBlobPrefix+"audio/")
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, k := range keys {
		if id, ok := strings.CutSuffix(path.Base(k), ".flac"); ok && call.ValidID(id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// DropPartialAudio implements call.AudioRecoverer.
func (f *Files) DropPartialAudio(ctx context.Context, id string) error {
	if !call.ValidID(id) {
		return nil
	}
	return f.b.Delete(ctx, call.PartialBlobPrefix+AudioKey(id))
}

// DropPartialUploads implements call.AudioRecoverer.
func (f *Files) DropPartialUploads(ctx context.Context) (int, error) {
	keys, err := f.b.List(ctx, call.PartialBlobPrefix+"staging/")
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := f.b.Delete(ctx, k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}
