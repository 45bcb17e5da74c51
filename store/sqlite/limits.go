package sqlite

import (
	"context"
	"time"
)

// HitLimit counts an attempt in one statement, so the read and the write
// of the counter cannot be split by another writer on any connection. A
// window that ended (reset_at <= now) restarts at 1 with a new end.
func (t tx) HitLimit(ctx context.Context, key string, window time.Duration, now time.Time) (int, time.Time, error) {
	nowUnix, resetAt := unix(now), unix(now.Add(window))
	var count int
	var end int64
	err := t.q.QueryRowContext(ctx, `INSERT INTO rate_limits (key, count, reset_at) VALUES (?, 1, ?)
		ON CONFLICT (key) DO UPDATE SET
			count    = CASE WHEN rate_limits.reset_at <= ? THEN 1 ELSE rate_limits.count + 1 END,
			reset_at = CASE WHEN rate_limits.reset_at <= ? THEN excluded.reset_at ELSE rate_limits.reset_at END
		RETURNING count, reset_at`,
		key, resetAt, nowUnix, nowUnix).Scan(&count, &end)
	if err != nil {
		return 0, time.Time{}, storeErr("hit limit", err)
	}
	return count, fromUnix(end), nil
}

// RefundLimit takes back one attempt of a window still open.
func (t tx) RefundLimit(ctx context.Context, key string, now time.Time) error {
	_, err := t.q.ExecContext(ctx, `UPDATE rate_limits SET count = count - 1 WHERE key = ? AND count > 0 AND reset_at > ?`, key, unix(now))
	return storeErr("refund limit", err)
}

// ResetLimit forgets key's counter; forgetting an unknown key is no error.
func (t tx) ResetLimit(ctx context.Context, key string) error {
	_, err := t.q.ExecContext(ctx, `DELETE FROM rate_limits WHERE key = ?`, key)
	return storeErr("reset limit", err)
}
