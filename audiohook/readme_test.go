package audiohook_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"talkratio/audiohook"
)

// The README's keys file is one LoadKeys reads, with a client secret.
func TestReadmeKeysFile(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "`-audiohook-keys-file`, one key")
	_, rest, ok2 := strings.Cut(rest, "```\n")
	block, _, ok3 := strings.Cut(rest, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README: no AudioHook keys file example")
	}
	p := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(p, []byte(block), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := audiohook.LoadKeys(p)
	if err != nil || len(keys) != 1 {
		t.Fatalf("README keys file: %v, %d keys", err, len(keys))
	}
	for k, secret := range keys {
		if k == "" || len(secret) == 0 {
			t.Errorf("README keys file: key %q, secret of %d bytes", k, len(secret))
		}
	}
}
