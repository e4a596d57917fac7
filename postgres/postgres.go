// Package postgres opens the call library in a Postgres database through
// github.com/jackc/pgx/v5 (its database/sql driver): the store for a
// contact center's library and for several nodes sharing it. The store is
// sqlstore's; this package brings the driver, the schema's migrations and
// what Postgres needs (row and advisory locks, retries on conflicts).
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"talkratio/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect is Postgres's.
func Dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name:      "postgres",
		ForUpdate: " FOR UPDATE",
		// Two-key advisory locks: (0, 0) for the migrations, (1, hash)
		// for a rep's rollup rows, (2, day) for a day's total.
		LockMigrations: `SELECT pg_advisory_xact_lock(0, 0)`,
		LockRep:        `SELECT pg_advisory_xact_lock(1, hashtext($1))`,
		LockDay:        `SELECT pg_advisory_xact_lock(2, CAST($1 AS INTEGER))`,
		NoLimit:        "ALL",
		Migrations:     migrations,
		IndexesQuery: `SELECT indexname, indexdef FROM pg_indexes
			WHERE schemaname = current_schema() AND tablename = 'calls' AND indexname <> 'calls_pkey'`,
		Retryable: func(err error) bool {
			var pe *pgconn.PgError
			// serialization_failure, deadlock_detected
			return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
		},
	}
}

// Open connects to the database url names (postgres://...; pgx's URL and
// key=value forms, host=/dir for a unix socket) and migrates it.
func Open(ctx context.Context, url string, log *slog.Logger) (*sqlstore.Store, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s, err := sqlstore.Open(ctx, db, db, Dialect(), log)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return s, nil
}
