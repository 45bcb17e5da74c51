-- Expired credentials are deleted (core's PurgeExpired, run by serve
-- every hour): these indexes find them without reading every row.

-- +goose Up
CREATE INDEX tokens_expiry ON tokens (expiry);
CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expiry);
CREATE INDEX apps_expiry ON apps (expiry);
CREATE INDEX devices_expiry ON devices (expiry);

-- +goose Down
DROP INDEX devices_expiry;
DROP INDEX apps_expiry;
DROP INDEX refresh_tokens_expiry;
DROP INDEX tokens_expiry;
