package call

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Comment is a coach's note on a moment of a call, kept with its record.
type Comment struct {
	ID        string    `json:"id"`
	AtS       float64   `json:"at_s"`
	Text      string    `json:"text"`
	Author    string    `json:"author,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Limits on comments: they are kept inside the call's record.
const (
	MaxCommentBytes = 2000
	MaxComments     = 500
)

// ErrCommentRefused is why AddComment refuses a comment; it wraps the
// reason.
var ErrCommentRefused = errors.New("comment refused")

// AddComment adds a comment at a moment of the call, in time order, and
// returns it. The moment must lie within the call, the text be non-empty
// UTF-8 of at most MaxCommentBytes, and the call hold fewer than
// MaxComments.
func (r *Record) AddComment(at float64, text, author string, now time.Time) (Comment, error) {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return Comment{}, fmt.Errorf("%w: the text is empty", ErrCommentRefused)
	case len(text) > MaxCommentBytes || !utf8.ValidString(text):
		return Comment{}, fmt.Errorf("%w: the text must be UTF-8 of at most %d bytes", ErrCommentRefused, MaxCommentBytes)
	case !(at >= 0 && at <= r.DurationS):
		return Comment{}, fmt.Errorf("%w: at_s %v is not within the call (0 to %v s)", ErrCommentRefused, at, r.DurationS)
	case len(r.Comments) >= MaxComments:
		return Comment{}, fmt.Errorf("%w: the call has %d comments already", ErrCommentRefused, MaxComments)
	}
	c := Comment{ID: NewID(6), AtS: Round3(at), Text: text, Author: clip(author, maxLabel), CreatedAt: now.UTC()}
	i, _ := slices.BinarySearchFunc(r.Comments, c, func(a, b Comment) int {
		if a.AtS <= b.AtS {
			return -1 // after those at the same moment: in the order written
		}
		return 1
	})
	r.Comments = slices.Insert(r.Comments, i, c)
	return c, nil
}

// DeleteComment removes a comment; false if the call has none by that id.
func (r *Record) DeleteComment(id string) bool {
	n := len(r.Comments)
	r.Comments = slices.DeleteFunc(r.Comments, func(c Comment) bool { return c.ID == id })
	return len(r.Comments) < n
}
