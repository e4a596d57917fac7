package flac

// seekTable collects seek points in constant memory: when it is full it
// drops every other point and doubles the spacing.
type seekTable struct {
	capacity int
	every    uint64 // frames between points
	points   []flacSeekPoint
}

type flacSeekPoint struct {
	sample  uint64
	offset  uint64 // from the first frame header
	samples uint16
}

// reserved is the byte length of the region after STREAMINFO that holds the
// seek table and the padding after it: room for every point plus two block
// headers, so the table can take any number of points up to capacity.
func (s *seekTable) reserved() int {
	return 2*flacMetaHeaderSize + s.capacity*flacSeekPointSize
}

// add records a point, thinning the table when it is full.
func (s *seekTable) add(p flacSeekPoint) {
	if len(s.points) == s.capacity {
		// Keep the points on multiples of the doubled spacing: every other
		// one, starting with the first (sample 0).
		k := 0
		for i := 0; i < len(s.points); i += 2 {
			s.points[k] = s.points[i]
			k++
		}
		s.points = s.points[:k]
		s.every *= 2
		// The new point is on the doubled grid only if its frame is.
		if frameOf := p.sample / uint64(flacBlockSize); frameOf%s.every != 0 {
			return
		}
	}
	s.points = append(s.points, p)
}
