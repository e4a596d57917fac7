package nats

import (
	"strings"
	"testing"
)

func TestCheckURLsAndServer(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string // "" for no error
	}{
		{"external on loopback", CheckURLs("nats://127.0.0.1:4222,nats://localhost:4223", false, false), ""},
		{"external elsewhere, tls:// and a user in the URL", CheckURLs("tls://u:p@nats.example:4222", false, false), ""},
		{"external elsewhere, CA and creds", CheckURLs("nats://nats.example:4222", true, true), ""},
		{"external elsewhere in the clear", CheckURLs("nats://nats.example:4222", false, true), "TLS"},
		{"external elsewhere, no credentials", CheckURLs("tls://nats.example:4222", false, false), "credentials"},
		{"not a NATS URL", CheckURLs("http://127.0.0.1:4222", false, false), "want nats://"},
		{"no host", CheckURLs("nats://", false, false), "want nats://"},
		{"embedded on loopback", CheckServer(ServerConfig{Listen: "127.0.0.1:4222", ClusterListen: "127.0.0.1:6222", Routes: []string{"nats-route://127.0.0.1:6223"}}), ""},
		{"embedded route to another host", CheckServer(ServerConfig{Listen: "127.0.0.1:4222", ClusterListen: "127.0.0.1:6222", Routes: []string{"10.0.0.2:6222"}}), "10.0.0.2"},
		{"embedded on every interface", CheckServer(ServerConfig{Listen: "0.0.0.0:4222", ClusterListen: "127.0.0.1:6222"}), "0.0.0.0"},
		{"embedded off loopback with TLS and a secret", CheckServer(ServerConfig{Listen: ":4222", ClusterListen: ":6222", Secret: "s", CertFile: "c", KeyFile: "k", CAFile: "ca"}), ""},
		{"embedded off loopback, TLS without CA", CheckServer(ServerConfig{Listen: ":4222", Secret: "s", CertFile: "c", KeyFile: "k"}), "TLS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			switch {
			case tc.want == "" && tc.err != nil:
				t.Fatalf("refused: %v", tc.err)
			case tc.want != "" && (tc.err == nil || !strings.Contains(tc.err.Error(), tc.want)):
				t.Fatalf("got %v, want an error saying %q", tc.err, tc.want)
			}
		})
	}
}
