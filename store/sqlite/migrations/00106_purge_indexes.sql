-- core's PurgeExpired (run by serve every hour) also deletes the logins
-- and account events older than 90 days, which no list shows, and the
-- rate-limit counters whose window ended, which count as nothing: these
-- indexes find them without reading every row.

-- +goose Up
CREATE INDEX logins_datetime ON logins (datetime);
CREATE INDEX account_events_created ON account_events (created);
CREATE INDEX rate_limits_reset_at ON rate_limits (reset_at);

-- +goose Down
DROP INDEX rate_limits_reset_at;
DROP INDEX account_events_created;
DROP INDEX logins_datetime;
