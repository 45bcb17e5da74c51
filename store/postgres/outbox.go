package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/profiled/profiled/core"
)

func (t tx) Enqueue(ctx context.Context, m *core.OutboxMessage) error {
	err := t.q.QueryRow(ctx, `INSERT INTO outbox (topic, payload, created, not_before) VALUES ($1, $2, $3, $3) RETURNING id`,
		m.Topic, m.Payload, ts(m.Created)).Scan(&m.ID)
	return t.err("enqueue", err)
}

// ClaimOutbox locks the due rows it takes with FOR UPDATE SKIP LOCKED:
// a worker on another replica claiming at the same moment skips them and
// takes the next ones, instead of waiting, or taking them too.
func (t tx) ClaimOutbox(ctx context.Context, topic string, now time.Time, lease time.Duration, limit int) ([]core.OutboxMessage, error) {
	rows, err := t.q.Query(ctx, `UPDATE outbox SET not_before = $1, attempts = attempts + 1
		WHERE id IN (SELECT id FROM outbox WHERE topic = $2 AND not_before <= $3 ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED)
		RETURNING id, topic, payload, created, attempts, last_error`,
		ts(now.Add(lease)), topic, ts(now), limit)
	if err != nil {
		return nil, t.err("claim outbox", err)
	}
	defer rows.Close()
	var out []core.OutboxMessage
	for rows.Next() {
		var m core.OutboxMessage
		if err := rows.Scan(&m.ID, &m.Topic, &m.Payload, &m.Created, &m.Attempts, &m.LastErr); err != nil {
			return nil, t.err("claim outbox", err)
		}
		m.Created = m.Created.UTC()
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, t.err("claim outbox", err)
	}
	slices.SortFunc(out, func(a, b core.OutboxMessage) int { return int(a.ID - b.ID) })
	return out, nil
}

func (t tx) FinishOutbox(ctx context.Context, id int64) error {
	tag, err := t.q.Exec(ctx, `DELETE FROM outbox WHERE id = $1`, id)
	return t.affectedOne("finish outbox", tag, err)
}

func (t tx) RetryOutbox(ctx context.Context, id int64, notBefore time.Time, lastErr string) error {
	tag, err := t.q.Exec(ctx, `UPDATE outbox SET not_before = $1, last_error = $2 WHERE id = $3`, ts(notBefore), lastErr, id)
	return t.affectedOne("retry outbox", tag, err)
}

func (r reader) OutboxDepth(ctx context.Context, topic string) (int, error) {
	var n int
	err := r.q.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE topic = $1`, topic).Scan(&n)
	return n, r.err("outbox depth", err)
}
