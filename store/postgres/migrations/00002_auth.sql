-- Sign-in and the OAuth authorization server (issue 5), the PostgreSQL
-- twin of store/sqlite's: password hashes, trusted devices' secrets, login
-- challenges, OAuth clients, authorization codes and refresh tokens.
-- Secrets are stored only as hashes: argon2id PHC strings for passwords,
-- SHA-256 for random secrets.

-- +goose Up
CREATE TABLE passwords (
    user_id bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    hash    text   NOT NULL                      -- $argon2id$v=19$m=..,t=..,p=..$salt$key
);

-- A trusted device's cookie secret, by SHA-256. NULL for devices made
-- otherwise (there are none yet).
ALTER TABLE devices ADD COLUMN secret_hash bytea;
CREATE UNIQUE INDEX devices_secret_hash ON devices (secret_hash);

CREATE TABLE login_challenges (
    hash       bytea   PRIMARY KEY,
    user_id    bigint  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    remember   boolean NOT NULL,
    created    timestamptz NOT NULL,
    expiry     timestamptz NOT NULL,
    ip         text    NOT NULL,
    user_agent text    NOT NULL
);
CREATE INDEX login_challenges_expiry ON login_challenges (expiry);

CREATE TABLE oauth_clients (
    id            text    PRIMARY KEY,
    secret_hash   bytea,                         -- NULL: a public client
    label         text    NOT NULL,
    website       text    NOT NULL,
    thumbnail_url text    NOT NULL,
    redirect_uris text[]  NOT NULL,
    public        boolean NOT NULL,
    created       timestamptz NOT NULL
);

CREATE TABLE oauth_codes (
    hash         bytea   PRIMARY KEY,
    client_id    text    NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id      bigint  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri text    NOT NULL,
    scopes       text    NOT NULL,
    challenge    text    NOT NULL,               -- PKCE S256 code_challenge, '' if none
    created      timestamptz NOT NULL,
    expiry       timestamptz NOT NULL,
    used         boolean NOT NULL,
    app_id       bigint                          -- the authorization its exchange made
);
CREATE INDEX oauth_codes_expiry ON oauth_codes (expiry);

CREATE TABLE refresh_tokens (
    hash      bytea   PRIMARY KEY,
    user_id   bigint  NOT NULL,
    app_id    bigint  NOT NULL,
    client_id text    NOT NULL,
    scopes    text    NOT NULL,
    created   timestamptz NOT NULL,
    expiry    timestamptz NOT NULL,
    used      boolean NOT NULL,
    -- Revoking the authorization kills its refresh tokens with it.
    FOREIGN KEY (user_id, app_id) REFERENCES apps (user_id, id) ON DELETE CASCADE
);
CREATE INDEX refresh_tokens_app_id ON refresh_tokens (app_id);

-- +goose Down
DROP TABLE refresh_tokens;
DROP TABLE oauth_codes;
DROP TABLE oauth_clients;
DROP TABLE login_challenges;
DROP INDEX devices_secret_hash;
ALTER TABLE devices DROP COLUMN secret_hash;
DROP TABLE passwords;
