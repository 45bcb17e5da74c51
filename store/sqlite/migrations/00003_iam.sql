-- The IAM face (/iam/v1/users/me): what it knows about users beyond the
-- users table, the links to an external identity provider's subjects, and
-- avatars. Every row belongs to a user and goes with it (ON DELETE
-- CASCADE); a service account outlives its owner (ON DELETE SET NULL).
-- Empty strings in iam_users are the core's defaults.

-- +goose Up
CREATE TABLE iam_users (
    user_id        INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    kind           TEXT    NOT NULL,          -- '' (human) | human | service
    first_name     TEXT    NOT NULL,
    last_name      TEXT    NOT NULL,
    email_verified INTEGER NOT NULL,
    picture_url    TEXT    NOT NULL,
    name           TEXT    NOT NULL,          -- service accounts
    description    TEXT    NOT NULL,          -- service accounts
    owner_id       INTEGER REFERENCES users (id) ON DELETE SET NULL,
    locale         TEXT    NOT NULL,
    theme          TEXT    NOT NULL,
    date_format    TEXT    NOT NULL,
    time_format    TEXT    NOT NULL,
    week_start     TEXT    NOT NULL,
    landing_page   TEXT    NOT NULL,
    security_sms   INTEGER NOT NULL,
    account_sms    INTEGER NOT NULL,
    product_email  INTEGER NOT NULL,
    product_sms    INTEGER NOT NULL
) STRICT;
CREATE INDEX iam_users_owner_id ON iam_users (owner_id);

CREATE TABLE external_identities (
    provider TEXT    NOT NULL,
    subject  TEXT    NOT NULL,
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (provider, subject),
    UNIQUE (provider, user_id)
) STRICT;
CREATE INDEX external_identities_user_id ON external_identities (user_id);

CREATE TABLE avatars (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    id      TEXT    NOT NULL UNIQUE,          -- public and random: the URL names it
    png     BLOB    NOT NULL,
    created INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE avatars;
DROP TABLE external_identities;
DROP TABLE iam_users;
