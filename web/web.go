// Package web holds talkratio's browser UI: plain HTML, CSS and ES-module
// JavaScript with no build step and no external resources, embedded into the
// binary.
//
// FS returns the files with index.html at the root. The server is expected to
// mount it at "/" (shared assets are referenced as /assets/...) and to map the
// page routes onto the HTML files:
//
//	/            -> index.html   (list of live and ended calls)
//	/calls/{id}  -> call.html    (live meter of one call; id = last path segment)
//	/capture     -> capture.html (rep's WHIP publishing page)
//
// The pages talk to the server only through GET /api/calls, GET
// /api/calls/{id}, the websocket /ws/calls/{id} and POST /whip (+ DELETE on
// the session URL).
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// FS returns the UI's static files, rooted so that "index.html",
// "call.html", "capture.html" and "assets/..." are at the top level.
func FS() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		// fs.Sub only fails on an invalid path, and "static" is a valid
		// constant one; the embedded FS itself is the least-bad answer.
		return static
	}
	return sub
}
