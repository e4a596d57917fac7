package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"talkratio/vad"
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
)

// callIDPattern: ids chosen by publishers (role sessions joined by call=ID)
// are short and URL-safe, so that they can never step out of a path.
var callIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// supportedCodec reports whether talkratio decodes an audio codec, by its
// SDP name in lower case.
func supportedCodec(name string) bool {
	return name == "opus" || name == "pcmu" || name == "pcma"
}

// newID returns n random bytes as hex: call ids are 8 bytes (short enough
// to read), session tokens 16 (unguessable).
func newID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// httpError is an error with the status it should be answered with.
type httpError struct {
	code int
	msg  string
	// retryAfter, when set, goes out as Retry-After (seconds), so that
	// a client refused for load knows when to come back.
	retryAfter int
}

func (e *httpError) Error() string { return e.msg }

func errorf(code int, format string, args ...any) error {
	return &httpError{code: code, msg: fmt.Sprintf(format, args...)}
}

// offerInfo is what the server needs to know of an offer before pion sees
// it.
type offerInfo struct {
	audio  []audioMedia
	codecs []string // every audio codec offered, for error messages
}

type audioMedia struct {
	mid      string
	streamID string
	trackID  string
	codecs   []string
}

// inspectOffer parses the SDP and checks that it can be served: at least
// one audio m-line that offers a codec talkratio decodes.
func inspectOffer(body []byte) (*offerInfo, error) {
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(body); err != nil {
		return nil, errorf(http.StatusBadRequest, "malformed SDP offer: %v", err)
	}
	info := &offerInfo{}
	seen := map[string]bool{}
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 {
			continue
		}
		am := audioMedia{}
		am.mid, _ = md.Attribute("mid")
		if msid, ok := md.Attribute("msid"); ok {
			f := strings.Fields(msid)
			if len(f) > 0 {
				am.streamID = f[0]
			}
			if len(f) > 1 {
				am.trackID = f[1]
			}
		}
		names := map[string]string{"0": "pcmu", "8": "pcma"} // static payload types
		for _, a := range md.Attributes {
			if a.Key != "rtpmap" {
				continue
			}
			pt, enc, _ := strings.Cut(a.Value, " ")
			name, _, _ := strings.Cut(enc, "/")
			names[pt] = strings.ToLower(name)
		}
		for _, f := range md.MediaName.Formats {
			if n, ok := names[f]; ok {
				am.codecs = append(am.codecs, n)
				if !seen[n] {
					seen[n] = true
					info.codecs = append(info.codecs, n)
				}
			}
		}
		info.audio = append(info.audio, am)
	}
	if len(info.audio) == 0 {
		return nil, errorf(http.StatusUnprocessableEntity, "the offer has no audio: talkratio needs the rep's and the customer's audio")
	}
	if len(info.audio) > 2 {
		return nil, errorf(http.StatusUnprocessableEntity, "the offer has %d audio tracks: send two (rep and customer), one stereo track, or one per session with role=", len(info.audio))
	}
	for _, am := range info.audio {
		ok := false
		for _, c := range am.codecs {
			ok = ok || supportedCodec(c)
		}
		if !ok {
			return nil, errorf(http.StatusUnprocessableEntity, "no supported audio codec in the offer (offered: %s); talkratio takes opus, PCMU and PCMA", strings.Join(am.codecs, ", "))
		}
	}
	return info, nil
}

// planRoles decides how the session's audio maps to roles, from the offer
// and the query parameters.
func planRoles(info *offerInfo, q map[string][]string) (rolePlan, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	role := strings.ToLower(get("role"))
	switch {
	case role != "":
		if len(info.audio) != 1 {
			return rolePlan{}, errorf(http.StatusUnprocessableEntity, "role=%s takes an offer with one audio track, this one has %d", role, len(info.audio))
		}
		switch role {
		case "rep":
			return rolePlan{mode: perRole, role: vad.Rep}, nil
		case "customer":
			return rolePlan{mode: perRole, role: vad.Customer}, nil
		}
		return rolePlan{}, errorf(http.StatusBadRequest, "role=%q: want rep or customer", role)
	case len(info.audio) == 1:
		am := info.audio[0]
		hasOpus := false
		for _, c := range am.codecs {
			hasOpus = hasOpus || c == "opus"
		}
		if !hasOpus {
			return rolePlan{}, errorf(http.StatusUnprocessableEntity, "one %s track carries one side of the call: add role=rep or role=customer (and call=ID to join the other side), or send stereo Opus", strings.ToUpper(am.codecs[0]))
		}
		right := false
		switch rc := strings.ToLower(get("rep-channel")); rc {
		case "", "left":
		case "right":
			right = true
		default:
			return rolePlan{}, errorf(http.StatusBadRequest, "rep-channel=%q: want left or right", rc)
		}
		return rolePlan{mode: stereoTrack, repRight: right}, nil
	}
	// Two tracks: names first, then order.
	p := rolePlan{mode: twoTracks, byMid: map[string]vad.Role{}}
	named := map[vad.Role]string{}
	for _, am := range info.audio {
		for _, id := range []string{am.trackID, am.streamID} {
			switch strings.ToLower(id) {
			case "rep":
				named[vad.Rep] = am.mid
			case "customer":
				named[vad.Customer] = am.mid
			}
		}
	}
	if len(named) == 2 && named[vad.Rep] != named[vad.Customer] {
		p.byMid[named[vad.Rep]] = vad.Rep
		p.byMid[named[vad.Customer]] = vad.Customer
		return p, nil
	}
	if info.audio[0].mid == "" || info.audio[1].mid == "" || info.audio[0].mid == info.audio[1].mid {
		return rolePlan{}, errorf(http.StatusBadRequest, "the audio m-lines need distinct a=mid values")
	}
	p.byMid[info.audio[0].mid] = vad.Rep
	p.byMid[info.audio[1].mid] = vad.Customer
	return p, nil
}

