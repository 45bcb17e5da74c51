-- Pushed authorization requests (RFC 9126, core/par.go): a client posts
-- its authorization request server to server and sends the browser only
-- a request_uri, whose SHA-256 is the key here; params are the request's
-- parameters as a JSON object, read back by the authorization endpoint.

-- +goose Up
CREATE TABLE pushed_authorizations (
    hash      BLOB    PRIMARY KEY,
    client_id TEXT    NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    params    TEXT    NOT NULL,
    created   INTEGER NOT NULL,
    expiry    INTEGER NOT NULL
) STRICT;
CREATE INDEX pushed_authorizations_expiry ON pushed_authorizations (expiry);
CREATE INDEX pushed_authorizations_client_id ON pushed_authorizations (client_id);

-- +goose Down
DROP TABLE pushed_authorizations;
