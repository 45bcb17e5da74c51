package sqlite

import (
	"context"
	"slices"
	"time"

	"github.com/profiled/profiled/core"
)

func (t tx) Enqueue(ctx context.Context, m *core.OutboxMessage) error {
	err := t.q.QueryRowContext(ctx, `INSERT INTO outbox (topic, payload, created, not_before) VALUES (?, ?, ?, ?) RETURNING id`,
		m.Topic, m.Payload, unix(m.Created), unix(m.Created)).Scan(&m.ID)
	return storeErr("enqueue", err)
}

// ClaimOutbox needs no row locks: SQLite runs one write transaction at a
// time, across processes too, so the claim's UPDATE sees every claim
// before it.
func (t tx) ClaimOutbox(ctx context.Context, topic string, now time.Time, lease time.Duration, limit int) ([]core.OutboxMessage, error) {
	rows, err := t.q.QueryContext(ctx, `UPDATE outbox SET not_before = ?, attempts = attempts + 1
		WHERE id IN (SELECT id FROM outbox WHERE topic = ? AND not_before <= ? ORDER BY id LIMIT ?)
		RETURNING id, topic, payload, created, attempts, last_error`,
		unix(now.Add(lease)), topic, unix(now), limit)
	if err != nil {
		return nil, storeErr("claim outbox", err)
	}
	defer rows.Close()
	var out []core.OutboxMessage
	for rows.Next() {
		var m core.OutboxMessage
		var created int64
		if err := rows.Scan(&m.ID, &m.Topic, &m.Payload, &created, &m.Attempts, &m.LastErr); err != nil {
			return nil, storeErr("claim outbox", err)
		}
		m.Created = fromUnix(created)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, storeErr("claim outbox", err)
	}
	slices.SortFunc(out, func(a, b core.OutboxMessage) int { return int(a.ID - b.ID) })
	return out, nil
}

func (t tx) FinishOutbox(ctx context.Context, id int64) error {
	res, err := t.q.ExecContext(ctx, `DELETE FROM outbox WHERE id = ?`, id)
	return affectedOne("finish outbox", res, err)
}

func (t tx) RetryOutbox(ctx context.Context, id int64, notBefore time.Time, lastErr string) error {
	res, err := t.q.ExecContext(ctx, `UPDATE outbox SET not_before = ?, last_error = ? WHERE id = ?`, unix(notBefore), lastErr, id)
	return affectedOne("retry outbox", res, err)
}

func (r reader) OutboxDepth(ctx context.Context, topic string) (int, error) {
	var n int
	err := r.q.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE topic = ?`, topic).Scan(&n)
	return n, storeErr("outbox depth", err)
}
