-- The same public key may be stored more than once in one profile, as the
-- real Linode API allows (the Terraform provider's acceptance tests add one
-- key twice): the UNIQUE (user_id, fingerprint) of 00001 goes. The twin of
-- store/sqlite's 00091; ssh_keys_user_id still indexes the user's keys.

-- +goose Up
ALTER TABLE ssh_keys DROP CONSTRAINT IF EXISTS ssh_keys_user_id_fingerprint_key;

-- +goose Down
-- Fails, naming the constraint, while a profile holds a key twice.
ALTER TABLE ssh_keys ADD CONSTRAINT ssh_keys_user_id_fingerprint_key UNIQUE (user_id, fingerprint);
