package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"talkratio/call"
)

// Nodes is call.Nodes in Postgres: the tables nodes and call_owners of
// the library's database (its migrations create them). Times are the
// database's, so that the nodes' clocks need not agree.
type Nodes struct {
	db *sql.DB
}

var _ call.Nodes = (*Nodes)(nil)

// OpenNodes connects to the library's database for the cluster's tables;
// Open must have migrated it. A small pool of its own keeps heartbeats
// from queueing behind the library's work.
func OpenNodes(ctx context.Context, url string) (*Nodes, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("postgres nodes: %w", err)
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres nodes: %w", err)
	}
	return &Nodes{db: db}, nil
}

// Close closes its connections.
func (n *Nodes) Close() error { return n.db.Close() }

// Heartbeat implements call.Nodes.
func (n *Nodes) Heartbeat(ctx context.Context, nd call.Node) error {
	_, err := n.db.ExecContext(ctx, `INSERT INTO nodes (id, url, live, max_calls, cpu, draining, seen_at)
		VALUES ($1, $2, $3, $4, $5, $6, now())
		ON CONFLICT (id) DO UPDATE SET url = $2, live = $3, max_calls = $4, cpu = $5, draining = $6, seen_at = now()`,
		nd.ID, nd.URL, nd.Live, nd.MaxCalls, nd.CPU, nd.Draining)
	if err != nil {
		return fmt.Errorf("heartbeat of node %s: %w", nd.ID, err)
	}
	return nil
}

// List implements call.Nodes: least loaded first (the share of its cap
// in use, then CPU), the full and draining ones last.
func (n *Nodes) List(ctx context.Context, within time.Duration) ([]call.Node, error) {
	rows, err := n.db.QueryContext(ctx, `SELECT id, url, live, max_calls, cpu, draining,
			EXTRACT(EPOCH FROM (now() - seen_at))
		FROM nodes WHERE seen_at > now() - make_interval(secs => $1)
		ORDER BY (draining OR (max_calls > 0 AND live >= max_calls)),
			CAST(live AS DOUBLE PRECISION) / GREATEST(max_calls, 1), cpu, id`, within.Seconds())
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	defer rows.Close()
	var out []call.Node
	for rows.Next() {
		var nd call.Node
		var age float64
		if err := rows.Scan(&nd.ID, &nd.URL, &nd.Live, &nd.MaxCalls, &nd.CPU, &nd.Draining, &age); err != nil {
			return nil, fmt.Errorf("list nodes: %w", err)
		}
		nd.Age = time.Duration(age * float64(time.Second))
		out = append(out, nd)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	return out, nil
}

// Claim implements call.Nodes: the insert decides, and the row that won
// is read back with its node's URL.
func (n *Nodes) Claim(ctx context.Context, callID, node string) (call.Node, error) {
	if _, err := n.db.ExecContext(ctx, `INSERT INTO call_owners (call_id, node, claimed_at)
		VALUES ($1, $2, now()) ON CONFLICT (call_id) DO NOTHING`, callID, node); err != nil {
		return call.Node{}, fmt.Errorf("claim call %s: %w", callID, err)
	}
	var h call.Node
	var url sql.NullString
	err := n.db.QueryRowContext(ctx, `SELECT o.node, n.url FROM call_owners o
		LEFT JOIN nodes n ON n.id = o.node WHERE o.call_id = $1`, callID).Scan(&h.ID, &url)
	if errors.Is(err, sql.ErrNoRows) {
		// Released between the two statements: the call ended.
		return call.Node{}, fmt.Errorf("claim call %s: %w", callID, call.ErrNotFound)
	}
	if err != nil {
		return call.Node{}, fmt.Errorf("claim call %s: %w", callID, err)
	}
	h.URL = url.String
	return h, nil
}

// Release implements call.Nodes.
func (n *Nodes) Release(ctx context.Context, callID, node string) error {
	if _, err := n.db.ExecContext(ctx, `DELETE FROM call_owners WHERE call_id = $1 AND node = $2`, callID, node); err != nil {
		return fmt.Errorf("release call %s: %w", callID, err)
	}
	return nil
}

// TakeOver implements call.Nodes. DELETE ... RETURNING hands each row to
// the one statement that deleted it.
func (n *Nodes) TakeOver(ctx context.Context, deadAfter time.Duration, node string) ([]string, error) {
	rows, err := n.db.QueryContext(ctx, `DELETE FROM call_owners o WHERE o.node = $2
		OR NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = o.node AND n.seen_at > now() - make_interval(secs => $1))
		RETURNING o.call_id`, deadAfter.Seconds(), node)
	if err != nil {
		return nil, fmt.Errorf("take over dead nodes' calls: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("take over dead nodes' calls: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("take over dead nodes' calls: %w", err)
	}
	return ids, nil
}
