// Package web holds talkratio's browser UI: plain HTML, CSS and ES-module
// JavaScript with no build step and no external resources, embedded into the
// binary.
//
// FS returns the files with index.html at the root. The server is expected to
// mount it at "/" (shared assets are referenced as /assets/...) and to map the
// page routes onto the HTML files:
//
//	/             -> index.html   (live calls, the call library, uploads)
//	/calls/{id}   -> call.html    (live meter of one call; id = last path segment)
//	/replay/{id}  -> replay.html  (replay of a stored call; id = last path segment)
//	/reps         -> reps.html    (all reps with their averages)
//	/reps/{rep}   -> reps.html    (one rep: trend and calls; rep URL-encoded)
//	/capture      -> capture.html (rep's WHIP publishing page)
//
// The pages talk to the server only through GET /api/calls (with rep, from,
// to, limit, offset, sort and order), POST /api/calls (multipart upload),
// GET and DELETE /api/calls/{id}, GET /api/calls/{id}.csv,
// GET /api/calls/{id}/audio, GET /api/reps, the websocket /ws/calls/{id} and
// POST /whip (+ DELETE on the session URL).
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// FS returns the UI's static files, rooted so that "index.html",
// "call.html", "capture.html", "reps.html", "replay.html" and "assets/..."
// are at the top level.
func FS() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		// fs.Sub only fails on an invalid path, and "static" is a valid
		// constant one; the embedded FS itself is the least-bad answer.
		return static
	}
	return sub
}
