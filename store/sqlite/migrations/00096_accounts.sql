-- Accounts (docs/accounts.md): an account holds users, its unrestricted
-- users manage the others, and nothing of one account is visible to
-- another. Each existing user becomes the owner of an account of their
-- own, with the user's id as the account's id and the user's creation as
-- its active_since. Logins and OAuth clients belong to an account too;
-- a client registered by the operator (profiled clients create) belongs
-- to none. Users gain disabled (profiled users disable), passwords the
-- time they were set (password_created).

-- +goose Up
CREATE TABLE accounts (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    euuid    TEXT    NOT NULL UNIQUE,
    created  INTEGER NOT NULL,
    contact  TEXT    NOT NULL DEFAULT '{}',   -- JSON: the contact fields the owner sets
    settings TEXT    NOT NULL DEFAULT '{}'    -- JSON: the account settings
) STRICT;
INSERT INTO accounts (id, euuid, created)
    SELECT id, lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' ||
        substr('89ab', 1 + abs(random() % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))), created
    FROM users;

-- SQLite adds a column with a foreign key only as nullable; the store
-- always writes it.
ALTER TABLE users ADD COLUMN account_id INTEGER REFERENCES accounts (id) ON DELETE CASCADE;
UPDATE users SET account_id = id;
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
CREATE INDEX users_account ON users (account_id, id);

ALTER TABLE passwords ADD COLUMN created INTEGER;

ALTER TABLE logins ADD COLUMN account_id INTEGER;
UPDATE logins SET account_id = (SELECT u.account_id FROM users u WHERE u.id = logins.user_id);
CREATE INDEX logins_account ON logins (account_id, id);

ALTER TABLE oauth_clients ADD COLUMN account_id INTEGER REFERENCES accounts (id) ON DELETE CASCADE;
ALTER TABLE oauth_clients ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
ALTER TABLE oauth_clients ADD COLUMN thumbnail BLOB;
CREATE INDEX oauth_clients_account ON oauth_clients (account_id, id);
-- Deleting a client deletes its codes (ON DELETE CASCADE): by an index.
CREATE INDEX oauth_codes_client ON oauth_codes (client_id);
CREATE INDEX apps_client ON apps (client_id);

-- +goose Down
DROP INDEX apps_client;
DROP INDEX oauth_codes_client;
DROP INDEX oauth_clients_account;
ALTER TABLE oauth_clients DROP COLUMN thumbnail;
ALTER TABLE oauth_clients DROP COLUMN status;
ALTER TABLE oauth_clients DROP COLUMN account_id;
DROP INDEX logins_account;
ALTER TABLE logins DROP COLUMN account_id;
ALTER TABLE passwords DROP COLUMN created;
DROP INDEX users_account;
ALTER TABLE users DROP COLUMN disabled;
ALTER TABLE users DROP COLUMN account_id;
DROP TABLE accounts;
