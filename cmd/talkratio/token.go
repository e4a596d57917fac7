package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"talkratio/auth"
)

const tokenUsage = `Usage:
  talkratio token -new-key > talkratio.key
  talkratio token -key-file talkratio.key [grants] [-subject NAME] [-ttl 720h]

Mints a signed access token for a talkratio service that runs with the
same key (serve -token-key-file). Grants:
  -publish            publish calls (WHIP) and upload recordings
  -publish-rep NAME   ... only as rep NAME
  -view               watch live calls and browse the library
  -view-rep NAME      ... only rep NAME's calls
  -admin              everything, including deleting calls and /metrics

Flags:
`

func runToken(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	newKey := fs.Bool("new-key", false, "print a new random key for -key-file and exit")
	keyFile := fs.String("key-file", "", "file with the service's token key (or set TALKRATIO_TOKEN_KEY)")
	var g auth.Grants
	fs.BoolVar(&g.Publish, "publish", false, "grant publishing")
	fs.StringVar(&g.PublishRep, "publish-rep", "", "grant publishing for this rep only (implies -publish)")
	fs.BoolVar(&g.View, "view", false, "grant viewing")
	fs.StringVar(&g.ViewRep, "view-rep", "", "grant viewing of this rep's calls only (implies -view)")
	fs.BoolVar(&g.Admin, "admin", false, "grant everything")
	subject := fs.String("subject", "", "who the token is for (shown in logs), e.g. an email")
	ttl := fs.Duration("ttl", 30*24*time.Hour, "how long the token is valid")
	fs.Usage = func() {
		fmt.Fprint(stderr, tokenUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if *newKey {
		fmt.Fprintln(stdout, auth.NewKey())
		return exitOK
	}
	g.Publish = g.Publish || g.PublishRep != ""
	g.View = g.View || g.ViewRep != ""
	if !g.Publish && !g.View && !g.Admin {
		fmt.Fprintln(stderr, "talkratio token: give at least one grant: -publish, -view or -admin")
		return exitUsage
	}
	if *ttl <= 0 {
		fmt.Fprintln(stderr, "talkratio token: -ttl must be positive")
		return exitUsage
	}
	key, err := loadKey(*keyFile)
	if err != nil {
		fmt.Fprintf(stderr, "talkratio token: %v\n", err)
		return exitUsage
	}
	if key == nil {
		fmt.Fprintln(stderr, "talkratio token: no key: give -key-file or set TALKRATIO_TOKEN_KEY (create one with -new-key)")
		return exitUsage
	}
	a, err := auth.New(key)
	if err != nil {
		fmt.Fprintf(stderr, "talkratio token: %v\n", err)
		return exitFail
	}
	tok, err := a.Mint(*subject, g, *ttl)
	if err != nil {
		fmt.Fprintf(stderr, "talkratio token: %v\n", err)
		return exitFail
	}
	fmt.Fprintln(stdout, tok)
	return exitOK
}

// loadKey reads the token key from a file, else the environment; nil if
// neither is set.
func loadKey(file string) ([]byte, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("token key: %w", err)
		}
		return auth.ParseKey(string(b)), nil
	}
	if v := strings.TrimSpace(os.Getenv("TALKRATIO_TOKEN_KEY")); v != "" {
		return auth.ParseKey(v), nil
	}
	return nil, nil
}
