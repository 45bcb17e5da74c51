-- An operator marks an OAuth client first-party: the twin of store/sqlite's
-- 00092, which says what it allows.

-- +goose Up
ALTER TABLE oauth_clients ADD COLUMN first_party boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE oauth_clients DROP COLUMN first_party;
