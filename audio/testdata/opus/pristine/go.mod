// A module of its own, without the talkratio module's replace, so that it
// builds against the unmodified github.com/pion/opus.
module opusreference

go 1.26.8

require github.com/pion/opus v0.1.0
