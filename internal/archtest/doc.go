// Package archtest holds the house rules of talkratio's layout, as a test
// that `go test ./...` (and so .ci/run) runs: which package may import
// what, and how large a file and a package may grow. It has no code of its
// own.
package archtest
