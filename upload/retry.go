package upload

import (
	"context"
	"net/http"
	"time"

	"talkratio/call"
	"talkratio/reply"
)

// Retry analyzes a failed upload again, from the files kept with it (an
// analysis that failed keeps them for this; deleting the call removes
// them). It answers 409 for a call that is not a failed upload, or whose
// files are gone.
func (s *Service) Retry(ctx context.Context, id string) (call.Summary, error) {
	if s.cfg.Staging == nil || s.cfg.Audio == nil {
		return call.Summary{}, reply.Errorf(http.StatusServiceUnavailable, "uploads need a data directory (serve -data DIR)")
	}
	// Two retries at once must not start two analyses: the state moves to
	// analyzing before the lock is let go.
	s.retry.Lock()
	defer s.retry.Unlock()
	rec, err := s.cfg.Store.Get(ctx, id)
	if err != nil {
		return call.Summary{}, err
	}
	if rec.Source != call.SourceUpload || rec.State != call.StateFailed {
		return call.Summary{}, reply.Errorf(http.StatusConflict, "only a failed upload can be retried; call %s is %s (%s)", id, rec.Source, rec.State)
	}
	files, err := s.cfg.Staging.Kept(ctx, id)
	if err != nil {
		return call.Summary{}, s.storeFault("retry upload", err)
	}
	if len(files) == 0 {
		return call.Summary{}, reply.Errorf(http.StatusConflict, "call %s's uploaded files are gone: upload it again", id)
	}
	rec.State, rec.Error, rec.Progress = call.StateAnalyzing, "", 0
	if err := s.cfg.Store.Put(ctx, rec); err != nil {
		return call.Summary{}, s.storeFault("retry upload", err)
	}
	s.cfg.Log.Info("retrying a failed upload", "call", id)
	s.start(*rec, files)
	return rec.Summary(), nil
}

// Retrying a record the store refused: soon at first, then every
// putRetryMax.
const (
	putRetryMin = time.Second
	putRetryMax = 30 * time.Second
)

// putUntilStored stores an analysis' outcome, retrying with backoff while
// the store refuses it (a full disk): the call stays analyzing meanwhile,
// its files kept, and a restart analyzes it again; it is never dropped.
// It gives up only when ctx ends (the service stops).
func (s *Service) putUntilStored(ctx context.Context, rec *call.Record) {
	for wait := putRetryMin; ; wait = min(2*wait, putRetryMax) {
		err := s.cfg.Store.Put(ctx, rec)
		if err == nil {
			return
		}
		s.cfg.Metrics.StoreError()
		s.cfg.Log.Error("store upload's analysis: kept, and retried", "call", rec.ID, "err", err, "retry_in", wait.String())
		select {
		case <-ctx.Done():
			// Shutting down: the call stays analyzing with its files, and
			// the next start analyzes it again.
			return
		case <-time.After(wait):
		}
	}
}
