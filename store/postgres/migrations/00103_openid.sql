-- OpenID Connect: the twin of store/sqlite's 00103, which says what and why.

-- +goose Up
ALTER TABLE oauth_codes ADD COLUMN nonce text NOT NULL DEFAULT '';
ALTER TABLE oauth_codes ADD COLUMN auth_time timestamptz;
CREATE TABLE signing_keys (
    id      text        PRIMARY KEY,
    created timestamptz NOT NULL,
    sealed  bytea       NOT NULL
);

-- +goose Down
DROP TABLE signing_keys;
ALTER TABLE oauth_codes DROP COLUMN auth_time;
ALTER TABLE oauth_codes DROP COLUMN nonce;
