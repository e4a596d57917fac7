package sqlstore

import (
	"fmt"
	"strings"
)

// queries are the store's fixed statements, rebound for the dialect once.
type queries struct {
	selectOld, upsertCall, upsertDetail, deleteDetail, deleteCall string
	selectRecord                                                  string
	recountDay, upsertDay, deleteDay                              string
	recountRep, upsertRep, deleteRep                              string
	lockRep, lockDay                                              string
	recountTotal, upsertTotal, deleteTotal                        string
}

// sumsOf are the rollup's sums over calls rows (recountDay) or rep_days
// rows (recountRep, with n_all summed instead of counted). The CASTs keep
// every sum a BIGINT: Postgres sums BIGINTs into NUMERIC.
const daySums = `CAST(COUNT(*) AS BIGINT),
	CAST(COALESCE(SUM(CASE WHEN state = 'ended' THEN 1 ELSE 0 END), 0) AS BIGINT),
	CAST(COALESCE(SUM(CASE WHEN state = 'ended' AND listen_tenths IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT),
	CAST(COALESCE(SUM(CASE WHEN state = 'ended' THEN listen_tenths ELSE 0 END), 0) AS BIGINT),
	CAST(COALESCE(SUM(CASE WHEN state = 'ended' THEN monologue_ms ELSE 0 END), 0) AS BIGINT),
	CAST(COALESCE(SUM(CASE WHEN state = 'ended' THEN on_target ELSE 0 END), 0) AS BIGINT),
	CAST(COALESCE(MAX(CASE WHEN state = 'ended' THEN started_ns END), 0) AS BIGINT)`

const repSums = `CAST(COALESCE(SUM(n_all), 0) AS BIGINT), CAST(COALESCE(SUM(calls), 0) AS BIGINT),
	CAST(COALESCE(SUM(listen_n), 0) AS BIGINT), CAST(COALESCE(SUM(listen_tenths), 0) AS BIGINT),
	CAST(COALESCE(SUM(monologue_ms), 0) AS BIGINT), CAST(COALESCE(SUM(on_target), 0) AS BIGINT),
	CAST(COALESCE(MAX(last_ns), 0) AS BIGINT)`

// rollupColumns are rep_days' and reps' sums, in the order of daySums.
const rollupColumns = `n_all, calls, listen_n, listen_tenths, monologue_ms, on_target, last_ns`

func placeholders(from, n int) string {
	p := make([]string, n)
	for i := range p {
		p[i] = fmt.Sprintf("$%d", from+i)
	}
	return strings.Join(p, ", ")
}

// updateAll is an upsert's SET clause: every column but the key takes the
// row that was to be inserted.
func updateAll(columns string, keys int) string {
	var set []string
	for i, c := range strings.Split(columns, ",") {
		if i < keys {
			continue
		}
		c = strings.TrimSpace(c)
		set = append(set, c+" = excluded."+c)
	}
	return strings.Join(set, ", ")
}

func buildQueries(d Dialect) queries {
	r := d.Rebind
	dayCols := "rep, day, rep_key, " + rollupColumns
	repCols := "rep, rep_key, " + rollupColumns
	q := queries{
		selectOld: r(`SELECT rep, day, state FROM calls WHERE id = $1` + d.ForUpdate),
		upsertCall: r(`INSERT INTO calls (` + callColumns + `) VALUES (` + placeholders(1, numCallColumns) +
			`) ON CONFLICT (id) DO UPDATE SET ` + updateAll(callColumns, 1)),
		upsertDetail: r(`INSERT INTO call_details (id, body) VALUES ($1, $2)
			ON CONFLICT (id) DO UPDATE SET body = excluded.body`),
		deleteDetail: r(`DELETE FROM call_details WHERE id = $1`),
		deleteCall:   r(`DELETE FROM calls WHERE id = $1`),
		selectRecord: r(`SELECT body FROM call_details WHERE id = $1`),
		recountDay:   r(`SELECT ` + daySums + ` FROM calls WHERE rep = $1 AND day = $2`),
		upsertDay: r(`INSERT INTO rep_days (` + dayCols + `) VALUES (` + placeholders(1, 10) +
			`) ON CONFLICT (rep, day) DO UPDATE SET ` + updateAll(dayCols, 2)),
		deleteDay:  r(`DELETE FROM rep_days WHERE rep = $1 AND day = $2`),
		recountRep: r(`SELECT ` + repSums + ` FROM rep_days WHERE rep = $1`),
		upsertRep: r(`INSERT INTO reps (` + repCols + `) VALUES (` + placeholders(1, 9) +
			`) ON CONFLICT (rep) DO UPDATE SET ` + updateAll(repCols, 1)),
		deleteRep:    r(`DELETE FROM reps WHERE rep = $1`),
		recountTotal: r(`SELECT CAST(COALESCE(SUM(n_all), 0) AS BIGINT) FROM rep_days WHERE day = $1`),
		upsertTotal: r(`INSERT INTO days (day, n_all) VALUES ($1, $2)
			ON CONFLICT (day) DO UPDATE SET n_all = excluded.n_all`),
		deleteTotal: r(`DELETE FROM days WHERE day = $1`),
	}
	if d.LockRep != "" {
		q.lockRep = r(d.LockRep)
	}
	if d.LockDay != "" {
		q.lockDay = r(d.LockDay)
	}
	return q
}

// sortColumn is the calls column a list order reads, and the index it
// walks (with started_ns and id after it): see the migrations.
func sortColumn(sort string) string {
	switch sort {
	case "duration_s":
		return "duration_s"
	case "listen_pct":
		return "listen_sort"
	case "longest_rep_monologue_s":
		return "longest_rep_monologue_s"
	case "rep":
		return "rep_sort"
	case "name":
		return "name_sort"
	}
	return "started_ns"
}
