-- Back-channel logout: the twin of store/sqlite's 00108, which says what and why.

-- +goose Up
ALTER TABLE oauth_clients ADD COLUMN backchannel_logout_uri text NOT NULL DEFAULT '';
ALTER TABLE oauth_codes ADD COLUMN sid text NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN sid text NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN issuer text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE apps DROP COLUMN issuer;
ALTER TABLE apps DROP COLUMN sid;
ALTER TABLE oauth_codes DROP COLUMN sid;
ALTER TABLE oauth_clients DROP COLUMN backchannel_logout_uri;
