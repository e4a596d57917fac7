package whip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/pion/webrtc/v4"

	"talkratio/auth"
	"talkratio/call"
	"talkratio/live"
	"talkratio/reply"
)

// WHIP limits.
const (
	// maxSDPBytes: a browser offer with two audio tracks is ~5 KB; 64 KiB
	// leaves room for many candidates and extensions.
	maxSDPBytes = 64 << 10
	// gatherTimeout bounds how long an answer waits for ICE gathering
	// (WHIP without trickle sends all candidates in the answer).
	gatherTimeout = 5 * time.Second
	// deleteWait: a DELETE that ends a call waits this long for the call
	// to be stored, so that it is in the library when DELETE returns.
	deleteWait = 5 * time.Second
	// CapacityRetrySeconds is the Retry-After of an offer refused at the
	// live-call cap: calls last minutes, so a few seconds is a fair wait.
	CapacityRetrySeconds = 5
)

// HandleOffer answers POST /whip: an SDP offer in, 201 with the answer
// out. The caller checks the principal may publish, and that the service
// is not draining.
func (s *Server) HandleOffer(w http.ResponseWriter, r *http.Request) {
	if err := s.offer(w, r); err != nil {
		reply.WriteError(w, err)
	}
}

func (s *Server) offer(w http.ResponseWriter, r *http.Request) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/sdp" {
		return reply.Errorf(http.StatusUnsupportedMediaType, "POST /whip takes an SDP offer with Content-Type: application/sdp")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSDPBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return reply.Errorf(http.StatusRequestEntityTooLarge, "the SDP offer is larger than %d bytes", maxSDPBytes)
		}
		return reply.Errorf(http.StatusBadRequest, "reading the offer: %v", err)
	}
	info, err := inspectOffer(body)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	plan, err := planRoles(info, q)
	if err != nil {
		return err
	}
	rep, ok := auth.FromContext(r.Context()).PublishAs(strings.TrimSpace(q.Get("rep")))
	if !ok {
		return reply.Errorf(http.StatusForbidden, "your token publishes calls of %s only", rep)
	}
	q.Set("rep", rep)
	c, created, err := s.callFor(r.Context(), plan, q)
	var elsewhere *live.ElsewhereError
	if errors.As(err, &elsewhere) {
		// Per-role sessions of one call meet on the node that holds it
		// (RFC 9725 lets a WHIP endpoint redirect with 307).
		if elsewhere.Holder.URL == "" {
			return &reply.Error{Code: http.StatusServiceUnavailable, RetryAfter: CapacityRetrySeconds,
				Msg: fmt.Sprintf("call %s is on node %s, which has not said where it is yet", q.Get("call"), elsewhere.Holder.ID)}
		}
		return &reply.Error{Code: http.StatusTemporaryRedirect, Location: elsewhere.Holder.URL + "/whip?" + r.URL.RawQuery,
			Msg: fmt.Sprintf("call %s is on node %s", q.Get("call"), elsewhere.Holder.ID)}
	}
	if err != nil {
		return err
	}
	var sess *session
	var answer string
	if s.lite != nil {
		sess, answer, err = s.newLiteSession(c, plan, body)
	} else {
		sess, answer, err = s.newSession(r.Context(), c, plan, string(bundleOne(body, info)))
	}
	if err == nil && !accepted(answer) {
		sess.end(live.EndError)
		err = reply.Errorf(http.StatusUnprocessableEntity, "no audio m-line of the offer could be accepted: offer opus, PCMU or PCMA over one bundled transport (a=group:BUNDLE)")
	}
	if err != nil {
		if created {
			c.End(live.EndError)
		}
		return err
	}
	if !info.bundled && s.lite == nil {
		answer = unbundle(answer)
	}
	loc := s.cfg.SessionPath + sess.token
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", loc)
	w.Header().Set("Talkratio-Call-Id", c.ID())
	w.Header().Add("Link", fmt.Sprintf(`</calls/%s>; rel="alternate"`, c.ID()))
	w.Header().Set("Access-Control-Expose-Headers", "Location, Talkratio-Call-Id, Link")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer)
	return nil
}

// callFor finds the call a session joins (call=ID for per-role sessions)
// or starts a new one. Joining is atomic: two sessions of one call=ID
// posted at the same moment both join the one call, whichever starts it
// (the registry's insert is the one place that decides).
func (s *Server) callFor(ctx context.Context, plan rolePlan, q map[string][]string) (*live.Call, bool, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	id := get("call")
	if id != "" && !call.ValidID(id) {
		return nil, false, reply.Errorf(http.StatusBadRequest, "call=%q: ids are 1-64 letters, digits, _ or -", id)
	}
	if id != "" && plan.mode != perRole {
		return nil, false, reply.Errorf(http.StatusBadRequest, "call=ID joins per-role sessions: add role=rep or role=customer")
	}
	join := func(c *live.Call) (*live.Call, bool, error) {
		if rep := get("rep"); rep != "" && !strings.EqualFold(rep, c.Record().Rep) {
			return nil, false, reply.Errorf(http.StatusForbidden, "call %s is another rep's call", id)
		}
		return c, false, nil
	}
	if id != "" {
		if c := s.cfg.Calls.Get(id); c != nil {
			return join(c)
		}
		// A stored record that is not live is a call that is over; a live
		// one is being started by a session posted at the same moment,
		// which this one joins below.
		if rec, err := s.cfg.Store.Get(ctx, id); err == nil && rec.State != call.StateLive {
			return nil, false, reply.Errorf(http.StatusConflict, "call %s has already ended", id)
		}
	} else {
		id = call.NewID(8)
	}
	rec := call.Record{ID: id, Source: call.SourceLive, StartedAt: time.Now().UTC()}
	rec.SetLabels(get("name"), get("rep"), get("customer"))
	c, err := s.cfg.Calls.Start(ctx, rec)
	var full *live.CapacityError
	switch {
	case errors.As(err, &full):
		return nil, false, &reply.Error{Code: http.StatusServiceUnavailable, Msg: full.Error(), RetryAfter: CapacityRetrySeconds}
	case errors.Is(err, live.ErrExists):
		if c := s.cfg.Calls.Get(id); c != nil {
			return join(c)
		}
		return nil, false, reply.Errorf(http.StatusConflict, "call %s has already ended", id)
	case err != nil:
		return nil, false, err
	}
	return c, true, nil
}

