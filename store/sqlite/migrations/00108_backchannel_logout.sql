-- OpenID Connect Back-Channel Logout 1.0 (core/logout.go): the URL a
-- relying party takes logout tokens at ('' for none); the session an
-- authorization was approved in (its sid, '' for those made before), on
-- its code and then on the authorization, so that signing out of that
-- session tells the clients it signed in to; and the issuer its ID tokens
-- named, which its logout tokens must name too.

-- +goose Up
ALTER TABLE oauth_clients ADD COLUMN backchannel_logout_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth_codes ADD COLUMN sid TEXT NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN sid TEXT NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN issuer TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE apps DROP COLUMN issuer;
ALTER TABLE apps DROP COLUMN sid;
ALTER TABLE oauth_codes DROP COLUMN sid;
ALTER TABLE oauth_clients DROP COLUMN backchannel_logout_uri;
