-- Clients that publish their keys (private_key_jwt with a jwks_uri,
-- RFC 7591 2; core/clientkeys.go): oauth_clients.jwks_uri is the URL of
-- the JWK Set they sign client assertions with, read and cached by each
-- replica, so that a client rotates its keys without the operator. A
-- client keeps its keys in jwks or publishes them at jwks_uri, not both.

-- +goose Up
ALTER TABLE oauth_clients ADD COLUMN jwks_uri TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE oauth_clients DROP COLUMN jwks_uri;
