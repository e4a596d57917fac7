package twilio_test

import (
	"encoding/xml"
	"os"
	"slices"
	"strings"
	"testing"

	"talkratio/twilio"
)

// The README's TwiML starts a stream this handler takes: both tracks, to
// /ingest/twilio, with custom parameters it reads.
func TestReadmeTwiML(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "```xml\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("README: no TwiML example")
	}
	var twiml struct {
		Start struct {
			Stream struct {
				URL       string `xml:"url,attr"`
				Track     string `xml:"track,attr"`
				Parameter []struct {
					Name string `xml:"name,attr"`
				}
			}
		}
	}
	if err := xml.Unmarshal([]byte(block), &twiml); err != nil {
		t.Fatalf("README TwiML: %v", err)
	}
	st := twiml.Start.Stream
	if !strings.HasPrefix(st.URL, "wss://") || !strings.HasSuffix(st.URL, "/ingest/twilio") || st.Track != "both_tracks" {
		t.Errorf("README TwiML stream %+v", st)
	}
	known := []string{twilio.ParamName, twilio.ParamRep, twilio.ParamCustomer, twilio.ParamRepTrack}
	for _, p := range st.Parameter {
		if !slices.Contains(known, p.Name) {
			t.Errorf("README TwiML parameter %q: the handler reads %v", p.Name, known)
		}
	}
}
