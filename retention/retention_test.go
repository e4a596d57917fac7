package retention

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"talkratio/call"
	"talkratio/inmem"
	"talkratio/sqlite"
)

// audioStore is a call.AudioStore in memory: which calls have audio.
type audioStore struct {
	mu   sync.Mutex
	have map[string]bool
	fail string // DeleteAudio of this id fails
}

func (a *audioStore) CreateAudio(context.Context, string) (call.AudioWriter, error) {
	return nil, errors.New("not used")
}
func (a *audioStore) OpenAudio(context.Context, string) (call.Blob, error) {
	return nil, call.ErrNotFound
}
func (a *audioStore) DeleteAudio(_ context.Context, id string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if id == a.fail {
		return errors.New("disk on fire")
	}
	delete(a.have, id)
	return nil
}

func (a *audioStore) ids() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for id := range a.have {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

type counts map[string]int

func (c counts) Deleted(what string, n int) { c[what] += n }

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// library stores, in s, calls that started d days ago in each state, with
// audio; ids are STATE-DAYS.
func library(t *testing.T, s call.Store, a *audioStore, days ...int) {
	t.Helper()
	for _, state := range []string{call.StateEnded, call.StateFailed, call.StateInterrupted, call.StateLive, call.StateAnalyzing} {
		for _, d := range days {
			id := fmt.Sprintf("%s-%d", state, d)
			r := &call.Record{ID: id, Name: id, State: state, Source: call.SourceUpload,
				StartedAt: now.Add(-time.Duration(d) * 24 * time.Hour), HasAudio: true}
			if err := s.Put(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			a.have[id] = true
		}
	}
}

func stores(t *testing.T) map[string]call.Store {
	sq, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sq.Close() })
	return map[string]call.Store{"inmem": inmem.NewStore(), "sqlite": sq}
}

// listed returns the ids a store lists, and those it says have audio.
func listed(t *testing.T, s call.Store) (all, withAudio []string) {
	t.Helper()
	rows, _, err := s.List(context.Background(), call.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		all = append(all, r.ID)
		if r.HasAudio {
			withAudio = append(withAudio, r.ID)
		}
	}
	slices.Sort(all)
	slices.Sort(withAudio)
	return all, withAudio
}

func TestSweep(t *testing.T) {
	days := []int{1, 29, 31, 89, 91, 400}
	for _, tc := range []struct {
		name             string
		policy           Policy
		calls, withAudio []string // ended/failed/interrupted ids left, by age
		nAudio, nDeleted int
	}{
		{"nothing", Policy{}, []string{"1", "29", "31", "89", "91", "400"}, []string{"1", "29", "31", "89", "91", "400"}, 0, 0},
		{"audio after 30 days", Policy{Audio: 30 * 24 * time.Hour},
			[]string{"1", "29", "31", "89", "91", "400"}, []string{"1", "29"}, 12, 0},
		{"calls after 90 days", Policy{Calls: 90 * 24 * time.Hour},
			[]string{"1", "29", "31", "89"}, []string{"1", "29", "31", "89"}, 0, 6},
		{"both", Policy{Audio: 30 * 24 * time.Hour, Calls: 90 * 24 * time.Hour},
			[]string{"1", "29", "31", "89"}, []string{"1", "29"}, 6, 6},
	} {
		for name, s := range stores(t) {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				a := &audioStore{have: map[string]bool{}}
				library(t, s, a, days...)
				c := counts{}
				sw := &Sweeper{Store: s, Audio: a, Policy: tc.policy, Metrics: c}
				nAudio, nDeleted, err := sw.Sweep(context.Background(), now)
				if err != nil || nAudio != tc.nAudio || nDeleted != tc.nDeleted {
					t.Errorf("sweep: %d audio, %d calls, %v; want %d, %d", nAudio, nDeleted, err, tc.nAudio, tc.nDeleted)
				}
				if c[WhatAudio] != tc.nAudio || c[WhatCall] != tc.nDeleted {
					t.Errorf("counted %v", c)
				}
				// Every finished state alike; live and analyzing calls,
				// however old, untouched.
				var wantAll, wantAudio []string
				for _, st := range []string{call.StateEnded, call.StateFailed, call.StateInterrupted} {
					for _, d := range tc.calls {
						wantAll = append(wantAll, st+"-"+d)
					}
					for _, d := range tc.withAudio {
						wantAudio = append(wantAudio, st+"-"+d)
					}
				}
				for _, st := range []string{call.StateLive, call.StateAnalyzing} {
					for _, d := range days {
						wantAll = append(wantAll, fmt.Sprintf("%s-%d", st, d))
						wantAudio = append(wantAudio, fmt.Sprintf("%s-%d", st, d))
					}
				}
				slices.Sort(wantAll)
				slices.Sort(wantAudio)
				all, withAudio := listed(t, s)
				if !slices.Equal(all, wantAll) {
					t.Errorf("calls left %v\nwant %v", all, wantAll)
				}
				if !slices.Equal(withAudio, wantAudio) {
					t.Errorf("records with audio %v\nwant %v", withAudio, wantAudio)
				}
				if got := a.ids(); !slices.Equal(got, wantAudio) {
					t.Errorf("audio kept %v\nwant %v", got, wantAudio)
				}
				// A second sweep finds nothing more.
				if nA, nD, err := sw.Sweep(context.Background(), now); nA != 0 || nD != 0 || err != nil {
					t.Errorf("second sweep: %d, %d, %v", nA, nD, err)
				}
			})
		}
	}
}

// A call whose audio cannot be deleted is reported and skipped; the rest
// of the sweep goes on, and more than a page of calls is swept.
func TestSweepGoesOnPastAFailure(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			a := &audioStore{have: map[string]bool{}, fail: "ended-100"}
			days := make([]int, 0, sweepPage+50)
			for d := 100; d < 100+sweepPage+50; d++ {
				days = append(days, d)
			}
			library(t, s, a, days...)
			sw := &Sweeper{Store: s, Audio: a, Policy: Policy{Audio: 24 * time.Hour}}
			nAudio, _, err := sw.Sweep(context.Background(), now)
			if want := 3*len(days) - 1; nAudio != want || err == nil {
				t.Errorf("%d calls lost their audio, err %v; want %d and an error", nAudio, err, want)
			}
			if got := a.ids(); len(got) != 2*len(days)+1 || !slices.Contains(got, "ended-100") {
				t.Errorf("%d audio left (want the live, analyzing and failing ones): %v", len(got), got[:min(5, len(got))])
			}
		})
	}
}
