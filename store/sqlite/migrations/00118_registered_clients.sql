-- Clients that registered themselves (RFC 7591, core/registration.go):
-- oauth_clients.registered marks them, so that the consent page says no
-- one checked who runs them, and the operator can find them.

-- +goose Up
ALTER TABLE oauth_clients ADD COLUMN registered INTEGER NOT NULL DEFAULT 0;
-- The purge finds the old ones (DeleteUnusedRegistrations).
CREATE INDEX oauth_clients_registered ON oauth_clients (created) WHERE registered;

-- +goose Down
DROP INDEX oauth_clients_registered;
ALTER TABLE oauth_clients DROP COLUMN registered;
