-- The outbox: the twin of store/sqlite's 00094, which says why. Replicas
-- claim messages with FOR UPDATE SKIP LOCKED, so two never take the same.

-- +goose Up
CREATE TABLE outbox (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic      text COLLATE "C" NOT NULL,
    payload    bytea NOT NULL,
    created    timestamptz NOT NULL,
    not_before timestamptz NOT NULL,
    attempts   integer NOT NULL DEFAULT 0,
    last_error text NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (topic, not_before, id);

-- +goose Down
DROP TABLE outbox;
