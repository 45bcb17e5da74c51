-- A client may require a second factor (core/stepup.go): a user approves
-- its requests only from a session signed in with one (amr holding mfa),
-- and is asked for it again when the session was not.

-- +goose Up
ALTER TABLE oauth_clients ADD COLUMN require_mfa INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE oauth_clients DROP COLUMN require_mfa;
