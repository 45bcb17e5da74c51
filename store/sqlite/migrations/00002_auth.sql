-- Sign-in and the OAuth authorization server (issue 5): password hashes,
-- trusted devices' secrets, login challenges, OAuth clients, authorization
-- codes and refresh tokens. Secrets are stored only as hashes: argon2id
-- PHC strings for passwords, SHA-256 for random secrets.

-- +goose Up
CREATE TABLE passwords (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    hash    TEXT    NOT NULL                     -- $argon2id$v=19$m=..,t=..,p=..$salt$key
) STRICT;

-- A trusted device's cookie secret, by SHA-256. NULL for devices made
-- otherwise (there are none yet).
ALTER TABLE devices ADD COLUMN secret_hash BLOB;
CREATE UNIQUE INDEX devices_secret_hash ON devices (secret_hash);

CREATE TABLE login_challenges (
    hash       BLOB    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    remember   INTEGER NOT NULL,
    created    INTEGER NOT NULL,
    expiry     INTEGER NOT NULL,
    ip         TEXT    NOT NULL,
    user_agent TEXT    NOT NULL
) STRICT;
CREATE INDEX login_challenges_expiry ON login_challenges (expiry);

CREATE TABLE oauth_clients (
    id            TEXT    PRIMARY KEY,
    secret_hash   BLOB,                          -- NULL: a public client
    label         TEXT    NOT NULL,
    website       TEXT    NOT NULL,
    thumbnail_url TEXT    NOT NULL,
    redirect_uris TEXT    NOT NULL,              -- JSON: an array of strings
    public        INTEGER NOT NULL,
    created       INTEGER NOT NULL
) STRICT;

CREATE TABLE oauth_codes (
    hash         BLOB    PRIMARY KEY,
    client_id    TEXT    NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri TEXT    NOT NULL,
    scopes       TEXT    NOT NULL,
    challenge    TEXT    NOT NULL,               -- PKCE S256 code_challenge, '' if none
    created      INTEGER NOT NULL,
    expiry       INTEGER NOT NULL,
    used         INTEGER NOT NULL,
    app_id       INTEGER                         -- the authorization its exchange made
) STRICT;
CREATE INDEX oauth_codes_expiry ON oauth_codes (expiry);

CREATE TABLE refresh_tokens (
    hash      BLOB    PRIMARY KEY,
    user_id   INTEGER NOT NULL,
    app_id    INTEGER NOT NULL,
    client_id TEXT    NOT NULL,
    scopes    TEXT    NOT NULL,
    created   INTEGER NOT NULL,
    expiry    INTEGER NOT NULL,
    used      INTEGER NOT NULL,
    -- Revoking the authorization kills its refresh tokens with it.
    FOREIGN KEY (user_id, app_id) REFERENCES apps (user_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX refresh_tokens_app_id ON refresh_tokens (app_id);

-- +goose Down
DROP TABLE refresh_tokens;
DROP TABLE oauth_codes;
DROP TABLE oauth_clients;
DROP TABLE login_challenges;
DROP INDEX devices_secret_hash;
ALTER TABLE devices DROP COLUMN secret_hash;
DROP TABLE passwords;
