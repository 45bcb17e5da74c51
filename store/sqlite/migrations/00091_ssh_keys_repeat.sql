-- The same public key may be stored more than once in one profile, as the
-- real Linode API allows (the Terraform provider's acceptance tests add one
-- key twice). SQLite cannot drop a table constraint, so the table is built
-- again without UNIQUE (user_id, fingerprint), keeping every id and the
-- AUTOINCREMENT counter, so the id of a deleted key is never given again.

-- +goose Up
CREATE TABLE ssh_keys_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label       TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    created     INTEGER NOT NULL
) STRICT;
INSERT INTO ssh_keys_new (id, user_id, label, key, fingerprint, created)
    SELECT id, user_id, label, key, fingerprint, created FROM ssh_keys;
DELETE FROM sqlite_sequence WHERE name = 'ssh_keys_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'ssh_keys_new', seq FROM sqlite_sequence WHERE name = 'ssh_keys';
DROP TABLE ssh_keys;
ALTER TABLE ssh_keys_new RENAME TO ssh_keys;
CREATE INDEX ssh_keys_user_id ON ssh_keys (user_id, id);

-- +goose Down
-- Going back refuses while a profile holds a key twice: the constraint
-- would not hold.
CREATE TABLE ssh_keys_old (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label       TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    created     INTEGER NOT NULL,
    UNIQUE (user_id, fingerprint)
) STRICT;
INSERT INTO ssh_keys_old (id, user_id, label, key, fingerprint, created)
    SELECT id, user_id, label, key, fingerprint, created FROM ssh_keys;
DELETE FROM sqlite_sequence WHERE name = 'ssh_keys_old';
INSERT INTO sqlite_sequence (name, seq) SELECT 'ssh_keys_old', seq FROM sqlite_sequence WHERE name = 'ssh_keys';
DROP TABLE ssh_keys;
ALTER TABLE ssh_keys_old RENAME TO ssh_keys;
CREATE INDEX ssh_keys_user_id ON ssh_keys (user_id, id);
