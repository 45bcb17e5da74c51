-- The IAM face (/iam/v1/users/me), the PostgreSQL twin of store/sqlite's
-- 00003_iam.sql: what the face knows about users beyond the users table,
-- the links to an external identity provider's subjects, and avatars.
-- Every row belongs to a user and goes with it (ON DELETE CASCADE); a
-- service account outlives its owner (ON DELETE SET NULL). Empty strings
-- in iam_users are the core's defaults.

-- +goose Up
CREATE TABLE iam_users (
    user_id        bigint  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    kind           text    NOT NULL,          -- '' (human) | human | service
    first_name     text    NOT NULL,
    last_name      text    NOT NULL,
    email_verified boolean NOT NULL,
    picture_url    text    NOT NULL,
    name           text    NOT NULL,          -- service accounts
    description    text    NOT NULL,          -- service accounts
    owner_id       bigint  REFERENCES users (id) ON DELETE SET NULL,
    locale         text    NOT NULL,
    theme          text    NOT NULL,
    date_format    text    NOT NULL,
    time_format    text    NOT NULL,
    week_start     text    NOT NULL,
    landing_page   text    NOT NULL,
    security_sms   boolean NOT NULL,
    account_sms    boolean NOT NULL,
    product_email  boolean NOT NULL,
    product_sms    boolean NOT NULL
);
CREATE INDEX iam_users_owner_id ON iam_users (owner_id);

CREATE TABLE external_identities (
    provider text   NOT NULL,
    subject  text   NOT NULL,
    user_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (provider, subject),
    UNIQUE (provider, user_id)
);
CREATE INDEX external_identities_user_id ON external_identities (user_id);

CREATE TABLE avatars (
    user_id bigint      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    id      text        NOT NULL UNIQUE,      -- public and random: the URL names it
    png     bytea       NOT NULL,
    created timestamptz NOT NULL
);

-- +goose Down
DROP TABLE avatars;
DROP TABLE external_identities;
DROP TABLE iam_users;
