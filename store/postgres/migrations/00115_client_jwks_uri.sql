-- Clients that publish their keys: the twin of store/sqlite's 00115, which says what and why.

-- +goose Up
ALTER TABLE oauth_clients ADD COLUMN jwks_uri text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE oauth_clients DROP COLUMN jwks_uri;
