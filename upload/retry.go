package upload

import (
	"context"
	"net/http"

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
