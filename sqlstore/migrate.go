package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

// migration is one version of the schema: NNN_name.sql.
type migration struct {
	version int
	name    string
	body    string
}

func readMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []migration
	for _, n := range names {
		num, _, ok := strings.Cut(strings.TrimPrefix(n, "migrations/"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: want NNN_name.sql", n)
		}
		if len(out) > 0 && out[len(out)-1].version == v {
			return nil, fmt.Errorf("migration %s: version %d twice", n, v)
		}
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: n, body: string(b)})
	}
	return out, nil
}

// migrate brings the schema to the newest version, in one transaction: a
// migration that fails leaves the database as it was. A database newer
// than this binary (a rollback) is refused rather than misread.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := readMigrations(s.d.Migrations)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	return s.write(ctx, "migrate the database", func(tx *sql.Tx) error {
		if s.d.LockMigrations != "" {
			if _, err := tx.ExecContext(ctx, s.d.LockMigrations); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
			return err
		}
		var have int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
			return err
		}
		if n := len(ms); n > 0 && have > ms[n-1].version {
			return fmt.Errorf("the database is at schema version %d, newer than this talkratio knows (%d): run a newer talkratio", have, ms[n-1].version)
		}
		for _, m := range ms {
			if m.version <= have {
				continue
			}
			s.log.Info("migrating the database", "version", m.version, "name", m.name)
			if _, err := tx.ExecContext(ctx, m.body); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			if _, err := tx.ExecContext(ctx, s.d.Rebind(`INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`), m.version, m.name); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
		}
		return nil
	})
}

// Meta reads a value kept in the meta table ("" if none).
func (s *Store) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, s.d.Rebind(`SELECT value FROM meta WHERE key = $1`), key).Scan(&v)
	if err == sql.ErrNoRows {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("meta %s: %w", key, err)
	}
	return v, nil
}

// SetMeta keeps a value in the meta table.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	return s.write(ctx, "meta "+key, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.d.Rebind(`INSERT INTO meta (key, value) VALUES ($1, $2)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`), key, value)
		return err
	})
}
