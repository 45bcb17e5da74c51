package sqlstore

import (
	"context"
	"slices"
	"time"

	"github.com/profiled/profiled/core"
)

func (t Tx) Enqueue(ctx context.Context, m *core.OutboxMessage) error {
	created := t.d.Time(m.Created)
	return t.insert(ctx, "enqueue", &m.ID,
		`INSERT INTO outbox (topic, payload, created, not_before) VALUES (?, ?, ?, ?) RETURNING id`,
		m.Topic, m.Payload, created, created)
}

// ClaimOutbox takes due messages for a lease. Where transactions run side
// by side (PostgreSQL's replicas) it locks the rows it takes with FOR
// UPDATE SKIP LOCKED: a worker on another replica claiming at the same
// moment skips them and takes the next ones, instead of waiting or taking
// them too. SQLite runs one write transaction at a time, across processes
// too, so there the claim's UPDATE sees every claim before it.
func (t Tx) ClaimOutbox(ctx context.Context, topic string, now time.Time, lease time.Duration, limit int) ([]core.OutboxMessage, error) {
	out, err := collect(ctx, t.Reader, "claim outbox", func(row Row) (core.OutboxMessage, error) {
		var m core.OutboxMessage
		err := row.Scan(&m.ID, &m.Topic, &m.Payload, at(&m.Created), &m.Attempts, &m.LastErr)
		return m, err
	}, `UPDATE outbox SET not_before = ?, attempts = attempts + 1
		WHERE id IN (SELECT id FROM outbox WHERE topic = ? AND not_before <= ? ORDER BY id LIMIT ?`+t.d.SkipLocked+`)
		RETURNING id, topic, payload, created, attempts, last_error`,
		t.d.Time(now.Add(lease)), topic, t.d.Time(now), limit)
	if err != nil {
		return nil, err
	}
	// RETURNING promises no order.
	slices.SortFunc(out, func(a, b core.OutboxMessage) int { return int(a.ID - b.ID) })
	return out, nil
}

func (t Tx) FinishOutbox(ctx context.Context, id int64) error {
	return t.exec(ctx, "finish outbox", `DELETE FROM outbox WHERE id = ?`, id)
}

func (t Tx) RetryOutbox(ctx context.Context, id int64, notBefore time.Time, lastErr string) error {
	return t.exec(ctx, "retry outbox", `UPDATE outbox SET not_before = ?, last_error = ? WHERE id = ?`, t.d.Time(notBefore), lastErr, id)
}

func (r Reader) OutboxDepth(ctx context.Context, topic string) (int, error) {
	var n int
	err := r.q.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE topic = ?`, topic).Scan(&n)
	return n, r.err("outbox depth", err)
}