// handleWHIP answers POST /whip: an SDP offer in, 201 with the answer out.
func (s *Server) handleWHIP(w http.ResponseWriter, r *http.Request) {
	if err := s.whip(w, r); err != nil {
		writeError(w, err)
	}
}

func (s *Server) whip(w http.ResponseWriter, r *http.Request) error {
	if s.draining.Load() {
		w.Header().Set("Retry-After", "5")
		return errorf(http.StatusServiceUnavailable, "the service is shutting down")
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/sdp" {
		return errorf(http.StatusUnsupportedMediaType, "POST /whip takes an SDP offer with Content-Type: application/sdp")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSDPBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errorf(http.StatusRequestEntityTooLarge, "the SDP offer is larger than %d bytes", maxSDPBytes)
		}
		return errorf(http.StatusBadRequest, "reading the offer: %v", err)
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
	rep, ok := principalOf(r).PublishAs(strings.TrimSpace(q.Get("rep")))
	if !ok {
		return errorf(http.StatusForbidden, "your token publishes calls of %s only", rep)
	}
	q.Set("rep", rep)
	call, created, err := s.callFor(plan, q)
	if err != nil {
		return err
	}
	sess, answer, err := s.newSession(r.Context(), call, plan, string(body))
	if err != nil {
		if created {
			call.end(endError)
		}
		return err
	}
	loc := "/whip/sessions/" + sess.token
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", loc)
	w.Header().Set("Talkratio-Call-Id", call.ID())
	w.Header().Add("Link", fmt.Sprintf(`</calls/%s>; rel="alternate"`, call.ID()))
	w.Header().Set("Access-Control-Expose-Headers", "Location, Talkratio-Call-Id, Link")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer)
	return nil
}

// callFor finds the call a session joins (call=ID for per-role sessions)
// or starts a new one.
func (s *Server) callFor(plan rolePlan, q map[string][]string) (*Call, bool, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	id := get("call")
	if id != "" && !callIDPattern.MatchString(id) {
		return nil, false, errorf(http.StatusBadRequest, "call=%q: ids are 1-64 letters, digits, _ or -", id)
	}
	if id != "" && plan.mode != perRole {
		return nil, false, errorf(http.StatusBadRequest, "call=ID joins per-role sessions: add role=rep or role=customer")
	}
	if id != "" {
		if c := s.liveCall(id); c != nil {
			if rep := get("rep"); rep != "" && !strings.EqualFold(rep, c.rec.Rep) {
				return nil, false, errorf(http.StatusForbidden, "call %s is %s's call", id, c.rec.Rep)
			}
			return c, false, nil
		}
		if _, err := s.store.Get(id); err == nil {
			return nil, false, errorf(http.StatusConflict, "call %s has already ended", id)
		}
	} else {
		id = newID(8)
	}
	rec := CallRecord{
		ID: id, Name: limitText(get("name"), 200), Rep: limitText(get("rep"), 100), Customer: limitText(get("customer"), 100),
		Source: sourceLive, State: stateLive, StartedAt: time.Now().UTC(),
	}
	c, err := s.startCall(rec)
	if err != nil {
		return nil, false, err
	}
	return c, true, nil
}

// limitText trims user-given labels to a sane length.
func limitText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// newSession builds the PeerConnection and returns the SDP answer.
func (s *Server) newSession(ctx context.Context, call *Call, plan rolePlan, offer string) (*session, string, error) {
	pc, err := s.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, "", fmt.Errorf("new peer connection: %w", err)
	}
	sess := &session{
		srv: s, call: call, token: newID(16), plan: plan, pc: pc, created: time.Now(),
		log: call.log.With("session", "whip"), closed: make(chan struct{}),
	}
	if err := call.attach(sess, plan.carried()); err != nil {
		pc.Close()
		if errors.Is(err, errRoleTaken) {
			return nil, "", errorf(http.StatusConflict, "%v", err)
		}
		return nil, "", errorf(http.StatusConflict, "%v", err)
	}
	fail := func(err error) (*session, string, error) {
		sess.end(endError)
		return nil, "", err
	}
	pc.OnTrack(sess.readTrack)
	pc.OnConnectionStateChange(sess.onConnectionState)
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return fail(errorf(http.StatusBadRequest, "the offer was refused: %v", err))
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return fail(errorf(http.StatusUnprocessableEntity, "no answer to that offer: %v", err))
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
	return sess, pc.LocalDescription().SDP, nil
}

// handleSession answers DELETE, OPTIONS and PATCH on a session URL.
func (s *Server) handleSession(w http.ResponseWriter, r *http.Request) {
	sess := s.session(r.PathValue("token"))
	if sess == nil {
		writeError(w, errorf(http.StatusNotFound, "no such WHIP session"))
		return
	}
	switch r.Method {
	case http.MethodDelete:
		last := false
		sess.call.mu.Lock()
		last = len(sess.call.sessions) == 1
		sess.call.mu.Unlock()
		sess.end(endDeleted)
		if last {
			select {
			case <-sess.call.over:
			case <-time.After(deleteWait):
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
		writeError(w, errorf(http.StatusMethodNotAllowed, "%s is not supported on a WHIP session; DELETE ends it", r.Method))
	}
}

// handleWHIPOptions answers OPTIONS /whip (CORS preflight and discovery).
func (s *Server) handleWHIPOptions(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "POST, OPTIONS")
	w.Header().Set("Accept-Post", "application/sdp")
	w.WriteHeader(http.StatusNoContent)
}
