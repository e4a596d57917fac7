package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"talkratio/auth"
	"talkratio/call"
	"talkratio/reply"
)

// handleAddComment answers POST /api/calls/{id}/comments with a JSON
// {"at_s": SECONDS, "text": "..."}: a coach's note on a moment of an
// ended call, kept with the call. The answer is 201 with the comment.
func (s *Server) handleAddComment(w http.ResponseWriter, r *http.Request) {
	var in struct {
		AtS  *float64 `json:"at_s"`
		Text string   `json:"text"`
	}
	body := http.MaxBytesReader(w, r.Body, 4*call.MaxCommentBytes)
	if err := json.NewDecoder(body).Decode(&in); err != nil && !errors.Is(err, io.EOF) {
		reply.WriteError(w, reply.Errorf(http.StatusBadRequest, "want JSON {\"at_s\": SECONDS, \"text\": \"...\"}: %v", err))
		return
	}
	if in.AtS == nil {
		reply.WriteError(w, reply.Errorf(http.StatusBadRequest, "at_s: the moment (seconds into the call) is missing"))
		return
	}
	var added call.Comment
	err := s.editCall(r, func(rec *call.Record) error {
		c, err := rec.AddComment(*in.AtS, in.Text, principalOf(r).Subject, time.Now())
		added = c
		if errors.Is(err, call.ErrCommentRefused) {
			return reply.Errorf(http.StatusBadRequest, "%v", err)
		}
		return err
	})
	if err != nil {
		reply.WriteError(w, err)
		return
	}
	w.Header().Set("Location", "/api/calls/"+r.PathValue("id")+"/comments/"+added.ID)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	reply.Body(w, added)
}

// handleDeleteComment answers DELETE /api/calls/{id}/comments/{cid}: its
// author or an admin removes a comment (204).
func (s *Server) handleDeleteComment(w http.ResponseWriter, r *http.Request) {
	cid := r.PathValue("cid")
	p := principalOf(r)
	err := s.editCall(r, func(rec *call.Record) error {
		for _, c := range rec.Comments {
			if c.ID == cid && c.Author != p.Subject && !p.Has(auth.Admin) {
				return reply.Errorf(http.StatusForbidden, "only its author or an admin deletes a comment")
			}
		}
		if !rec.DeleteComment(cid) {
			return reply.Errorf(http.StatusNotFound, "call %s has no comment %q", rec.ID, cid)
		}
		return nil
	})
	if err != nil {
		reply.WriteError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// editCall changes a call the caller may see, one edit at a time in this
// process, and stores it. Only a call that is over takes comments: a live
// call's record is rewritten as it goes, an upload's when analyzed.
func (s *Server) editCall(r *http.Request, edit func(*call.Record) error) error {
	s.editMu.Lock()
	defer s.editMu.Unlock()
	rec, err := s.visibleCall(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if rec.State == call.StateLive || rec.State == call.StateAnalyzing {
		return reply.Errorf(http.StatusConflict, "call %s is %s: comment on it once it is over", rec.ID, rec.State)
	}
	if err := edit(rec); err != nil {
		return err
	}
	return s.store.Put(r.Context(), rec)
}
