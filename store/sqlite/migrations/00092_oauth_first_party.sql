-- An operator marks an OAuth client first-party (the platform's own
-- console, as Cloud Manager is for Linode): its tokens may create personal
-- access tokens of any lifetime and take the account-takeover operations
-- (TFA, scratch codes, security answers, password, deleting the user),
-- which third-party applications' tokens may not, whatever their scopes.

-- +goose Up
ALTER TABLE oauth_clients ADD COLUMN first_party INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE oauth_clients DROP COLUMN first_party;
