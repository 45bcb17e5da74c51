-- OpenID Connect (core/idtoken.go): the nonce an authorization request
-- sent and when the user signed in to approve it, which its code's ID
-- token gives back (NULL for the codes made before), and the keys that sign ID
-- tokens, shared by every process on the database. A private key is kept
-- sealed with the store's key file, as TOTP secrets are.

-- +goose Up
ALTER TABLE oauth_codes ADD COLUMN nonce TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth_codes ADD COLUMN auth_time INTEGER;
CREATE TABLE signing_keys (
    id      TEXT    PRIMARY KEY,
    created INTEGER NOT NULL,
    sealed  BLOB    NOT NULL               -- PKCS #8, sealed (core.SecretBox)
) STRICT;

-- +goose Down
DROP TABLE signing_keys;
ALTER TABLE oauth_codes DROP COLUMN auth_time;
ALTER TABLE oauth_codes DROP COLUMN nonce;
