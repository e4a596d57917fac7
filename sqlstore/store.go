// Package sqlstore keeps the call library in a SQL database through
// database/sql: one code path for every database, with what differs (the
// placeholders, the schema's types, locking) in a Dialect. Packages sqlite
// and postgres open a database and hand it here.
//
// The schema (migrations in each dialect's package, run at start):
//
//	calls         one row per call: its metadata and the figures the list
//	              shows, sorts and filters by, with an index per order
//	call_details  the whole record (the analysis with its segments, the
//	              meter) as gzip-compressed JSON: only Get reads it, never a
//	              list
//	rep_days      per rep and UTC day: how many calls, and the sums behind
//	              the rep's figures over the ended ones
//	reps          the same per rep, summed from rep_days
//	days          calls per UTC day, all reps together (a range's total)
//	meta          key/value: what migrate imported
//
// Every write keeps rep_days, reps and days up to date in its transaction,
// by recounting the (few dozen) calls of the rep and day it touched, so
// that the rollup cannot drift from the calls; /api/reps, trends and the
// list's total read the rollup, never the calls.
package sqlstore

import (
	"compress/gzip"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	"talkratio/call"
)

// Dialect is what differs between the databases behind the one code path.
type Dialect struct {
	Name string // "sqlite", "postgres"
	// Rebind turns the $1-style placeholders every query is written with
	// into the driver's; nil keeps them.
	Rebind func(query string) string
	// ForUpdate locks what a SELECT reads until the transaction ends; ""
	// where a writer holds the whole database anyway (SQLite).
	ForUpdate string
	// LockMigrations, run first in the migrations' transaction, keeps
	// several processes starting at once from migrating twice; "" where
	// the transaction already excludes other writers.
	LockMigrations string
	// LockRep, run with a rep's name, locks that rep's rollup rows until
	// the transaction ends; "" where one writer holds the database.
	LockRep string
	// LockDay, run with a day number, does the same for a day's total,
	// which every rep's writes of that day change.
	LockDay string
	// NoLimit is the LIMIT that means none (an OFFSET needs one in SQLite).
	NoLimit string
	// IndexesQuery lists the calls table's secondary indexes: name and
	// the statement that creates it (for bulk loads).
	IndexesQuery string
	// Migrations holds the schema's versions as migrations/NNN_name.sql.
	Migrations fs.FS
	// Retryable says whether a transaction failed only because another
	// one got in its way (a deadlock, a serialization failure), so that
	// running it again can succeed.
	Retryable func(error) bool
}

// Store is a call.Store on a SQL database.
type Store struct {
	db, wdb *sql.DB // reads, and writes (one connection for SQLite)
	d       Dialect
	log     *slog.Logger
	q       queries
	// put's statements, prepared once on the writer: SQLite parses a
	// statement's text each time it is run unprepared, which was a
	// quarter of a live call's checkpoint (one every 2 s per call).
	putStmts struct{ selectOld, upsertCall, upsertDetail *sql.Stmt }
	// gzips are reused: a gzip.Writer allocates some 800 KB of tables, and
	// a live call is written every few seconds.
	gzips sync.Pool
}

var (
	_ call.Store       = (*Store)(nil)
	_ call.Trends      = (*Store)(nil)
	_ call.BatchPutter = (*Store)(nil)
)

// writeAttempts: a write that loses a deadlock or a serialization race to
// another node's is run again, a few times, before its error is returned.
const writeAttempts = 3

// Open migrates the database to the newest schema and returns the store.
// Reads go to db and writes to wdb (the same pool, except where the
// database takes one writer at a time).
func Open(ctx context.Context, db, wdb *sql.DB, d Dialect, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.Default()
	}
	if d.Rebind == nil {
		d.Rebind = func(q string) string { return q }
	}
	if d.Retryable == nil {
		d.Retryable = func(error) bool { return false }
	}
	s := &Store{db: db, wdb: wdb, d: d, log: log}
	// The fastest level: a live call's record is rewritten every few
	// seconds, and the JSON of numbers still shrinks about fourfold.
	s.gzips.New = func() any {
		zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // a valid level: no error
		return zw
	}
	s.q = buildQueries(d)
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		st    **sql.Stmt
		query string
	}{{&s.putStmts.selectOld, s.q.selectOld}, {&s.putStmts.upsertCall, s.q.upsertCall}, {&s.putStmts.upsertDetail, s.q.upsertDetail}} {
		st, err := wdb.PrepareContext(ctx, p.query)
		if err != nil {
			return nil, fmt.Errorf("prepare %q: %w", p.query, err)
		}
		*p.st = st
	}
	return s, nil
}

// Dialect returns the store's dialect.
func (s *Store) Dialect() Dialect { return s.d }

