package inmem

import (
	"testing"

	"talkratio/call"
	"talkratio/internal/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) call.Store { return NewStore() })
}
