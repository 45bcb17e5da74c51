-- Clients that registered themselves: the twin of store/sqlite's 00118, which says what and why.

-- +goose Up
ALTER TABLE oauth_clients ADD COLUMN registered boolean NOT NULL DEFAULT false;
-- The purge finds the old ones (DeleteUnusedRegistrations).
CREATE INDEX oauth_clients_registered ON oauth_clients (created) WHERE registered;

-- +goose Down
DROP INDEX oauth_clients_registered;
ALTER TABLE oauth_clients DROP COLUMN registered;
