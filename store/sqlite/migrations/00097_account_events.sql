-- The Linode Events API (GET /account/events): what happened to an
-- account's users, kept after the outbox delivered it (the outbox deletes
-- what it delivered). user_id is the user the event is about, which
-- restricted users are limited to; seen and read are the account's marks.

-- +goose Up
CREATE TABLE account_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL,
    username     TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    entity_type  TEXT    NOT NULL,
    entity_id    INTEGER NOT NULL,
    entity_label TEXT    NOT NULL,
    created      INTEGER NOT NULL,
    seen         INTEGER NOT NULL DEFAULT 0,
    read         INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX account_events_account ON account_events (account_id, id);

-- +goose Down
DROP TABLE account_events;