// write runs fn in a transaction on the writer, again if it lost a race.
func (s *Store) write(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	var err error
	for attempt := 0; attempt < writeAttempts; attempt++ {
		if err = s.tryWrite(ctx, fn); err == nil || !s.d.Retryable(err) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func (s *Store) tryWrite(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Put implements call.Store.
func (s *Store) Put(ctx context.Context, r *call.Record) error {
	if !call.ValidID(r.ID) {
		return fmt.Errorf("store call %q: bad id", r.ID)
	}
	return s.write(ctx, "store call "+r.ID, func(tx *sql.Tx) error {
		t := touched{}
		if err := s.put(ctx, tx, r, t); err != nil {
			return err
		}
		return s.refresh(ctx, tx, t)
	})
}

// PutBatch implements call.BatchPutter: one transaction, and each rep and
// day touched recounted once.
func (s *Store) PutBatch(ctx context.Context, recs []*call.Record) error {
	for _, r := range recs {
		if !call.ValidID(r.ID) {
			return fmt.Errorf("store call %q: bad id", r.ID)
		}
	}
	return s.write(ctx, fmt.Sprintf("store %d calls", len(recs)), func(tx *sql.Tx) error {
		t := touched{}
		for _, r := range recs {
			if err := s.put(ctx, tx, r, t); err != nil {
				return fmt.Errorf("call %s: %w", r.ID, err)
			}
		}
		return s.refresh(ctx, tx, t)
	})
}

// put writes one record and notes which rollup rows it changes.
func (s *Store) put(ctx context.Context, tx *sql.Tx, r *call.Record, t touched) error {
	var old repDay
	var oldState string
	err := tx.StmtContext(ctx, s.putStmts.selectOld).QueryRowContext(ctx, r.ID).Scan(&old.rep, &old.day, &oldState)
	found := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	c := columnsOf(r)
	if _, err := tx.StmtContext(ctx, s.putStmts.upsertCall).ExecContext(ctx, c.args()...); err != nil {
		return err
	}
	body, err := s.compressDetail(r)
	if err != nil {
		return err
	}
	if _, err := tx.StmtContext(ctx, s.putStmts.upsertDetail).ExecContext(ctx, r.ID, body); err != nil {
		return err
	}
	now := repDay{rep: r.Rep, day: c.day}
	// A live call's checkpoints and an analysis's progress change nothing
	// the rollup counts: only a new call, a move to another rep or day,
	// and an ended call's figures do.
	if !found || old != now || oldState == call.StateEnded || r.State == call.StateEnded {
		if found {
			t[old] = true
		}
		t[now] = true
	}
	return nil
}

// Get implements call.Store.
func (s *Store) Get(ctx context.Context, id string) (*call.Record, error) {
	if !call.ValidID(id) {
		return nil, call.ErrNotFound
	}
	var body []byte
	err := s.db.QueryRowContext(ctx, s.q.selectRecord, id).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, call.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read call %s: %w", id, err)
	}
	r, err := decompressDetail(body)
	if err != nil {
		return nil, fmt.Errorf("read call %s: %w (%v)", id, call.ErrCorrupt, err)
	}
	r.ApplyListenRule()
	return r, nil
}

// Delete implements call.Store.
func (s *Store) Delete(ctx context.Context, id string) error {
	if !call.ValidID(id) {
		return call.ErrNotFound
	}
	return s.write(ctx, "delete call "+id, func(tx *sql.Tx) error {
		var old repDay
		var state string
		err := tx.QueryRowContext(ctx, s.q.selectOld, id).Scan(&old.rep, &old.day, &state)
		if errors.Is(err, sql.ErrNoRows) {
			return call.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q.deleteDetail, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q.deleteCall, id); err != nil {
			return err
		}
		return s.refresh(ctx, tx, touched{old: true})
	})
}

// InterruptLive marks the live calls of a service that stopped without
// ending them as interrupted, with the analysis of their last checkpoint.
// Only a single node may do this at start: in a cluster the live calls are
// other nodes'.
func (s *Store) InterruptLive(ctx context.Context) error {
	rows, _, err := s.List(ctx, call.ListQuery{State: call.StateLive})
	if err != nil {
		return fmt.Errorf("interrupted calls: %w", err)
	}
	for _, row := range rows {
		rec, err := s.Get(ctx, row.ID)
		if errors.Is(err, call.ErrCorrupt) {
			// One damaged record must not keep the service from starting.
			s.log.Error("a live call's record is damaged: left as it is", "id", row.ID, "err", err)
			continue
		}
		if err != nil {
			return fmt.Errorf("interrupted calls: %w", err)
		}
		rec.Interrupt()
		s.log.Warn("a live call was not ended by its service: kept as interrupted", "id", rec.ID, "duration_s", rec.DurationS)
		if err := s.Put(ctx, rec); err != nil {
			return fmt.Errorf("interrupted calls: %w", err)
		}
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	err := s.db.Close()
	if s.wdb != s.db {
		err = errors.Join(err, s.wdb.Close())
	}
	return err
}

// clampNanos is t in Unix nanoseconds, clamped to what int64 holds (years
// 1678-2262): the order and the ranges of calls outside those years are
// approximate, their stored start exact.
func clampNanos(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return minTime.UnixNano()
	case t.After(maxTime):
		return maxTime.UnixNano()
	}
	return t.UnixNano()
}

var (
	minTime = time.Unix(0, -1<<63).UTC()
	maxTime = time.Unix(0, 1<<63-1).UTC()
)

// dayNanos is one UTC day.
const dayNanos = int64(24 * time.Hour)

// dayOf is the UTC day number (days since 1970-01-01) of ns.
func dayOf(ns int64) int64 {
	d := ns / dayNanos
	if ns%dayNanos < 0 {
		d--
	}
	return d
}
