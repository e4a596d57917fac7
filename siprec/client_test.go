package siprec

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
)

// src is a Session Recording Client for the tests: a sipgo user agent
// that sends SIPREC INVITEs (multipart SDP + rs-metadata, as RFC 7866
// describes), re-INVITEs, ACKs and BYEs, takes the server's BYE, and sends
// RTP to the answered ports.
type src struct {
	t      testing.TB
	ua     *sipgo.UserAgent
	client *sipgo.Client
	dua    *sipgo.DialogUA
	port   int
	byes   chan *sip.Request
}

func newSRC(t testing.TB) *src {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("test-src"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	s := &src{t: t, ua: ua, byes: make(chan *sip.Request, 8)}
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
		s.byes <- req
	})
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = conn.LocalAddr().(*net.UDPAddr).Port
	ln, err := net.Listen("tcp", conn.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = ua.TransportLayer().ServeUDP(conn) }()
	go func() { _ = ua.TransportLayer().ServeTCP(ln) }()
	if s.client, err = sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(s.port)); err != nil {
		t.Fatal(err)
	}
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "src", Host: "127.0.0.1", Port: s.port}, Params: sip.NewParams()}
	contact.Params.Add("+sip.src", "")
	s.dua = &sipgo.DialogUA{Client: s.client, ContactHDR: contact}
	t.Cleanup(func() {
		conn.Close()
		ln.Close()
		ua.Close()
	})
	return s
}

// leg is one recorded stream of a test call.
type leg struct {
	label  string
	codecs string // the m-line's formats and rtpmaps, e.g. "0 8"
	dir    string
}

// siprecBody builds a multipart/mixed body: an SDP with one m-line per
// leg, and metadata that names Alice (sip:alice@sales.example.com) the
// sender of the second leg and Bob the sender of the first (as in RFC
// 7865's examples).
func siprecBody(rtpPort int, legs []leg, metadata bool) (string, string) {
	var sd strings.Builder
	fmt.Fprintf(&sd, "v=0\r\no=SRC 2890844526 %d IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n", time.Now().UnixNano()%100000)
	for i, l := range legs {
		fmt.Fprintf(&sd, "m=audio %d RTP/AVP %s 101\r\n", rtpPort+2*i, l.codecs)
		for _, f := range strings.Fields(l.codecs) {
			switch f {
			case "0":
				sd.WriteString("a=rtpmap:0 PCMU/8000\r\n")
			case "8":
				sd.WriteString("a=rtpmap:8 PCMA/8000\r\n")
			case "9":
				sd.WriteString("a=rtpmap:9 G722/8000\r\n")
			case "111":
				sd.WriteString("a=rtpmap:111 opus/48000/2\r\n")
			case "18":
				sd.WriteString("a=rtpmap:18 G729/8000\r\n")
			}
		}
		dir := l.dir
		if dir == "" {
			dir = "sendonly"
		}
		fmt.Fprintf(&sd, "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=label:%s\r\na=%s\r\n", l.label, dir)
	}
	if !metadata {
		return sd.String(), "application/sdp"
	}
	md := `<?xml version="1.0" encoding="UTF-8"?>
<recording xmlns='urn:ietf:params:xml:ns:recording:1'>
  <datamode>complete</datamode>
  <session session_id="hVpd7YQgRW2nD22h7q60JQ=="/>
  <participant participant_id="pA"><nameID aor="sip:alice@sales.example.com"><name>Alice Agent</name></nameID></participant>
  <participant participant_id="pB"><nameID aor="sip:bob@customer.example.net"><name>Bob Buyer</name></nameID></participant>
  <stream stream_id="s1" session_id="hVpd7YQgRW2nD22h7q60JQ=="><label>` + legs[0].label + `</label></stream>
  <stream stream_id="s2" session_id="hVpd7YQgRW2nD22h7q60JQ=="><label>` + legs[len(legs)-1].label + `</label></stream>
  <participantstreamassoc participant_id="pA"><send>s2</send><recv>s1</recv></participantstreamassoc>
  <participantstreamassoc participant_id="pB"><send>s1</send><recv>s2</recv></participantstreamassoc>
</recording>
`
	b := "--BOUNDARY\r\nContent-Type: application/sdp\r\n\r\n" + sd.String() +
		"\r\n--BOUNDARY\r\nContent-Type: application/rs-metadata+xml\r\nContent-Disposition: recording-session\r\n\r\n" +
		strings.ReplaceAll(md, "\n", "\r\n") + "\r\n--BOUNDARY--\r\n"
	return b, "multipart/mixed;boundary=BOUNDARY"
}

