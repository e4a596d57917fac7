package live

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"talkratio/call"
)

// Retrying a final record the store refused: soon at first, then every
// storeRetryMax, until it is taken.
const (
	storeRetryMin = time.Second
	storeRetryMax = 30 * time.Second
)

// storeFinal stores the call's final record. A store that refuses it (a
// full disk, a database that is down) is retried, with backoff, until it
// takes it: the call is never reported stored when it is not (see
// Tried and StoreErr), nothing of it is dropped, and meanwhile the record
// of its last checkpoint stands (and, should the process die, becomes an
// interrupted call at the next start). The call stays in the registry
// until it is stored.
func (c *Call) storeFinal(ctx context.Context, rec *call.Record) {
	wait := storeRetryMin
	for first := true; ; first = false {
		err := c.cfg.Store.Put(ctx, rec)
		if err != nil {
			c.storeErr.Store(&err)
			c.cfg.Metrics.StoreError()
		} else {
			c.storeErr.Store(nil)
		}
		if first {
			close(c.tried)
		}
		if err == nil {
			if !first {
				c.log.Info("call stored after all")
			}
			return
		}
		c.log.Error("store call: kept, and retried", "err", err, "retry_in", wait.String())
		time.Sleep(wait)
		wait = min(2*wait, storeRetryMax)
	}
}

// Tried is closed once the call's final record was first offered to the
// store; StoreErr then says whether it was taken.
func (c *Call) Tried() <-chan struct{} { return c.tried }

// StoreErr is the store's refusal of the call's final record, nil once it
// is stored (or before it was offered).
func (c *Call) StoreErr() error {
	if p := c.storeErr.Load(); p != nil {
		return *p
	}
	return nil
}

// forget ends a call that never received any audio (an offer that never
// connected): it is not a call, so its record goes and nothing is
// stored, which keeps such offers from filling the library with 0 s
// calls. Its viewers get a final snapshot all the same.
func (c *Call) forget() {
	defer close(c.tried)
	c.recording.abort()
	ctx := context.Background()
	if err := c.cfg.Store.Delete(ctx, c.rec.ID); err != nil && !errors.Is(err, call.ErrNotFound) {
		c.log.Error("remove the record of a call without audio", "err", err)
	}
	c.cfg.Metrics.NoMedia()
	c.cfg.Metrics.CallEnded(c.endReason)
	rec := c.rec
	rec.State = call.StateEnded
	if msg, err := json.Marshal(c.cfg.Rules.FinalSnapshot(&rec)); err == nil {
		_ = c.cfg.Bus.Publish(ctx, c.rec.ID, msg, true)
	}
	c.cfg.Bus.Forget(c.rec.ID)
	c.parent.ended(c)
	c.log.Info("call ended without any audio: not stored", "reason", c.endReason)
}
