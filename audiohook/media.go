package audiohook

import (
	"context"
	"errors"
	"time"

	"talkratio/audio"
	"talkratio/ingest"
)

// open answers the open transaction: media negotiation, then the call.
func (s *session) open(ctx context.Context, m *clientMessage) {
	o := m.open
	if s.orgID != "" && o.OrganizationID != s.orgID {
		s.h.m.Errors.Inc(reasonIdentity)
		s.log.Warn("audiohook: organizationId differs from the request's", "open", o.OrganizationID, "header", truncate(s.orgID, 64))
		s.disconnect(ingest.EndError, "unauthorized", "organizationId differs from the request's")
		return
	}
	s.log = s.log.With("conversation_id", o.ConversationID)
	if o.ConversationID == nullUUID {
		// A connection probe: answer, start nothing.
		s.probe = true
		md, ok := chooseMedia(o.Media)
		media := []mediaParam{}
		if ok {
			media = append(media, md)
		}
		s.setState(stActive)
		_ = s.send("opened", map[string]any{"media": media, "startPaused": false})
		s.log.Info("audiohook: connection probe answered")
		return
	}
	md, ok := chooseMedia(o.Media)
	if !ok {
		s.fail(protoErrorf(reasonMedia, "no offered media talkratio takes (PCMU at 8000 Hz, channels external and/or internal)"))
		return
	}
	s.media = md
	s.roles = make([]ingest.Role, len(md.Channels))
	for i, c := range md.Channels {
		if c == channelInternal {
			s.roles[i] = ingest.Rep
		} else {
			s.roles[i] = ingest.Customer
		}
	}
	customer := o.Participant.ANIName
	if customer == "" {
		customer = o.Participant.ANI
	}
	call, err := s.h.cfg.Parent.StartCall(ctx, ingest.CallMeta{
		Source: ingest.SourceAudioHook, ExternalID: o.ConversationID,
		Customer: customer, StartedAt: time.Now(),
	})
	if err != nil {
		reason, info := reasonOther, "the service cannot take the call"
		if errors.Is(err, ingest.ErrBusy) {
			reason, info = reasonBusy, "the service is at its call limit"
		}
		s.h.m.Errors.Inc(reason)
		s.h.limiter.Warn(s.log, reason, "audiohook: call refused", "err", err)
		s.disconnect(ingest.EndError, "error", info)
		return
	}
	s.mu.Lock()
	if s.state >= stDisconnected {
		// Disconnected (a shutdown) while the call was being started.
		reason := s.endReason
		s.mu.Unlock()
		call.End(reason)
		return
	}
	s.call, s.state = call, stActive
	s.mu.Unlock()
	s.h.m.CallsStarted.Inc()
	if err := s.send("opened", map[string]any{"media": []mediaParam{md}, "startPaused": false}); err != nil {
		call.End(ingest.EndFailed)
		s.hangUp()
		return
	}
	s.log.Info("audiohook: session opened", "channels", md.Channels, "position", m.Position)
	go func() {
		select {
		case <-call.Done():
			s.disconnect(ingest.EndClosed, "completed", "the call has ended")
		case <-s.done:
		}
	}()
}

// skip declares a stretch the client did not send (paused, discarded) as
// missing audio for both roles and moves the position past it.
func (s *session) skip(reason string, r *rangeParams) {
	start := samplesAt(r.start)
	n := samplesAt(r.discarded)
	if n > 0 && s.call != nil {
		k := ingest.Clock{ID: 0, Rate: mediaRate}
		for _, role := range s.roles {
			s.call.Missing(role, k, start, n, time.Now())
		}
		s.h.m.Missing.Add(reason, r.discarded.Seconds())
	}
	s.pos = max(s.pos, start+n)
}

func samplesAt(d time.Duration) int64 {
	return int64(d * mediaRate / time.Second)
}

// frame hands one binary audio frame to the call.
func (s *session) frame(b []byte) {
	st := s.getState()
	if st >= stDisconnected {
		return
	}
	if st != stActive || s.probe {
		s.fail(protoErrorf(reasonOrder, "audio frame while the session is not open and active"))
		return
	}
	n, err := checkFrame(b, s.media)
	if err != nil {
		s.fail(err)
		return
	}
	s.h.m.Frames.Inc()
	s.frames++
	at := time.Now()
	ch := len(s.media.Channels)
	if cap(s.dec) < n {
		s.dec, s.pcm = make([]byte, n), make([]float32, n)
	}
	dec, pcm := s.dec[:n], s.pcm[:n]
	for c, role := range s.roles {
		up := channelPCM(b, ch, c, dec, pcm)
		med := ingest.Media{Clock: ingest.Clock{ID: 0, Rate: mediaRate}, TS: s.pos, Seq: s.frames, At: at, PCM: up}
		if !s.call.Deliver(role, med) {
			s.disconnect(ingest.EndClosed, "completed", "the call has ended")
			return
		}
	}
	s.pos += int64(n)
}

// channelPCM takes channel c of a frame of ch interleaved PCMU channels
// (checked by checkFrame) and returns its audio at the analysis rate. dec
// and pcm are scratch space of the frame's samples per channel.
func channelPCM(b []byte, ch, c int, dec []byte, pcm []float32) []float32 {
	for i := range dec {
		dec[i] = b[i*ch+c]
	}
	audio.DecodeMuLaw(pcm, dec)
	// PCMU repeated up to the analysis rate: exact for the analysis,
	// which averages back down to 8 kHz.
	const factor = ingest.SampleRate / mediaRate
	up := make([]float32, factor*len(pcm))
	for i, v := range pcm {
		for j := range factor {
			up[factor*i+j] = v
		}
	}
	return up
}
