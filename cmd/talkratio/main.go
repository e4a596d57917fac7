// Command talkratio shows a sales rep how much of a call they spend
// listening. Its subcommands (serve, analyze, import, token, healthcheck,
// version, migrate) are listed, with what each does, in usage below.
//
// main stays thin: it parses flags, wires packages together and turns
// errors into exit codes. The work lives in the packages: analyze opens
// calls with recorded and judges them with vad under call's rules (its
// report formats are the command's own, in output.go); serve picks the
// technologies (the data directory, disk, for records, audio and uploads)
// and hands them to server; token mints with auth.
package main

import (
	"fmt"
	"io"
	"os"
)

// Exit codes shared by every subcommand.
const (
	exitOK    = 0
	exitFail  = 1 // the command ran and something failed (a bad file, a server error)
	exitUsage = 2 // the command line itself is wrong
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `talkratio shows a sales rep how much of a call they spend listening.

Usage:
  talkratio serve [flags]              run the live service (dashboard on http://localhost:8080)
  talkratio analyze [flags] FILE...    analyze recorded calls (stereo WAV)
  talkratio analyze --rep A.wav --customer B.wav
                                       analyze a call recorded as two mono WAVs
  talkratio import [flags] DIR|FILE... upload recorded calls to a running service, resuming
  talkratio token [flags]              mint an access token (needed when serving beyond localhost)
  talkratio healthcheck [-url URL]     exit 0 if the service answers /livez (for containers)
  talkratio version                    what this binary was built from
  talkratio migrate -from OLD_DIR      import a data directory of an earlier talkratio

Run 'talkratio COMMAND -h' for a command's flags.
`

// run executes the command line and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "analyze":
		return runAnalyze(args[1:], stdout, stderr)
	case "serve":
		return runServe(args[1:], stdout, stderr)
	case "migrate":
		return runMigrate(args[1:], stdout, stderr)
	case "healthcheck":
		return runHealthcheck(args[1:], stdout, stderr)
	case "token":
		return runToken(args[1:], stdout, stderr)
	case "import":
		return runImport(args[1:], stdout, stderr)
	case "version", "-version", "--version":
		return runVersion(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "talkratio: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}
