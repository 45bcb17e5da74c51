-- Purge indexes: the twin of store/sqlite's 00106, which says what and why.

-- +goose Up
CREATE INDEX logins_datetime ON logins (datetime);
CREATE INDEX account_events_created ON account_events (created);
CREATE INDEX rate_limits_reset_at ON rate_limits (reset_at);

-- +goose Down
DROP INDEX rate_limits_reset_at;
DROP INDEX account_events_created;
DROP INDEX logins_datetime;
