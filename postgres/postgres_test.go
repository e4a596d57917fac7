package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"

	"talkratio/call"
	"talkratio/internal/storetest"
	"talkratio/sqlstore"
)

// testURL is the Postgres the tests run on: TALKRATIO_TEST_POSTGRES, set
// by .ci/run (a postgres:// URL). Without it they skip, except in CI.
func testURL(t *testing.T) string {
	u := os.Getenv("TALKRATIO_TEST_POSTGRES")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI without TALKRATIO_TEST_POSTGRES: .ci/run starts a Postgres and sets it")
		}
		t.Skip("no Postgres: set TALKRATIO_TEST_POSTGRES=postgres://...")
	}
	return u
}

// schemaName is the test's own schema.
func schemaName(t *testing.T) string {
	schema := fmt.Sprintf("t_%s", strings.ToLower(strings.NewReplacer("/", "_", "-", "_").Replace(t.Name())))
	if len(schema) > 60 {
		schema = schema[:60]
	}
	return schema
}

// fresh opens a store in a schema of its own, dropped after the test.
func fresh(t *testing.T) *sqlstore.Store {
	t.Helper()
	base := testURL(t)
	schema := schemaName(t)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx := context.Background()
	for _, q := range []string{`DROP SCHEMA IF EXISTS ` + schema + ` CASCADE`, `CREATE SCHEMA ` + schema} {
		if _, err := admin.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	v := u.Query()
	v.Set("search_path", schema)
	u.RawQuery = v.Encode()
	s, err := Open(ctx, u.String(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		if a, err := sql.Open("pgx", base); err == nil {
			a.ExecContext(context.Background(), `DROP SCHEMA IF EXISTS `+schema+` CASCADE`)
			a.Close()
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) call.Store { return fresh(t) })
}

func TestLoad(t *testing.T) { storetest.RunLoader(t, fresh(t)) }
