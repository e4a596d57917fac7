package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"talkratio/importer"
)

const migrateUsage = `Usage:
  talkratio migrate -from OLD_DATA_DIR [-data DIR] [-db URL] [-blob URL]

Imports a data directory written by an earlier talkratio (one directory
per call) into the library serve uses (the same -data, -db and -blob).
The old directory is only read. The import can be stopped and run again:
it skips what is already there and goes on. Every call is then read back
and compared, record and audio. Progress goes to stderr.

Flags:
`

func runMigrate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the old data directory (required)")
	dataDir := fs.String("data", "talkratio-data", "data directory of the new library (as serve's -data)")
	dbURL := fs.String("db", "", "the new library's database (as serve's -db)")
	blobURL := fs.String("blob", "", "the new library's blob store (as serve's -blob)")
	noVerify := fs.Bool("no-verify", false, "skip reading every call back")
	fs.Usage = func() {
		fmt.Fprint(stderr, migrateUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if *from == "" || fs.NArg() > 0 {
		fs.Usage()
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	lib, err := openLibrary(ctx, *dbURL, *blobURL, *dataDir, log)
	if err != nil {
		fmt.Fprintf(stderr, "talkratio migrate: %v\n", err)
		return exitFail
	}
	defer lib.Close()
	rep, err := importer.Run(ctx, importer.Config{From: *from, Store: lib.store, Blobs: lib.blobs, Log: log, NoVerify: *noVerify})
	fmt.Fprintln(stdout, rep)
	if err != nil {
		fmt.Fprintf(stderr, "talkratio migrate: %v\n", err)
		return exitFail
	}
	abs, _ := filepath.Abs(*from)
	if err := lib.store.SetMeta(ctx, migratedKey, abs); err != nil {
		fmt.Fprintf(stderr, "talkratio migrate: %v\n", err)
		return exitFail
	}
	return exitOK
}
