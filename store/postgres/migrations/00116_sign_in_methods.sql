-- How a user signed in: the twin of store/sqlite's 00116, which says what and why.

-- +goose Up
ALTER TABLE tokens ADD COLUMN amr text NOT NULL DEFAULT '';
ALTER TABLE oauth_codes ADD COLUMN amr text NOT NULL DEFAULT '';
ALTER TABLE device_codes ADD COLUMN amr text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE device_codes DROP COLUMN amr;
ALTER TABLE oauth_codes DROP COLUMN amr;
ALTER TABLE tokens DROP COLUMN amr;
