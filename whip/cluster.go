package whip

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"talkratio/call"
	"talkratio/reply"
)

// Cluster is what a WHIP endpoint on one node of several needs of the
// others.
type Cluster interface {
	// ID names this node.
	ID() string
	// Elsewhere returns the least loaded node other than this one that
	// takes new calls, if any.
	Elsewhere(ctx context.Context) (call.Node, bool, error)
	// Forward sends a request on a session to the node that holds it and
	// returns that node's answer.
	Forward(ctx context.Context, node string, r *http.Request) (*http.Response, error)
}

// maxForwardedBody: what a session answer may carry back (an error's
// JSON; PATCH would carry SDP fragments).
const maxForwardedBody = 64 << 10

// Redirect wraps the offer handler of a cluster node. While this node
// takes no new call (busy: full or draining), an offer is sent with 307 to
// the least loaded node that does (RFC 9725, section 4.2). Browsers are
// not: the capture page posts to its own origin, and another node is
// another origin, so a browser's offer (it carries Origin) is left to the
// 503 the node gives, and the load balancer's rule (send offers to ready
// nodes only) keeps it rare.
func (s *Server) Redirect(busy func() bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := s.cfg.Cluster
		if c == nil || !busy() || r.Header.Get("Origin") != "" {
			h(w, r)
			return
		}
		n, ok, err := c.Elsewhere(r.Context())
		if err != nil {
			s.log.Warn("cluster: no node to redirect an offer to", "err", err)
		}
		if !ok {
			h(w, r)
			return
		}
		reply.WriteError(w, &reply.Error{Code: http.StatusTemporaryRedirect, Location: n.URL + "/whip?" + r.URL.RawQuery,
			Msg: fmt.Sprintf("this node takes no new call; node %s does", n.ID)})
	}
}

// HandleNodeSession answers DELETE, PATCH and OPTIONS on a cluster's
// session URL, /whip/s/{node}/{token}: this node's sessions here, the
// others' forwarded to their node, whose answer is passed on as it is.
// The session URL stays final, as RFC 9725 wants, whichever node a load
// balancer sends it to.
func (s *Server) HandleNodeSession(w http.ResponseWriter, r *http.Request) {
	c := s.cfg.Cluster
	node := r.PathValue("node")
	if c == nil || node == c.ID() {
		s.HandleSession(w, r)
		return
	}
	if !call.ValidID(node) {
		reply.WriteError(w, reply.Errorf(http.StatusNotFound, "no such WHIP session"))
		return
	}
	resp, err := c.Forward(r.Context(), node, r)
	if err != nil {
		s.log.Warn("cluster: forward a session request", "node", node, "err", err)
		reply.WriteError(w, reply.Errorf(http.StatusNotFound, "no such WHIP session: its node %s does not answer", node))
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, io.LimitReader(resp.Body, maxForwardedBody))
}
