package sqlstore

import (
	"context"
	"database/sql"
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
			`INSERT INTO rep_days (rep, day, rep_key, ` + rollupColumns + `)
				SELECT rep, day, MIN(rep_key), ` + daySums + ` FROM calls GROUP BY rep, day`,
			`INSERT INTO reps (rep, rep_key, ` + rollupColumns + `)
				SELECT rep, MIN(rep_key), ` + repSums + ` FROM rep_days GROUP BY rep`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
}
