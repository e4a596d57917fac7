package call

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrNotFound is returned for an unknown call id, and for what a call does
// not have (its audio, say).
var ErrNotFound = errors.New("no such call")

// ErrCorrupt is returned for a call whose record exists but cannot be
// read (damaged on disk): it is still listed, and can be deleted.
var ErrCorrupt = errors.New("this call's record is damaged and cannot be read; an admin can delete the call")

// Store keeps call records. The embedded default is an SQLite file
// (sqlite), a multi-node deployment shares a Postgres database (postgres),
// both through sqlstore; tests use memory (inmem) or the data directory of
// earlier versions (disk). internal/storetest holds every one to the same
// behaviour.
//
// Live calls are in the store too: a live call writes its record (state
// live) when it starts and refreshes it every few seconds and at its end,
// so that the store alone answers which calls exist.
type Store interface {
	// Put creates or replaces a record. A reader never sees a record half
	// written.
	Put(ctx context.Context, r *Record) error
	// Get returns a record, or ErrNotFound (also for an id that is not
	// ValidID).
	Get(ctx context.Context, id string) (*Record, error)
	// List returns one page of the rows matching q, in the order Sort
	// gives, and how many match in all.
	List(ctx context.Context, q ListQuery) ([]Summary, int, error)
	// Delete removes a record and whatever the store keeps with it, or
	// returns ErrNotFound.
	Delete(ctx context.Context, id string) error
	// RepStats returns each rep's figures over their ended calls, as
	// RepStatsOf computes them, sorted by rep; rep, if not "", limits
	// them to that rep (case-insensitive).
	RepStats(ctx context.Context, rep string) ([]RepStats, error)
}

// Blob is a stored file opened for reading. It seeks, and tells its size
// and when it was written, which is what serving HTTP Range requests from
// any backend takes.
type Blob interface {
	io.ReadSeekCloser
	Size() int64
	ModTime() time.Time
}

// AudioRate is the highest rate calls' audio is stored at: the rate live
// calls are analyzed at, which keeps the whole speech band (the detector
// looks no higher). Audio recorded at more is resampled to it; audio at
// less is kept at its own rate.
const AudioRate = 16000

// AudioStore keeps calls' audio: FLAC, 16-bit, the rep on the left and the
// customer on the right, at AudioRate or below (a store written by an
// older version may also hold WAVs). The bytes are whatever the writer
// wrote; the store does not look into them.
type AudioStore interface {
	// CreateAudio starts writing a call's audio. It becomes the call's
	// audio on Commit and disappears on Abort; until then nobody sees it.
	CreateAudio(ctx context.Context, id string) (AudioWriter, error)
	// OpenAudio opens a call's audio, or returns ErrNotFound.
	OpenAudio(ctx context.Context, id string) (Blob, error)
	// DeleteAudio removes a call's audio; a call without audio is no
	// error.
	DeleteAudio(ctx context.Context, id string) error
}

// PartialBlobPrefix is where a BlobStore that can (a directory) keeps,
// under its key, a blob whose writing a crash cut short, as far as it got.
const PartialBlobPrefix = "partial/"

// AudioRecoverer is an AudioStore that keeps what a crash cut short.
// Nothing recorded with consent is deleted at start.
type AudioRecoverer interface {
	// PartialAudio lists the calls whose audio was being written when the
	// service stopped.
	PartialAudio(ctx context.Context) ([]string, error)
	// RecoverAudio makes a call's partial audio, as far as it got, the
	// call's audio; false when there is none.
	RecoverAudio(ctx context.Context, id string) (bool, error)
	// DropPartialAudio removes a call's partial audio (an upload's, whose
	// analysis writes it again).
	DropPartialAudio(ctx context.Context, id string) error
	// DropPartialUploads removes the uploads that were being received when
	// the service stopped (never accepted: their clients got no answer)
	// and returns how many.
	DropPartialUploads(ctx context.Context) (int, error)
}

// AudioWriter is a call's audio being written. It seeks, because a FLAC
// stream's header (its length, its seek table) is written last.
type AudioWriter interface {
	io.WriteSeeker
	// Commit makes what was written the call's audio.
	Commit() error
	// Abort throws it away; after Commit it does nothing.
	Abort()
}

// Staging keeps uploaded files until their analysis is stored: received
// first, kept with their call once the upload is accepted (so that a
// restart can finish the analysis), discarded once analyzed.
type Staging interface {
	// Stage receives one uploaded file from r. It belongs to no call
	// yet; on error nothing is left.
	Stage(ctx context.Context, r io.Reader) (Staged, error)
	// Kept returns the files kept for a call (see Staged.Keep), by part
	// name; none is an empty map.
	Kept(ctx context.Context, id string) (map[string]Staged, error)
}

// Staged is one uploaded file.
type Staged interface {
	// Name is the file's own name, given by the staging (it names an
	// upload that came without a name).
	Name() string
	// Open reads the file.
	Open(ctx context.Context) (Blob, error)
	// Keep ties the file to a call, as the named part of its upload.
	Keep(ctx context.Context, id, part string) error
	// Discard removes the file.
	Discard(ctx context.Context) error
}

// BlobStore keeps named files (keys such as "audio/ID.wav", slash
// separated): a local directory, or S3-compatible object storage shared by
// every node. AudioStore and Staging are built on one.
type BlobStore interface {
	// Create starts writing a blob. It appears under key on Commit,
	// whole, replacing any blob there; on Abort nothing is left.
	Create(ctx context.Context, key string) (AudioWriter, error)
	// Open opens a blob, or returns ErrNotFound.
	Open(ctx context.Context, key string) (Blob, error)
	// Move renames a blob (replacing one at to), or returns ErrNotFound.
	Move(ctx context.Context, from, to string) error
	// Delete removes a blob; a missing one is no error.
	Delete(ctx context.Context, key string) error
	// List returns the keys that start with prefix, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
}

// BlobUsage is implemented by blob stores that can tell cheaply how much
// they hold under a key prefix: the disk-usage metrics use it.
type BlobUsage interface {
	Usage(ctx context.Context, prefix string) (blobs int, bytes int64, err error)
}
