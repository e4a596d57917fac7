package disk

import (
	"testing"

	"talkratio/call"
	"talkratio/internal/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) call.Store {
		s, err := Open(t.TempDir(), quietLogger())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
