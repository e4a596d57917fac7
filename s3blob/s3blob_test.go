package s3blob

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"talkratio/call"
	"talkratio/internal/blobtest"
)

// fake starts an in-process S3 (gofakes3, on loopback) with one bucket.
func fake(t *testing.T) Config {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("calls"); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(ts.Close)
	return Config{URL: "s3://calls/talkratio", Endpoint: strings.TrimPrefix(ts.URL, "http://"), Insecure: true,
		AccessKey: "key", SecretKey: "secret", Region: "us-east-1", TmpDir: t.TempDir()}
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) call.BlobStore {
		s, err := Open(context.Background(), fake(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestOpenRefusesAMissingBucket(t *testing.T) {
	cfg := fake(t)
	cfg.URL = "s3://nosuch/x"
	if _, err := Open(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "no bucket") {
		t.Errorf("got %v", err)
	}
	cfg.URL = "http://calls"
	if _, err := Open(context.Background(), cfg); err == nil {
		t.Error("a non-s3 URL: no error")
	}
}
