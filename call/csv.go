package call

import (
	"strconv"
	"time"

	"talkratio/tally"
)

// CSVHeader names the columns of a call as CSV. `talkratio analyze
// --format csv` and GET /api/calls/{id}.csv print the same columns, so
// that one sheet takes both: where the audio came from, every metric, and
// the call's place in the library (empty for a file analyzed by the CLI).
func CSVHeader() []string {
	h := []string{"file", "rep_file", "customer_file", "error", "sample_rate"}
	h = append(h, tally.CSVHeader()...)
	return append(h, "id", "name", "rep", "customer", "source", "state", "started_at")
}

// CSVRow is the record as CSV fields, in CSVHeader's order. A call not
// analyzed (failed, or still analyzing) has empty metric cells.
func (r *Record) CSVRow() []string {
	row := []string{r.File, r.RepFile, r.CustomerFile, r.Error, ""}
	if r.SampleRate > 0 {
		row[4] = strconv.Itoa(r.SampleRate)
	}
	if r.Result != nil {
		m := r.Metrics
		m.DurationS = r.DurationS // the record's duration is the call's (see UnmarshalJSON)
		row = append(row, m.CSVRow()...)
	} else {
		row = append(row, make([]string, len(tally.CSVHeader()))...)
	}
	started := ""
	if !r.StartedAt.IsZero() {
		started = r.StartedAt.Format(time.RFC3339)
	}
	return append(row, r.ID, r.Name, r.Rep, r.Customer, r.Source, r.State, started)
}
