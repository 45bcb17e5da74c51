package postgres

import (
	"context"
	"time"
)

// HitLimit counts an attempt in one statement: INSERT ... ON CONFLICT DO
// UPDATE locks the counter's row, so concurrent attempts on any replica
// queue on it and each sees the count the one before left. A window that
// ended (reset_at <= now) restarts at 1 with a new end. Times are whole
// seconds, as in SQLite.
func (t tx) HitLimit(ctx context.Context, key string, window time.Duration, now time.Time) (int, time.Time, error) {
	var count int
	var end time.Time
	err := t.q.QueryRow(ctx, `INSERT INTO rate_limits AS r (key, count, reset_at) VALUES ($1, 1, $2)
		ON CONFLICT (key) DO UPDATE SET
			count    = CASE WHEN r.reset_at <= $3 THEN 1 ELSE r.count + 1 END,
			reset_at = CASE WHEN r.reset_at <= $3 THEN excluded.reset_at ELSE r.reset_at END
		RETURNING count, reset_at`,
		key, ts(now.Add(window)), ts(now)).Scan(&count, &end)
	if err != nil {
		return 0, time.Time{}, t.err("hit limit", err)
	}
	return count, end.UTC(), nil
}

// RefundLimit takes back one attempt of a window still open.
func (t tx) RefundLimit(ctx context.Context, key string, now time.Time) error {
	if !storable(key) {
		return nil
	}
	_, err := t.q.Exec(ctx, `UPDATE rate_limits SET count = count - 1 WHERE key = $1 AND count > 0 AND reset_at > $2`, key, ts(now))
	return t.err("refund limit", err)
}

// ResetLimit forgets key's counter; forgetting an unknown key is no error.
func (t tx) ResetLimit(ctx context.Context, key string) error {
	if !storable(key) {
		return nil
	}
	_, err := t.q.Exec(ctx, `DELETE FROM rate_limits WHERE key = $1`, key)
	return t.err("reset limit", err)
}
