package main

import (
	"context"
	"log/slog"

	"talkratio/call"
	"talkratio/postgres"
	"talkratio/s3blob"
	"talkratio/sqlstore"
)

func openPostgres(ctx context.Context, url string, log *slog.Logger) (*sqlstore.Store, error) {
	return postgres.Open(ctx, url, log)
}

func openS3(ctx context.Context, url string) (call.BlobStore, error) {
	return s3blob.Open(ctx, s3blob.ConfigFromEnv(url))
}
