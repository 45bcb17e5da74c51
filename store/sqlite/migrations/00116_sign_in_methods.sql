-- How a user signed in (core.AuthMethods, an ID token's amr, RFC 8176):
-- a sign-in session keeps it in tokens.amr ("pwd", or "pwd otp mfa" after
-- a second factor), and the authorization code or device code a session
-- approves carries it to the ID token. '' is not known: a session made
-- before this migration, and every other token.

-- +goose Up
ALTER TABLE tokens ADD COLUMN amr TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth_codes ADD COLUMN amr TEXT NOT NULL DEFAULT '';
ALTER TABLE device_codes ADD COLUMN amr TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE device_codes DROP COLUMN amr;
ALTER TABLE oauth_codes DROP COLUMN amr;
ALTER TABLE tokens DROP COLUMN amr;
