-- One-use tokens sent by mail (docs/mail.md): a password recovery link
-- now, an address verification or an invitation later. Only the token's
-- SHA-256 is kept. Users are found by their email, regardless of case,
-- through an index.

-- +goose Up
CREATE TABLE mail_tokens (
    hash    BLOB    PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT    NOT NULL,
    created INTEGER NOT NULL,
    expiry  INTEGER NOT NULL,
    used    INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX mail_tokens_user ON mail_tokens (user_id, purpose);
CREATE INDEX users_email_nocase ON users (email COLLATE NOCASE);

-- +goose Down
DROP INDEX users_email_nocase;
DROP TABLE mail_tokens;
