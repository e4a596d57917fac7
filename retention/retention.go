// Package retention deletes what the call library keeps past its time:
// calls' audio after one age, whole calls after another. It works through
// call.Store and call.AudioStore alone (a filtered, ordered List, then
// Delete, DeleteAudio and Put), so every store has it, a database finding
// the old calls by its own index.
//
// A call's age is counted from its start (StartedAt): what a retention
// policy about recordings of people means. Live calls and uploads being
// analyzed are never touched; their turn comes once they are done.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"talkratio/call"
)

// Policy says how long things are kept; 0 keeps them for ever.
type Policy struct {
	// Audio: a call's audio is deleted once the call started longer ago
	// than this; its record and analysis stay.
	Audio time.Duration
	// Calls: the whole call (record, analysis, audio) is deleted once it
	// started longer ago than this.
	Calls time.Duration
}

// On reports whether the policy deletes anything.
func (p Policy) On() bool { return p.Audio > 0 || p.Calls > 0 }

// Metrics counts what a sweep deletes.
type Metrics interface {
	// Deleted: n calls' audio (what "audio") or n whole calls ("call").
	Deleted(what string, n int)
}

// What the metrics count.
const (
	WhatAudio = "audio"
	WhatCall  = "call"
)

// Sweeper applies a policy to a library.
type Sweeper struct {
	Store   call.Store
	Audio   call.AudioStore // nil: the library keeps no audio
	Policy  Policy
	Metrics Metrics // nil counts nothing
	Log     *slog.Logger
}

// sweepPage is how many calls one List of a sweep asks for.
const sweepPage = 200

// done are the states a sweep may delete.
var done = []string{call.StateEnded, call.StateFailed, call.StateInterrupted}

// Sweep deletes, once, what the policy says is past its time at now, and
// returns how many calls lost their audio and how many were deleted. It
// goes on past a call it cannot delete (and reports the first such error).
func (s *Sweeper) Sweep(ctx context.Context, now time.Time) (audio, calls int, err error) {
	var errs []error
	if s.Policy.Calls > 0 {
		calls, err = s.each(ctx, now.Add(-s.Policy.Calls), false, func(row *call.Summary) error {
			if err := s.Store.Delete(ctx, row.ID); err != nil && !errors.Is(err, call.ErrNotFound) {
				return err
			}
			if s.Audio != nil {
				return s.Audio.DeleteAudio(ctx, row.ID)
			}
			return nil
		})
		errs = append(errs, err)
		s.count(WhatCall, calls)
	}
	if s.Policy.Audio > 0 && s.Audio != nil {
		audio, err = s.each(ctx, now.Add(-s.Policy.Audio), true, func(row *call.Summary) error {
			// The audio first: a record that still claims it (its Put
			// failed) is found again by the next sweep, whose DeleteAudio
			// of audio already gone is no error.
			if err := s.Audio.DeleteAudio(ctx, row.ID); err != nil {
				return err
			}
			rec, err := s.Store.Get(ctx, row.ID)
			if err != nil {
				return err
			}
			rec.HasAudio = false
			return s.Store.Put(ctx, rec)
		})
		errs = append(errs, err)
		s.count(WhatAudio, audio)
	}
	return audio, calls, errors.Join(errs...)
}

func (s *Sweeper) count(what string, n int) {
	if s.Metrics != nil && n > 0 {
		s.Metrics.Deleted(what, n)
	}
	if n > 0 && s.Log != nil {
		s.Log.Info("retention", "deleted", what, "calls", n)
	}
}

// each calls del for every finished call that started before cutoff
// (with audio, if withAudio), oldest first, and returns how many it
// deleted. A call del fails on is skipped.
func (s *Sweeper) each(ctx context.Context, cutoff time.Time, withAudio bool, del func(*call.Summary) error) (int, error) {
	n := 0
	var first error
	for _, state := range done {
		var after *call.Summary
		for {
			if err := ctx.Err(); err != nil {
				return n, err
			}
			rows, _, err := s.Store.List(ctx, call.ListQuery{
				State: state, To: cutoff, WithAudio: withAudio,
				Sort: "started_at", Asc: true, After: after, Size: sweepPage,
			})
			if err != nil {
				return n, fmt.Errorf("retention: list %s calls: %w", state, err)
			}
			if len(rows) == 0 {
				break
			}
			for i := range rows {
				if err := del(&rows[i]); err != nil {
					if first == nil {
						first = fmt.Errorf("retention: call %s: %w", rows[i].ID, err)
					}
					continue
				}
				n++
			}
			// The next page starts after this one's last row, deleted or
			// not: a call that could not be deleted is not tried again in
			// this sweep, and the sweep always ends.
			last := rows[len(rows)-1]
			after = &last
		}
	}
	return n, first
}

// Run sweeps at once and then every interval until ctx ends, logging
// what fails (the next sweep tries again).
func (s *Sweeper) Run(ctx context.Context, every time.Duration) {
	if !s.Policy.On() {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, _, err := s.Sweep(ctx, time.Now()); err != nil && ctx.Err() == nil && s.Log != nil {
			s.Log.Error("retention sweep", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
