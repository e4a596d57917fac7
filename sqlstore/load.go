package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"talkratio/call"
)

// Load writes records in bulk (a generator, a benchmark's library): one
// transaction, the details compressed in parallel, and no rollup upkeep,
// so RebuildRollup must follow before the store is used. Records already
// there are replaced.
func (s *Store) Load(ctx context.Context, recs []*call.Record) error {
	bodies := make([][]byte, len(recs))
	errs := make([]error, len(recs))
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(recs); i += workers {
				if !call.ValidID(recs[i].ID) {
					errs[i] = fmt.Errorf("store call %q: bad id", recs[i].ID)
					continue
				}
				bodies[i], errs[i] = s.compressDetail(recs[i])
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return s.write(ctx, fmt.Sprintf("load %d calls", len(recs)), func(tx *sql.Tx) error {
		calls, err := tx.PrepareContext(ctx, s.q.upsertCall)
		if err != nil {
			return err
		}
		defer calls.Close()
		details, err := tx.PrepareContext(ctx, s.q.upsertDetail)
		if err != nil {
			return err
		}
		defer details.Close()
		for i, r := range recs {
			c := columnsOf(r)
			if _, err := calls.ExecContext(ctx, c.args()...); err != nil {
				return fmt.Errorf("call %s: %w", r.ID, err)
			}
			if _, err := details.ExecContext(ctx, r.ID, bodies[i]); err != nil {
				return fmt.Errorf("call %s: %w", r.ID, err)
			}
		}
		return nil
	})
}

// RebuildRollup recounts the whole rollup from the calls: after Load, or
// to repair a database edited by hand.
func (s *Store) RebuildRollup(ctx context.Context) error {
	return s.write(ctx, "rebuild the rollup", func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM reps`,
			`DELETE FROM rep_days`,
			`DELETE FROM days`,
			`INSERT INTO rep_days (rep, day, rep_key, ` + rollupColumns + `)
				SELECT rep, day, MIN(rep_key), ` + daySums + ` FROM calls GROUP BY rep, day`,
			`INSERT INTO reps (rep, rep_key, ` + rollupColumns + `)
				SELECT rep, MIN(rep_key), ` + repSums + ` FROM rep_days GROUP BY rep`,
			`INSERT INTO days (day, n_all) SELECT day, SUM(n_all) FROM rep_days GROUP BY day`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
}

// WithoutIndexes runs fn (a bulk Load into an empty library) with the
// calls table's secondary indexes dropped, and builds them again after:
// building an index from a million rows at once is many times faster
// than growing it by random inserts. If fn fails, the indexes are built
// all the same.
func (s *Store) WithoutIndexes(ctx context.Context, fn func() error) error {
	if s.d.IndexesQuery == "" {
		return fn()
	}
	rows, err := s.db.QueryContext(ctx, s.d.IndexesQuery)
	if err != nil {
		return fmt.Errorf("indexes: %w", err)
	}
	type index struct{ name, def string }
	var idx []index
	for rows.Next() {
		var i index
		if err := rows.Scan(&i.name, &i.def); err != nil {
			rows.Close()
			return fmt.Errorf("indexes: %w", err)
		}
		idx = append(idx, i)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("indexes: %w", err)
	}
	for _, i := range idx {
		if _, err := s.wdb.ExecContext(ctx, `DROP INDEX `+i.name); err != nil {
			return fmt.Errorf("drop index %s: %w", i.name, err)
		}
	}
	ferr := fn()
	for _, i := range idx {
		s.log.Info("building index", "name", i.name)
		if _, err := s.wdb.ExecContext(ctx, i.def); err != nil {
			return errors.Join(ferr, fmt.Errorf("build index %s: %w", i.name, err))
		}
	}
	return ferr
}
