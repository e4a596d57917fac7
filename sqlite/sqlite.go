// Package sqlite opens the call library in an SQLite file through the
// CGO-free modernc.org/sqlite: the embedded default, no setup. The store
// itself is sqlstore's; this package brings the driver, the schema's
// migrations and what SQLite needs (WAL, one writer).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"talkratio/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// placeholder matches the $N placeholders sqlstore writes; SQLite's
// numbered ones are ?N.
var placeholder = regexp.MustCompile(`\$(\d+)`)

// Dialect is SQLite's.
func Dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name:       "sqlite",
		Rebind:     func(q string) string { return placeholder.ReplaceAllString(q, "?$1") },
		NoLimit:    "-1",
		Migrations: migrations,
		IndexesQuery: `SELECT name, sql FROM sqlite_master
			WHERE type = 'index' AND tbl_name = 'calls' AND sql IS NOT NULL`,
	}
}

// Open opens (creating if needed) the database file at path and migrates
// it. Reads go through a pool; writes through one connection, as SQLite
// takes one writer at a time (and a second would only wait on the lock).
func Open(ctx context.Context, path string, log *slog.Logger) (*sqlstore.Store, error) {
	pragmas := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)", "synchronous(NORMAL)"} {
		pragmas.Add("_pragma", p)
	}
	dsn := "file:" + path + "?" + pragmas.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	wdb, err := sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	db.SetMaxOpenConns(8)
	s, err := sqlstore.Open(ctx, db, wdb, Dialect(), log)
	if err != nil {
		db.Close()
		wdb.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}
