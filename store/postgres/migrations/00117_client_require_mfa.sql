-- A client may require a second factor: the twin of store/sqlite's 00117, which says what and why.

-- +goose Up
ALTER TABLE oauth_clients ADD COLUMN require_mfa boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE oauth_clients DROP COLUMN require_mfa;
