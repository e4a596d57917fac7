package sqlstore

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"

	"talkratio/call"
)

// call_details keeps a call's whole record, as JSON (the format the data
// directory used), gzip-compressed: the big part (segments, meter) the list
// never needs, and every field the record gains without a migration.

func (s *Store) compressDetail(r *call.Record) ([]byte, error) {
	js, err := json.Marshal(r)
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

func decompressDetail(body []byte) (*call.Record, error) {
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	js, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	var r call.Record
	if err := json.Unmarshal(js, &r); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	return &r, nil
}
