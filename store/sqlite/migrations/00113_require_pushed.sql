-- A client may be held to pushed authorization requests (RFC 9126 6,
-- require_pushed_authorization_requests; core/par.go): its authorization
-- requests must then come by a request_uri, so that none of their
-- parameters can be written into a link by anyone but the client.

-- +goose Up
ALTER TABLE oauth_clients ADD COLUMN require_pushed INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE oauth_clients DROP COLUMN require_pushed;
