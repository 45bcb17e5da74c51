-- Expiry indexes: the twin of store/sqlite's 00104, which says what and why.

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
