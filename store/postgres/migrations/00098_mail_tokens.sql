-- One-use tokens sent by mail: the twin of store/sqlite's 00098, which
-- says why.

-- +goose Up
CREATE TABLE mail_tokens (
    hash    bytea PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose text COLLATE "C" NOT NULL,
    created timestamptz NOT NULL,
    expiry  timestamptz NOT NULL,
    used    boolean NOT NULL DEFAULT false
);
CREATE INDEX mail_tokens_user ON mail_tokens (user_id, purpose);
CREATE INDEX users_email_lower ON users (lower(email));

-- +goose Down
DROP INDEX users_email_lower;
DROP TABLE mail_tokens;
