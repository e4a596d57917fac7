package sqlstore

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"

	"talkratio/call"
	"talkratio/vad"
)

// detail is what call_details keeps of a call: the big part of its record
// (segments, meter), which the list never needs.
type detail struct {
	Result *vad.Result `json:"result"`
	Meter  *vad.Meter  `json:"meter"`
}

func (s *Store) compressDetail(r *call.Record) ([]byte, error) {
	js, err := json.Marshal(detail{Result: r.Result, Meter: r.Meter})
	if err != nil {
		return nil, fmt.Errorf("encode analysis: %w", err)
	}
	var b bytes.Buffer
	b.Grow(len(js) / 3)
	zw := s.gzips.Get().(*gzip.Writer)
	defer s.gzips.Put(zw)
	zw.Reset(&b)
	if _, err := zw.Write(js); err != nil {
		return nil, fmt.Errorf("compress analysis: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress analysis: %w", err)
	}
	return b.Bytes(), nil
}

func decompressDetail(body []byte, r *call.Record) error {
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("analysis: %w", err)
	}
	js, err := io.ReadAll(zr)
	if err != nil {
		return fmt.Errorf("analysis: %w", err)
	}
	var d detail
	if err := json.Unmarshal(js, &d); err != nil {
		return fmt.Errorf("analysis: %w", err)
	}
	r.Result, r.Meter = d.Result, d.Meter
	return nil
}
