package whip

import (
	"net/url"
	"testing"

	"talkratio/tally"
	"talkratio/whip/whiptest"
)

func TestPlanRoles(t *testing.T) {
	named := &offerInfo{audio: []audioMedia{{mid: "a", streamID: "customer"}, {mid: "b", streamID: "rep"}}}
	p, err := planRoles(named, nil)
	if err != nil || p.byMid["b"] != 0 || p.byMid["a"] != 1 {
		t.Errorf("named streams: %+v %v", p, err)
	}
	ordered := &offerInfo{audio: []audioMedia{{mid: "0", streamID: "x"}, {mid: "1", streamID: "y"}}}
	p, err = planRoles(ordered, nil)
	if err != nil || p.rolesFor("0")[0] != 0 || p.rolesFor("1")[0] != 1 {
		t.Errorf("m-line order: %+v %v", p, err)
	}
	stereo := &offerInfo{audio: []audioMedia{{mid: "0", codecs: []string{"opus"}}}}
	p, err = planRoles(stereo, map[string][]string{"rep-channel": {"right"}})
	if err != nil || p.mode != stereoTrack || p.rolesFor("0")[0] != 1 {
		t.Errorf("stereo right: %+v %v", p, err)
	}
}

// FuzzWHIPOffer throws arbitrary SDP and query strings at the offer checks
// that run before pion sees anything: they must answer with an error or a
// plan, never panic, and a plan must map at least one role.
func FuzzWHIPOffer(f *testing.F) {
	f.Add(whiptest.Offer(whiptest.Opus, whiptest.Opus), "")
	f.Add(whiptest.Offer(whiptest.Opus), "rep-channel=right")
	f.Add(whiptest.Offer(whiptest.PCMU), "role=customer&call=abc")
	f.Add(whiptest.Offer(whiptest.G722), "")
	f.Add(whiptest.Offer(whiptest.Video), "role=rep")
	f.Add("v=0\r\nm=audio 9 RTP/AVP 0 8\r\n", "role=rep")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, sdp, query string) {
		info, err := inspectOffer([]byte(sdp))
		if err != nil {
			return
		}
		q, _ := url.ParseQuery(query)
		plan, err := planRoles(info, q)
		if err != nil {
			return
		}
		if len(plan.carried()) == 0 {
			t.Fatalf("plan carries no role: %+v", plan)
		}
		for _, am := range info.audio {
			for _, r := range plan.rolesFor(am.mid) {
				if r != tally.Rep && r != tally.Customer {
					t.Fatalf("bad role %v", r)
				}
			}
		}
	})
}
