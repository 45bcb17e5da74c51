-- Pushed authorization requests: the twin of store/sqlite's 00112, which says what and why.

-- +goose Up
CREATE TABLE pushed_authorizations (
    hash      bytea       PRIMARY KEY,
    client_id text        NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    params    text        NOT NULL,
    created   timestamptz NOT NULL,
    expiry    timestamptz NOT NULL
);
CREATE INDEX pushed_authorizations_expiry ON pushed_authorizations (expiry);
CREATE INDEX pushed_authorizations_client_id ON pushed_authorizations (client_id);

-- +goose Down
DROP TABLE pushed_authorizations;
