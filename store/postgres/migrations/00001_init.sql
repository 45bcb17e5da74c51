-- The initial schema, the PostgreSQL twin of store/sqlite's. Times are
-- timestamptz written in whole seconds; identities are never reused. Every
-- table that belongs to a user refers to users with ON DELETE CASCADE, so
-- deleting a user removes everything they own. Text that lists filter or
-- order on uses COLLATE "C": byte order, as SQLite's BINARY compares, so
-- both stores sort and compare labels alike whatever the database locale.

-- +goose Up
CREATE TABLE users (
    id                     bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username               text    NOT NULL UNIQUE,
    email                  text    NOT NULL,
    timezone               text    NOT NULL,
    email_notifications    boolean NOT NULL,
    ip_whitelist_enabled   boolean NOT NULL,
    lish_auth_method       text    NOT NULL,
    authorized_keys        text[],                -- NULL: a nil list, '{}' an empty one
    restricted             boolean NOT NULL,
    two_factor_auth        boolean NOT NULL,
    authentication_type    text    NOT NULL,
    verified_phone_number  text    NOT NULL,
    referral_code          text    NOT NULL,
    created                timestamptz NOT NULL,
    -- Two-factor state (core.TFAState): all NULL/0 until first set.
    tfa_secret_enc         bytea,
    tfa_pending_secret_enc bytea,
    tfa_pending_expiry     timestamptz,           -- NULL: the zero time
    tfa_last_step          bigint  NOT NULL DEFAULT 0,
    -- A restricted user's grants as JSON text, byte for byte; NULL when none were stored.
    grants                 text
);

CREATE TABLE ssh_keys (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label       text COLLATE "C" NOT NULL,
    key         text   NOT NULL,
    fingerprint text   NOT NULL,
    created     timestamptz NOT NULL,
    UNIQUE (user_id, fingerprint)
);
CREATE INDEX ssh_keys_user_id ON ssh_keys (user_id, id);

CREATE TABLE apps (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id     text   NOT NULL,
    label         text COLLATE "C" NOT NULL,
    scopes        text   NOT NULL,
    website       text   NOT NULL,
    thumbnail_url text   NOT NULL,
    created       timestamptz NOT NULL,
    expiry        timestamptz,                   -- NULL: never expires
    UNIQUE (user_id, id)                         -- the target of tokens' (user_id, app_id)
);
CREATE INDEX apps_user_id ON apps (user_id, id);

CREATE TABLE tokens (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind      text   NOT NULL,
    label     text COLLATE "C" NOT NULL,
    scopes    text   NOT NULL,                   -- canonical core.Scopes
    created   timestamptz NOT NULL,
    expiry    timestamptz,                       -- NULL: never expires
    prefix    text   NOT NULL,
    hash      bytea  NOT NULL,                   -- SHA-256 of the secret, looked up by every request
    client_id text   NOT NULL,
    app_id    bigint,                            -- NULL: not issued under an authorization
    CONSTRAINT tokens_hash_key UNIQUE (hash),
    -- A token can only belong to an authorization of its own user, and
    -- goes with it. MATCH SIMPLE: a NULL app_id is not checked.
    FOREIGN KEY (user_id, app_id) REFERENCES apps (user_id, id) ON DELETE CASCADE
);
CREATE INDEX tokens_user_id ON tokens (user_id, id);
CREATE INDEX tokens_app_id ON tokens (app_id);

CREATE TABLE devices (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id            bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created            timestamptz NOT NULL,
    expiry             timestamptz NOT NULL,
    last_authenticated timestamptz NOT NULL,
    last_remote_addr   text   NOT NULL,
    user_agent         text   NOT NULL
);
CREATE INDEX devices_user_id ON devices (user_id, id);

CREATE TABLE logins (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    datetime   timestamptz NOT NULL,
    ip         text COLLATE "C" NOT NULL,
    username   text COLLATE "C" NOT NULL,
    status     text COLLATE "C" NOT NULL,
    restricted boolean NOT NULL
);
CREATE INDEX logins_user_id_datetime ON logins (user_id, datetime);

CREATE TABLE preferences (
    user_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id text   NOT NULL,
    value     text   NOT NULL,                   -- a JSON object, byte for byte as put (not jsonb)
    PRIMARY KEY (user_id, client_id)
);

CREATE TABLE security_answers (
    user_id     bigint  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position    integer NOT NULL,                -- keeps the order they were set in
    question_id integer NOT NULL,
    answer_enc  bytea   NOT NULL,
    PRIMARY KEY (user_id, position),
    UNIQUE (user_id, question_id)
);

CREATE TABLE scratch_codes (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash    bytea  NOT NULL
);
CREATE INDEX scratch_codes_user_id_hash ON scratch_codes (user_id, hash);

CREATE TABLE phone_verifications (
    user_id  bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    phone    text   NOT NULL,
    iso_code text   NOT NULL,
    code_enc bytea,
    expiry   timestamptz NOT NULL
);

-- Fixed-window attempt counters. Keys are chosen by the core and are not
-- tied to a user row, so they cascade from nothing.
CREATE TABLE rate_limits (
    key      text    PRIMARY KEY,
    count    integer NOT NULL,
    reset_at timestamptz NOT NULL
);

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
