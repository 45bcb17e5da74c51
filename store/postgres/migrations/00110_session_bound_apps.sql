-- Session-bound authorizations: the twin of store/sqlite's 00110, which says what and why.

-- +goose Up
ALTER TABLE apps ADD COLUMN session_bound boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE apps DROP COLUMN session_bound;
