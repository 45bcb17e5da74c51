-- Clients that authenticate with a key (private_key_jwt, RFC 7523;
-- core/clientkeys.go): oauth_clients.jwks is the JWK Set of their public
-- keys, and client_assertions the jtis of the assertions they spent,
-- each kept until it expires, so that none is taken twice.

-- +goose Up
ALTER TABLE oauth_clients ADD COLUMN jwks TEXT NOT NULL DEFAULT '';
CREATE TABLE client_assertions (
    client_id TEXT    NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    jti_hash  BLOB    NOT NULL,
    expiry    INTEGER NOT NULL,
    PRIMARY KEY (client_id, jti_hash)
) STRICT;
CREATE INDEX client_assertions_expiry ON client_assertions (expiry);

-- +goose Down
DROP TABLE client_assertions;
ALTER TABLE oauth_clients DROP COLUMN jwks;