// newSession builds the PeerConnection and returns the SDP answer.
func (s *Server) newSession(ctx context.Context, c *live.Call, plan rolePlan, offer string) (*session, string, error) {
	pc, err := s.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, "", fmt.Errorf("new peer connection: %w", err)
	}
	sess := &session{
		parent: s, call: c, token: call.NewID(16), plan: plan, pc: pc, created: time.Now(),
		log: c.Log().With("session", "whip"), closed: make(chan struct{}),
	}
	if err := c.Attach(sess, plan.carried()); err != nil {
		pc.Close()
		return nil, "", reply.Errorf(http.StatusConflict, "%v", err)
	}
	fail := func(err error) (*session, string, error) {
		sess.end(live.EndError)
		return nil, "", err
	}
	pc.OnTrack(sess.readTrack)
	pc.OnConnectionStateChange(sess.onConnectionState)
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return fail(reply.Errorf(http.StatusBadRequest, "the offer was refused: %v", err))
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return fail(reply.Errorf(http.StatusUnprocessableEntity, "no answer to that offer: %v", err))
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return fail(fmt.Errorf("set local description: %w", err))
	}
	select {
	case <-gathered:
	case <-time.After(gatherTimeout):
		s.log.Warn("ICE gathering timed out; answering with the candidates so far")
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	s.addSession(sess)
	// The Opus parameters go into the answer's text only: pion refuses a
	// local description that differs from the answer it made, and what
	// they ask concerns the sender alone.
	return sess, askForWideband(pc.LocalDescription().SDP), nil
}

// newLiteSession starts a session on the ICE-lite media path and returns
// its answer, which needs no gathering: the candidates are the shared
// port's.
func (s *Server) newLiteSession(c *live.Call, plan rolePlan, offer []byte) (*session, string, error) {
	lo, err := parseLiteOffer(offer, plan)
	if err != nil {
		return nil, "", err
	}
	sess := &session{
		parent: s, call: c, token: call.NewID(16), plan: plan, created: time.Now(),
		log: c.Log().With("session", "whip"), closed: make(chan struct{}),
	}
	ls := &liteSession{sess: sess, offer: lo, tracks: map[uint32]*liteTrack{}}
	ls.ice = s.lite.Open(ls, lo.fingerprint)
	sess.lite = ls
	if err := c.Attach(sess, plan.carried()); err != nil {
		ls.ice.Close()
		return nil, "", reply.Errorf(http.StatusConflict, "%v", err)
	}
	s.addSession(sess)
	return sess, liteAnswer(lo, transportOf(s.lite, ls.ice)), nil
}

// HandleSession answers DELETE, OPTIONS and PATCH on a session URL. The
// URL is itself the capability (an unguessable token, as RFC 9725 has
// it): whoever started the session holds it.
func (s *Server) HandleSession(w http.ResponseWriter, r *http.Request) {
	sess := s.session(r.PathValue("token"))
	if sess == nil {
		reply.WriteError(w, reply.Errorf(http.StatusNotFound, "no such WHIP session"))
		return
	}
	switch r.Method {
	case http.MethodDelete:
		last := sess.call.Sources() == 1
		sess.end(live.EndHangup)
		if last {
			select {
			case <-sess.call.Tried():
			case <-time.After(deleteWait):
			}
			// Never say a call is over and stored when the store refused
			// it: it is kept, and stored as soon as the store takes it.
			if err := sess.call.StoreErr(); err != nil {
				e := &reply.Error{Code: http.StatusServiceUnavailable, Msg: "the call has ended, but the server could not store it: it is kept, and stored as soon as the store takes it"}
				if errors.Is(err, syscall.ENOSPC) {
					e = &reply.Error{Code: http.StatusInsufficientStorage, Msg: "the call has ended, but the server has no room to store it (its disk is full): it is kept, and stored as soon as there is room"}
				}
				reply.WriteError(w, e)
				return
			}
		}
		w.WriteHeader(http.StatusOK)
	case http.MethodOptions:
		w.Header().Set("Allow", "DELETE, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
	default:
		// No trickle ICE or ICE restart: RFC 9725 lets a server answer
		// PATCH with 405.
		w.Header().Set("Allow", "DELETE, OPTIONS")
		reply.WriteError(w, reply.Errorf(http.StatusMethodNotAllowed, "%s is not supported on a WHIP session; DELETE ends it", r.Method))
	}
}

// HandleOptions answers OPTIONS /whip (CORS preflight and discovery).
func (s *Server) HandleOptions(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "POST, OPTIONS")
	w.Header().Set("Accept-Post", "application/sdp")
	w.WriteHeader(http.StatusNoContent)
}
