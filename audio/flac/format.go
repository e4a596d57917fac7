package flac

// The FLAC stream layout (RFC 9639) that the reader and the writer share.
const (
	flacMagic = "fLaC"

	flacMetaHeaderSize = 4  // last-block flag, type, 24-bit length
	flacStreamInfoSize = 34 // RFC 9639 section 8.2
	flacSeekPointSize  = 18 // sample number, byte offset, frame samples

	flacMetaStreamInfo = 0
	flacMetaPadding    = 1
	flacMetaSeekTable  = 3
	flacLastMetaBlock  = 0x80

	// flacMaxTotalSamples is what STREAMINFO's 36-bit field can count.
	flacMaxTotalSamples = 1<<36 - 1
)

// Channel assignments in the frame header (RFC 9639 section 9.1.3).
const (
	chanIndependent = 0 // plus channels-1
	chanLeftSide    = 8
	chanSideRight   = 9
	chanMidSide     = 10
)

// Frame header tables (RFC 9639 section 9.1).
var flacRates = [16]int{0, 88200, 176400, 192000, 8000, 16000, 22050, 24000, 32000, 44100, 48000, 96000}
var flacDepths = [8]int{0, 8, 12, 0, 16, 20, 24, 32}
