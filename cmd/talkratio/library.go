package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"talkratio/blobdir"
	"talkratio/blobfiles"
	"talkratio/call"
	"talkratio/sqlite"
	"talkratio/sqlstore"
)

// library is the call library serve and migrate work on: the records in a
// database, the audio and uploads in a blob store.
type library struct {
	store *sqlstore.Store
	blobs call.BlobStore
	files *blobfiles.Files
	desc  string // where it is, for the log
}

// dbFile is the SQLite database's name in the data directory.
const dbFile = "talkratio.db"

// migratedKey is the meta key migrate sets once an old data directory is
// imported in full.
const migratedKey = "migrated_from"

// openLibrary opens the database db names (a postgres:// URL, or "" for
// SQLite in dataDir) and the blob store blob names (s3://bucket/prefix, or
// "" for dataDir/blobs).
func openLibrary(ctx context.Context, db, blob, dataDir string, log *slog.Logger) (*library, error) {
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	lib := &library{}
	var err error
	switch {
	case db == "":
		path := filepath.Join(dataDir, dbFile)
		lib.store, err = sqlite.Open(ctx, path, log)
		lib.desc = "sqlite:" + path
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		lib.store, err = openPostgres(ctx, db, log)
		lib.desc = "postgres"
	default:
		return nil, fmt.Errorf("-db %q: want postgres://... (or nothing, for SQLite in the data directory)", db)
	}
	if err != nil {
		return nil, err
	}
	var bs call.BlobStore
	switch {
	case blob == "":
		bs, err = blobdir.Open(filepath.Join(dataDir, "blobs"))
	case strings.HasPrefix(blob, "s3://"):
		bs, err = openS3(ctx, blob)
	default:
		err = fmt.Errorf("-blob %q: want s3://bucket/prefix (or nothing, for a directory in the data directory)", blob)
	}
	if err != nil {
		lib.store.Close()
		return nil, err
	}
	lib.blobs, lib.files = bs, blobfiles.New(bs)
	return lib, nil
}

func (l *library) Close() error { return l.store.Close() }

// oldFormat reports whether dataDir holds calls written by an earlier
// talkratio (one directory per call) that were not imported yet.
func (l *library) oldFormat(ctx context.Context, dataDir string) (bool, error) {
	ents, err := os.ReadDir(filepath.Join(dataDir, "calls"))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("data dir: %w", err)
	}
	if len(ents) == 0 {
		return false, nil
	}
	done, err := l.store.Meta(ctx, migratedKey)
	return done == "", err
}

// libFlags are the -data, -db and -blob flags that name a library, for a
// command to suggest ("" where they are the default).
func libFlags(dataDir, db, blob string) string {
	var s string
	if dataDir != "talkratio-data" {
		s += " -data " + dataDir
	}
	if db != "" {
		s += " -db URL"
	}
	if blob != "" {
		s += " -blob " + blob
	}
	return s
}
