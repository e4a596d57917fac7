package main

import (
	"flag"
	"fmt"
	"net/netip"
	"os"

	"talkratio/audiohook"
	"talkratio/server"
	"talkratio/siprec"
	"talkratio/siprec/rsmeta"
	"talkratio/twilio"
)

// twilioTokenEnv holds the Twilio auth token when -twilio-auth-token-file
// is not given (Twilio's own tools read the same variable).
const twilioTokenEnv = "TWILIO_AUTH_TOKEN"

// ingestFlags are serve's flags for calls straight from phone systems.
type ingestFlags struct {
	sipAddr, sipTLSAddr, sipCert, sipKey *string
	sipAllow, rep, rtpPorts, mediaIP     *string
	twilioToken, twilioURL, twilioTrack  *string
	audiohookKeys                        *string
}

func addIngestFlags(fs *flag.FlagSet) *ingestFlags {
	return &ingestFlags{
		sipAddr:       fs.String("sip-addr", "", "SIPREC recording server: SIP over UDP and TCP on this address, e.g. 0.0.0.0:5060 (off when empty)"),
		sipTLSAddr:    fs.String("sip-tls-addr", "", "SIPREC: SIP over TLS on this address, with -sip-tls-cert and -sip-tls-key"),
		sipCert:       fs.String("sip-tls-cert", "", "SIPREC: TLS certificate file (PEM)"),
		sipKey:        fs.String("sip-tls-key", "", "SIPREC: TLS key file (PEM)"),
		sipAllow:      fs.String("sip-allow", "", "SIPREC: comma-separated CIDRs SIP and RTP are accepted from (required with -sip-addr: SIP carries no credentials)"),
		rep:           fs.String("siprec-rep", "", "SIPREC: who the rep is: comma-separated AOR patterns (sip:*@sales.example.com) or extension ranges (1000-1999); empty: the first stream's participant"),
		rtpPorts:      fs.String("rtp-ports", siprec.DefaultPortRange.String(), "SIPREC: UDP port range RTP is received on"),
		mediaIP:       fs.String("media-ip", "", "SIPREC: address put in SDP answers and Contact headers (behind NAT); empty: the local address facing each SBC"),
		twilioToken:   fs.String("twilio-auth-token-file", "", "Twilio Media Streams at /ingest/twilio: file with the account's auth token (or set "+twilioTokenEnv+"); off without one"),
		twilioURL:     fs.String("twilio-public-url", "", "Twilio: the base URL Twilio connects to (wss://talkratio.example.com) when a proxy changes scheme or host"),
		twilioTrack:   fs.String("twilio-rep-track", "outbound", "Twilio: the track that carries the rep, outbound or inbound (the rep_track custom parameter overrides it)"),
		audiohookKeys: fs.String("audiohook-keys-file", "", "Genesys AudioHook at /ingest/audiohook: file of API keys and client secrets, one \"API_KEY CLIENT_SECRET\" a line; off without it"),
	}
}

// config turns the flags into the service's ingest configuration.
func (f *ingestFlags) config() (server.Ingest, error) {
	var in server.Ingest
	if *f.sipAddr != "" {
		c, err := f.siprecConfig()
		if err != nil {
			return in, err
		}
		in.SIPREC = c
	} else if *f.sipTLSAddr != "" {
		return in, fmt.Errorf("-sip-tls-addr needs -sip-addr")
	}
	token := []byte(os.Getenv(twilioTokenEnv))
	if *f.twilioToken != "" {
		var err error
		if token, err = twilio.LoadAuthToken(*f.twilioToken); err != nil {
			return in, err
		}
	}
	if len(token) > 0 {
		in.Twilio = &twilio.Config{AuthToken: token, PublicURL: *f.twilioURL, RepTrack: *f.twilioTrack}
	}
	if *f.audiohookKeys != "" {
		keys, err := audiohook.LoadKeys(*f.audiohookKeys)
		if err != nil {
			return in, err
		}
		in.AudioHook = &audiohook.Config{Keys: keys}
	}
	return in, nil
}

func (f *ingestFlags) siprecConfig() (*siprec.Config, error) {
	allow, err := siprec.ParseAllow(*f.sipAllow)
	if err != nil {
		return nil, fmt.Errorf("-sip-allow: %w", err)
	}
	if len(allow) == 0 {
		return nil, fmt.Errorf("-sip-addr needs -sip-allow: SIP carries no credentials, so list the SBCs' networks (0.0.0.0/0 accepts anyone)")
	}
	rule, err := rsmeta.ParseRepRule(*f.rep)
	if err != nil {
		return nil, fmt.Errorf("-siprec-rep: %w", err)
	}
	ports, err := siprec.ParsePortRange(*f.rtpPorts)
	if err != nil {
		return nil, fmt.Errorf("-rtp-ports: %w", err)
	}
	c := &siprec.Config{
		Addr: *f.sipAddr, TLSAddr: *f.sipTLSAddr, TLSCertFile: *f.sipCert, TLSKeyFile: *f.sipKey,
		Allow: allow, RepRule: rule, RTPPorts: ports,
	}
	if *f.mediaIP != "" {
		if c.MediaIP, err = netip.ParseAddr(*f.mediaIP); err != nil {
			return nil, fmt.Errorf("-media-ip: %w", err)
		}
	}
	return c, nil
}
