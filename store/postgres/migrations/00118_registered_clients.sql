-- Clients that registered themselves: the twin of store/sqlite's 00118, which says what and why.

-- +goose Up
ALTER TABLE oauth_clients ADD COLUMN registered boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE oauth_clients DROP COLUMN registered;
