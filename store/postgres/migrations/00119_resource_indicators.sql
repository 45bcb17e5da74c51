-- Resource indicators: the twin of store/sqlite's 00119, which says what and why.

-- +goose Up
ALTER TABLE oauth_codes ADD COLUMN resource text NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN resource text NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN resource text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE tokens DROP COLUMN resource;
ALTER TABLE apps DROP COLUMN resource;
ALTER TABLE oauth_codes DROP COLUMN resource;
