-- Clients that authenticate with a key: the twin of store/sqlite's 00114, which says what and why.

-- +goose Up
ALTER TABLE oauth_clients ADD COLUMN jwks text NOT NULL DEFAULT '';
CREATE TABLE client_assertions (
    client_id text        NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    jti_hash  bytea       NOT NULL,
    expiry    timestamptz NOT NULL,
    PRIMARY KEY (client_id, jti_hash)
);
CREATE INDEX client_assertions_expiry ON client_assertions (expiry);

-- +goose Down
DROP TABLE client_assertions;
ALTER TABLE oauth_clients DROP COLUMN jwks;
