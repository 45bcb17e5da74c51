-- The initial schema. Times are INTEGER unix seconds in UTC, booleans are
-- 0 or 1. Every table that belongs to a user refers to users with
-- ON DELETE CASCADE, so deleting a user removes everything they own.
-- AUTOINCREMENT keeps ids of deleted rows from being handed out again,
-- as PostgreSQL identities never are.

-- +goose Up
CREATE TABLE users (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    username               TEXT    NOT NULL UNIQUE,
    email                  TEXT    NOT NULL,
    timezone               TEXT    NOT NULL,
    email_notifications    INTEGER NOT NULL,
    ip_whitelist_enabled   INTEGER NOT NULL,
    lish_auth_method       TEXT    NOT NULL,
    authorized_keys        TEXT    NOT NULL, -- JSON: an array of strings, or null
    restricted             INTEGER NOT NULL,
    two_factor_auth        INTEGER NOT NULL,
    authentication_type    TEXT    NOT NULL,
    verified_phone_number  TEXT    NOT NULL,
    referral_code          TEXT    NOT NULL,
    created                INTEGER NOT NULL,
    -- Two-factor state (core.TFAState): all NULL/0 until first set.
    tfa_secret_enc         BLOB,
    tfa_pending_secret_enc BLOB,
    tfa_pending_expiry     INTEGER,          -- NULL: the zero time
    tfa_last_step          INTEGER NOT NULL DEFAULT 0,
    -- A restricted user's grants as JSON, NULL when none were stored.
    grants                 TEXT
) STRICT;

CREATE TABLE ssh_keys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label       TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    created     INTEGER NOT NULL,
    UNIQUE (user_id, fingerprint)
) STRICT;

CREATE TABLE apps (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id     TEXT    NOT NULL,
    label         TEXT    NOT NULL,
    scopes        TEXT    NOT NULL,
    website       TEXT    NOT NULL,
    thumbnail_url TEXT    NOT NULL,
    created       INTEGER NOT NULL,
    expiry        INTEGER,                   -- NULL: never expires
    UNIQUE (user_id, id)                     -- the target of tokens' (user_id, app_id)
) STRICT;

CREATE TABLE tokens (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind      TEXT    NOT NULL,
    label     TEXT    NOT NULL,
    scopes    TEXT    NOT NULL,              -- canonical core.Scopes
    created   INTEGER NOT NULL,
    expiry    INTEGER,                       -- NULL: never expires
    prefix    TEXT    NOT NULL,
    hash      BLOB    NOT NULL UNIQUE,       -- SHA-256 of the secret, looked up by every request
    client_id TEXT    NOT NULL,
    app_id    INTEGER,                       -- NULL: not issued under an authorization
    -- A token can only belong to an authorization of its own user, and
    -- goes with it.
    FOREIGN KEY (user_id, app_id) REFERENCES apps (user_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX tokens_user_id ON tokens (user_id, id);
CREATE INDEX tokens_app_id ON tokens (app_id);

CREATE TABLE devices (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id            INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created            INTEGER NOT NULL,
    expiry             INTEGER NOT NULL,
    last_authenticated INTEGER NOT NULL,
    last_remote_addr   TEXT    NOT NULL,
    user_agent         TEXT    NOT NULL
) STRICT;
CREATE INDEX devices_user_id ON devices (user_id, id);

CREATE TABLE logins (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    datetime   INTEGER NOT NULL,
    ip         TEXT    NOT NULL,
    username   TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    restricted INTEGER NOT NULL
) STRICT;
CREATE INDEX logins_user_id_datetime ON logins (user_id, datetime);

CREATE INDEX ssh_keys_user_id ON ssh_keys (user_id, id);
CREATE INDEX apps_user_id ON apps (user_id, id);

CREATE TABLE preferences (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id TEXT    NOT NULL,
    value     TEXT    NOT NULL,              -- a JSON object, byte for byte as put
    PRIMARY KEY (user_id, client_id)
) STRICT;

CREATE TABLE security_answers (
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,            -- keeps the order they were set in
    question_id INTEGER NOT NULL,
    answer_enc  BLOB    NOT NULL,
    PRIMARY KEY (user_id, position),
    UNIQUE (user_id, question_id)
) STRICT;

CREATE TABLE scratch_codes (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash    BLOB    NOT NULL
) STRICT;
CREATE INDEX scratch_codes_user_id_hash ON scratch_codes (user_id, hash);

CREATE TABLE phone_verifications (
    user_id  INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    phone    TEXT    NOT NULL,
    iso_code TEXT    NOT NULL,
    code_enc BLOB,
    expiry   INTEGER NOT NULL
) STRICT;

-- Fixed-window attempt counters. Keys are chosen by the core and are not
-- tied to a user row, so they outlive nothing and cascade from nothing.
CREATE TABLE rate_limits (
    key      TEXT    PRIMARY KEY,
    count    INTEGER NOT NULL,
    reset_at INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE rate_limits;
DROP TABLE phone_verifications;
DROP TABLE scratch_codes;
DROP TABLE security_answers;
DROP TABLE preferences;
DROP TABLE logins;
DROP TABLE devices;
DROP TABLE tokens;
DROP TABLE apps;
DROP TABLE ssh_keys;
DROP TABLE users;
