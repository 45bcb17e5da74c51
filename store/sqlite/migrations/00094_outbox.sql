-- The outbox: work that must happen after a change (a security event for
-- the webhook; mail later), written in the transaction of the change and
-- deleted once delivered. not_before is when a message is next due: a
-- worker's claim moves it past the worker's lease, a failure to the
-- retry's backoff. See core/store_outbox.go.

-- +goose Up
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    topic      TEXT    NOT NULL,
    payload    BLOB    NOT NULL,
    created    INTEGER NOT NULL,
    not_before INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX outbox_due ON outbox (topic, not_before, id);

-- +goose Down
DROP TABLE outbox;
