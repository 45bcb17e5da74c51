-- An authorization whose tokens end with the sign-in session it was
-- approved in (core.App.SessionBound): an OpenID Connect sign-in without
-- offline_access. Those made before keep their tokens, as they were
-- promised.

-- +goose Up
ALTER TABLE apps ADD COLUMN session_bound INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE apps DROP COLUMN session_bound;