// call is one recording session from the SRC's side.
type call struct {
	s      *src
	dialog *sipgo.DialogClientSession
	ports  []int // the answered RTP ports per m-line
	res    *sip.Response
}

// invite sends an INVITE with body to the server at addr and waits for
// the final response; on 2xx it ACKs. Bodies with metadata go over TCP,
// as SRCs send them: they are larger than a UDP datagram may be (RFC 3261
// section 18.1.1).
func (s *src) invite(addr net.Addr, body, ct string, hdrs ...sip.Header) (*call, error) {
	ua := addr.(*net.UDPAddr)
	uri := sip.Uri{Scheme: "sip", User: "srs", Host: ua.IP.String(), Port: ua.Port, UriParams: sip.NewParams()}
	contact := s.dua.ContactHDR.Clone()
	if len(body) > 1000 {
		uri.UriParams.Add("transport", "tcp")
		contact.Address.UriParams = sip.NewParams()
		contact.Address.UriParams.Add("transport", "tcp")
	}
	req := sip.NewRequest(sip.INVITE, uri)
	req.AppendHeader(contact)
	req.SetBody([]byte(body))
	req.AppendHeader(sip.NewHeader("Content-Type", ct))
	req.AppendHeader(sip.NewHeader("Require", "siprec"))
	for _, h := range hdrs {
		req.AppendHeader(h)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := s.dua.WriteInvite(ctx, req)
	if err != nil {
		return nil, err
	}
	c := &call{s: s, dialog: d}
	err = d.WaitAnswer(ctx, sipgo.AnswerOptions{})
	c.res = d.InviteResponse
	if err != nil {
		return c, err
	}
	if err := d.Ack(ctx); err != nil {
		return c, err
	}
	c.ports, err = answerPorts(c.res.Body())
	return c, err
}

func answerPorts(b []byte) ([]int, error) {
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("answer: %w\n%s", err, b)
	}
	var ports []int
	for _, m := range sd.MediaDescriptions {
		ports = append(ports, m.MediaName.Port.Value)
	}
	return ports, nil
}

// reinvite sends a re-INVITE with a new SDP and ACKs its answer.
func (c *call) reinvite(body, ct string) (*sip.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	target := c.res.Contact().Address
	req := sip.NewRequest(sip.INVITE, *target.Clone())
	req.SetBody([]byte(body))
	req.AppendHeader(sip.NewHeader("Content-Type", ct))
	res, err := c.dialog.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode == sip.StatusOK {
		ack := sip.NewRequest(sip.ACK, *target.Clone())
		if err := c.dialog.WriteRequest(ack); err != nil {
			return res, err
		}
	}
	return res, nil
}

func (c *call) bye() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.dialog.Bye(ctx)
}

// rtpOut sends one stream's RTP.
type rtpOut struct {
	conn  *net.UDPConn
	seq   uint16
	ts    uint32
	ssrc  uint32
	count atomic.Int64
}

var ssrcs atomic.Uint32

func newRTPOut(t testing.TB, port int) *rtpOut {
	t.Helper()
	conn, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rtpOut{conn: conn, seq: uint16(1000 * port % 60000), ts: uint32(port) * 7919, ssrc: 0x1000 + ssrcs.Add(1)}
}

// send sends one packet of payload type pt covering ticks of the RTP
// clock.
func (r *rtpOut) send(pt uint8, payload []byte, ticks uint32) error {
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: r.seq, Timestamp: r.ts, SSRC: r.ssrc}, Payload: payload}
	b, err := p.Marshal()
	if err != nil {
		return err
	}
	r.seq++
	r.ts += ticks
	r.count.Add(1)
	_, err = r.conn.Write(b)
	return err
}
