// Command talkratio-gen makes a synthetic call library for benchmarks and
// migration tests: N ended calls over R reps and D days (callgen's
// records: real tallies, ~14 KB of JSON each).
//
//	talkratio-gen -n 1000000 -data DIR             SQLite, as serve -data DIR reads it
//	talkratio-gen -n 1000000 -db postgres://...    Postgres, as serve -db reads it
//	talkratio-gen -n 100000 -old DIR               the format of earlier versions
//	                                               (for talkratio migrate), with audio
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"talkratio/call"
	"talkratio/callgen"
	"talkratio/postgres"
	"talkratio/sqlite"
	"talkratio/sqlstore"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("talkratio-gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 10000, "calls")
	reps := fs.Int("reps", 500, "reps")
	days := fs.Int("days", 365, "days the calls spread over, ending -end")
	end := fs.String("end", "2026-11-30", "the last day (YYYY-MM-DD)")
	seed := fs.Uint64("seed", 1, "seed: the same seed gives the same library")
	dataDir := fs.String("data", "", "data directory: SQLite, as talkratio serve -data reads it")
	db := fs.String("db", "", "Postgres URL, as talkratio serve -db reads it")
	old := fs.String("old", "", "write this data directory in the format of earlier versions instead")
	audioBytes := fs.Int("audio-bytes", 4096, "with -old: size of each audio file (calls with audio: one in ten)")
	batch := fs.Int("batch", 2000, "calls per transaction")
	skip := fs.Int("skip", 0, "with -data or -db: start at this call (the calls before it are loaded already: a load stopped and resumed)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	last, err := time.Parse(time.DateOnly, *end)
	if err != nil || *n < 0 || *reps < 0 || *days <= 0 || *batch <= 0 {
		fmt.Fprintln(stderr, "talkratio-gen: bad -end, -n, -reps, -days or -batch")
		return 2
	}
	from := last.AddDate(0, 0, 1-*days)
	g := callgen.New(*reps, from, time.Duration(*days)*24*time.Hour, *seed)
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx := context.Background()
	start := time.Now()
	switch {
	case *old != "":
		err = writeOld(g, *old, *n, *audioBytes, log)
	case *dataDir != "" || *db != "":
		err = load(ctx, g, *dataDir, *db, *skip, *n, *batch, log)
	default:
		err = fmt.Errorf("name -data, -db or -old")
	}
	if err != nil {
		fmt.Fprintf(stderr, "talkratio-gen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%d calls in %.1f s\n", *n, time.Since(start).Seconds())
	return 0
}

func load(ctx context.Context, g *callgen.Generator, dataDir, db string, skip, n, batch int, log *slog.Logger) error {
	var s *sqlstore.Store
	var err error
	if db != "" {
		s, err = postgres.Open(ctx, db, log)
	} else {
		if err := os.MkdirAll(dataDir, 0o750); err != nil {
			return err
		}
		s, err = sqlite.Open(ctx, filepath.Join(dataDir, "talkratio.db"), log)
	}
	if err != nil {
		return err
	}
	defer s.Close()
	last := time.Now()
	recs := make([]*call.Record, 0, batch)
	fill := func() error {
		for i := skip; i < n; i++ {
			recs = append(recs, g.Record(i))
			if len(recs) == batch || i == n-1 {
				if err := s.Load(ctx, recs); err != nil {
					return err
				}
				recs = recs[:0]
				if time.Since(last) > 5*time.Second {
					last = time.Now()
					log.Info("loading", "done", i+1, "of", n)
				}
			}
		}
		return nil
	}
	// A large load into an empty library is far faster with the indexes
	// built after it.
	if n-skip >= 100000 {
		err = s.WithoutIndexes(ctx, fill)
	} else {
		err = fill()
	}
	if err != nil {
		return err
	}
	log.Info("rebuilding the rollup")
	return s.RebuildRollup(ctx)
}

// writeOld writes calls as the data directory of earlier versions kept
// them: calls/ID/call.json (the record as JSON) and calls/ID/audio.wav.
func writeOld(g *callgen.Generator, dir string, n, audioBytes int, log *slog.Logger) error {
	last := time.Now()
	audio := make([]byte, audioBytes)
	for i := 0; i < n; i++ {
		r := g.Record(i)
		cd := filepath.Join(dir, "calls", r.ID)
		if err := os.MkdirAll(cd, 0o750); err != nil {
			return err
		}
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(cd, "call.json"), b, 0o640); err != nil {
			return err
		}
		if r.HasAudio {
			copy(audio, "RIFF")
			for j := 4; j < len(audio); j++ {
				audio[j] = byte(i + j) // each file its own bytes
			}
			if err := os.WriteFile(filepath.Join(cd, "audio.wav"), audio, 0o640); err != nil {
				return err
			}
		}
		if time.Since(last) > 5*time.Second {
			last = time.Now()
			log.Info("writing", "done", i+1, "of", n)
		}
	}
	return nil
}
