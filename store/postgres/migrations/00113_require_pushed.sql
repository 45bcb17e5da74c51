-- Clients held to pushed authorization requests: the twin of store/sqlite's 00113, which says what and why.

-- +goose Up
ALTER TABLE oauth_clients ADD COLUMN require_pushed boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE oauth_clients DROP COLUMN require_pushed;
