-- The resource of a device authorization request: the twin of store/sqlite's 00120, which says what and why.

-- +goose Up
ALTER TABLE device_codes ADD COLUMN resource text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE device_codes DROP COLUMN resource;
