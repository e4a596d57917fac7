package main

import (
	"context"
	"errors"
	"log/slog"

	"talkratio/call"
	"talkratio/postgres"
	"talkratio/sqlstore"
)

func openPostgres(ctx context.Context, url string, log *slog.Logger) (*sqlstore.Store, error) {
	return postgres.Open(ctx, url, log)
}

func openS3(ctx context.Context, url string) (call.BlobStore, error) {
	return nil, errors.New("s3: not built yet")
}
