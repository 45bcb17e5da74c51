-- Resource indicators (RFC 8707, core/resource.go): the resource an
-- authorization request named, which its code carries to the
-- authorization (apps.resource) and each access token it issues
-- (tokens.resource), whose audience it is. '' for none: a token for any
-- resource, profiled's own API among them.

-- +goose Up
ALTER TABLE oauth_codes ADD COLUMN resource TEXT NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN resource TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN resource TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE tokens DROP COLUMN resource;
ALTER TABLE apps DROP COLUMN resource;
ALTER TABLE oauth_codes DROP COLUMN resource;
